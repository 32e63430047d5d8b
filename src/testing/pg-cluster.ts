/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary directory (as the unprivileged
 * `postgres` user when the tests run as root: initdb refuses root), a free port on 127.0.0.1,
 * password authentication over TCP (so a wrong password is refused), stopped and removed by
 * `stop()`. With PUSHQ_TEST_PG_URL set, that server is used instead and nothing is started.
 *
 * Each test takes a fresh database (`database()`), so tests never see each other's streams.
 *
 * With PUSHQ_TEST_PG_TEMPLATE naming a data directory made by `makePgTemplate` (test/global-setup.ts
 * makes one per test run), a cluster starts from a copy of it instead of running initdb: the same
 * files (initdb with the same options and password), ~0.3 s to copy against ~1.2 s for initdb on
 * the 2-core machine.
 *
 * In src/ (not test/) so that scripts running the built code use it too (`npm run swarm -- --store
 * pg`); test/helpers/pg-cluster.ts re-exports it. Not part of the public test kit (src/testing/index.ts).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_PASSWORD = 'pushq-test-secret';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql; `npm test` runs .ci/ensure-postgres.sh), or set PUSHQ_TEST_PG_URL');
  majors.sort((a, b) => Number(b) - Number(a));
  return join(root, majors[0]!, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** URL of the server's `postgres` database (with the password). */
  readonly adminUrl: string;
  readonly port: number;
  /** A new, empty database; its URL. */
  database(): Promise<string>;
  /** Stops the server (fast, like a lost store) and starts it again: tests of an outage. */
  halt(): void;
  resume(): void;
  stop(): Promise<void>;
}

let counter = 0;

export async function startPgCluster(): Promise<PgCluster> {
  const given = process.env['PUSHQ_TEST_PG_URL'];
  if (given !== undefined && given !== '') return externalCluster(given);
  const template = process.env['PUSHQ_TEST_PG_TEMPLATE'];
  const { dir, data, run } = newCluster(template !== undefined && template !== '' && existsSync(join(template, 'PG_VERSION')) ? template : null);
  const log = join(dir, 'server.log');
  let port = 0;
  // fsync stays on (the default): the tests check durability, not speed.
  const start = (): void => run('pg_ctl', ['-D', data, '-l', log, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, '-w', '-t', '60', 'start']);
  const halt = (): void => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  // A failed start leaves nothing: no server half started, no directory (a data directory each).
  // The port was free when picked, and another process may take it before the server binds it:
  // then a new one is picked. Any other failure is thrown with the server's own reason.
  for (let tries = 1; ; tries++) {
    port = await freePort();
    const logged = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    try {
      start();
      break;
    } catch (err) {
      const reason = existsSync(log) ? readFileSync(log, 'utf8').slice(logged) : '';
      try {
        halt();
      } catch {
        // Not running: nothing to stop.
      }
      if (tries < 3 && /could not bind|Address already in use/i.test(reason)) continue;
      rmSync(dir, { recursive: true, force: true });
      const tail = reason.trimEnd().split('\n').slice(-10).join('\n');
      throw new Error(`the test PostgreSQL did not start (pg_ctl start, port ${port}, ${tries} tr${tries === 1 ? 'y' : 'ies'}): ${tail === '' ? (err as Error).message : `server log:\n${tail}`}`);
    }
  }
  const adminUrl = `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    adminUrl,
    port,
    database: () => createDatabase(adminUrl),
    halt,
    resume: start,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        halt();
      } catch {
        // Already stopped (a test halted it).
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * initdb once, into a directory of its own: a template for startPgCluster, which copies it when
 * PUSHQ_TEST_PG_TEMPLATE names its `dataDir`. `remove()` deletes it.
 */
export function makePgTemplate(): { dataDir: string; remove(): void } {
  const { dir, data } = newCluster(null);
  return { dataDir: data, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A cluster's directory and its data directory: initdb's, or a copy of `template` (cp -a, by the
 * server's user as initdb would be: the same owner and modes); and how to run its commands.
 */
function newCluster(template: string | null): { dir: string; data: string; run: (cmd: string, args: string[]) => void } {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'pushq-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // pg_ctl start leaves the server running with the descriptors it was given: pipes would keep
  // execFileSync waiting for the server to exit, so it gets none (its output goes to server.log).
  const run = (cmd: string, args: string[]): void => {
    const full = cmd === 'cp' ? 'cp' : join(bin, cmd);
    const stdio = cmd === 'pg_ctl' ? 'ignore' : 'pipe';
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio });
    else execFileSync(full, args, { stdio });
  };
  try {
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, PG_PASSWORD + '\n');
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    if (template === null) run('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8']);
    else run('cp', ['-a', template, data]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true }); // a half-made cluster is of no use to anyone
    throw err;
  }
  return { dir, data, run };
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `pushq_t${process.pid}_${++counter}_${Date.now() % 100000}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function externalCluster(url: string): PgCluster {
  const u = new URL(url);
  const refuse = (): never => {
    throw new Error('PUSHQ_TEST_PG_URL is set: this test needs to stop and start the server, which only the throwaway cluster can');
  };
  return { adminUrl: url, port: Number(u.port || 5432), database: () => createDatabase(url), halt: refuse, resume: refuse, stop: async () => undefined };
}
