/**
 * The store's password kept off the command line (where `ps` shows it to every user of the
 * machine): a `--store` URL without one takes it from PGPASSWORD or the password file (PGPASSFILE,
 * else ~/.pgpass), as psql does (src/store/pg-password.ts, docs/cluster.md). Given by neither, the
 * start is refused at once, STORE_AUTH_FAILED naming the ways to give one: node-postgres alone
 * failed it as STORE_FAILED ("client password must be a string") and left the connection open,
 * so the command printed its error and hung until the server's authentication_timeout (60 s).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_PASSWORD } from '../helpers/pg-cluster.js';
import { pushq } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';

const fx = serveStoreFixture('pushq-pgpassword-', 'queue:\n- name: work\n  rate: 1/s\n');

/** `url` without its password, and an environment with no password in it (no PGPASSWORD; a password file that is not there). */
function withoutPassword(url: string): { bare: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  u.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: join(fx.dir, 'no-such-pgpass') };
  delete env['PGPASSWORD'];
  return { bare: u.toString(), env };
}

// Well under the server's 60 s authentication_timeout, which ended the hang before the fix.
const REFUSED_WITHIN_MS = 30_000;

describe('--store without a password in the URL', () => {
  it('none given anywhere: serve and replay are refused at once, STORE_AUTH_FAILED naming PGPASSWORD and ~/.pgpass, exit 1', async () => {
    const { bare, env } = withoutPassword(await fx.pg.database());
    for (const args of [['serve', '--port', '0', '--grpc-port', '0', '--store', bare], ['replay', bare]]) {
      const r = await pushq(args, { env, timeoutMs: REFUSED_WITHIN_MS });
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain('the store asks for a password for user "postgres" and none was given: set PGPASSWORD, or put it in ~/.pgpass');
      expect(r.stderr, args[0]).toMatch(/\(STORE_AUTH_FAILED\)\n$/);
    }
  }, 120_000);

  it('PGPASSWORD: serve runs on it, and replay reads the log it wrote', async () => {
    const { bare, env } = withoutPassword(await fx.pg.database());
    const served = await startServe(['--config', fx.queueYamlPath, '--store', bare], 60_000, undefined, { env: { ...env, PGPASSWORD: PG_PASSWORD } as Record<string, string> });
    fx.children.push(served);
    expect(await createWork(served.api, 'one')).toBe(200);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    const replayed = await pushq(['replay', bare, '--json'], { env: { ...env, PGPASSWORD: PG_PASSWORD }, timeoutMs: 60_000 });
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout).queues.work.stats.tasks_added).toBe(1);
  }, 120_000);

  it('a password file (PGPASSFILE) of mode 0600 is read, without a warning; one that others may read is ignored', async () => {
    const { bare, env } = withoutPassword(await fx.pg.database());
    const file = join(fx.dir, 'pgpass');
    writeFileSync(file, `127.0.0.1:${fx.pg.port}:*:postgres:${PG_PASSWORD}\n`);
    chmodSync(file, 0o600);
    const read = await pushq(['replay', bare], { env: { ...env, PGPASSFILE: file }, timeoutMs: 60_000 });
    // The password was accepted: what is refused is the empty database (no serve log in it yet).
    expect(read.stderr).toMatch(/no pushq serve log in this store \(STORE_FAILED\)\n$/);
    expect(read.stderr).not.toContain('Warning'); // node-postgres's own reading of the file printed a DeprecationWarning
    chmodSync(file, 0o644);
    const ignored = await pushq(['replay', bare], { env: { ...env, PGPASSFILE: file }, timeoutMs: REFUSED_WITHIN_MS });
    expect(ignored.code).toBe(1);
    expect(ignored.stderr).toContain('has group or world access');
    expect(ignored.stderr).toContain('(STORE_AUTH_FAILED)');
  }, 120_000);
});
