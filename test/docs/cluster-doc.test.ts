/**
 * docs/cluster.md, what a user relies on: the command that starts a node runs as written (its
 * machine's addresses, database, token file and app made this run's: a throwaway PostgreSQL, the
 * password from PGPASSWORD as the doc advises, a free port); the flags it names are pushq serve's
 * and pushq replay's, with the defaults they say; the tables it names are the ones pushq creates
 * (the `pushq_storage` shape and the column statements a refusal names included); the fold
 * snapshot's format version is the one written; the environment variables it names are read; and
 * every file of the repository it names is there. The behaviours themselves are the tests' of
 * test/cluster and test/store, which the doc names.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPLAY } from '../../src/cli/replay.js';
import { SERVE } from '../../src/cli/serve.js';
import { storeLeaseMs } from '../../src/cli/serve-store.js';
import { NODES_TABLE, NODES_TABLE_COLUMNS } from '../../src/cluster/membership.js';
import { STORAGE_TABLE, storageRoundMs } from '../../src/cluster/storage-budget.js';
import { FOLD_SNAPSHOT_VERSION } from '../../src/server/fold-snapshot.js';
import { tablesCreatedBy } from '../../src/store/pg-errors.js';
import { STORE_STATEMENT_TIMEOUT_MS } from '../../src/store/pg-options.js';
import { STORE_SCHEMA_VERSION, STORE_TABLES } from '../../src/store/pg-schema.js';
import { blockAfter, docText, missingPaths, section } from '../helpers/doc-text.js';
import { PG_PASSWORD, freePort, pgForTheseTests } from '../helpers/pg-cluster.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const doc = docText('cluster.md');
/** The doc with its line breaks as spaces: a phrase may be wrapped anywhere. */
const flat = doc.replace(/\s+/g, ' ');
const fx = pgForTheseTests();

describe('docs/cluster.md, the names it gives', () => {
  it('the flags it names are pushq serve’s or pushq replay’s', () => {
    const known = new Set([...Object.keys(SERVE.flags), ...Object.keys(REPLAY.flags)]);
    // `npm run swarm -- --store pg` names the swarm script's flag (docs/testing.md's test checks those).
    const named = [...doc.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect([...new Set(named)].filter((f) => !known.has(f))).toEqual([]);
  });

  it('the defaults it gives --lease-seconds and --store-timeout-seconds are the flags’ own', () => {
    const lease = /`--lease-seconds S` \(default (\d+)\)/.exec(doc)?.[1];
    expect(lease, '--lease-seconds default').toBeDefined();
    expect(SERVE.flags['lease-seconds'].help).toContain(`(default ${lease})`);
    const timeout = /`--store-timeout-seconds S` \(default (\d+)\)/.exec(doc)?.[1];
    expect(Number(timeout)).toBe(STORE_STATEMENT_TIMEOUT_MS / 1000);
    expect(flat).toContain(`\`PgStoreOptions.statementTimeoutMs\`, default ${STORE_STATEMENT_TIMEOUT_MS / 1000} s`);
    expect(SERVE.flags['store-timeout-seconds'].help).toContain(`(default ${STORE_STATEMENT_TIMEOUT_MS / 1000})`);
  });

  it('the tables it names are the ones pushq creates, the store’s and a cluster’s', () => {
    const storeRow = /^\| where \|.*\|(.*)\|$/m.exec(doc)?.[1] ?? '';
    expect([...storeRow.matchAll(/`(pushq_\w+)`/g)].map((m) => m[1])).toEqual([...STORE_TABLES]);
    const clusterTables = tablesCreatedBy([NODES_TABLE, STORAGE_TABLE]);
    expect([...new Set(doc.match(/\bpushq_[a-z_]+\b/g))].sort()).toEqual([...STORE_TABLES, ...clusterTables].sort());
    expect(flat).toContain(`\`STORE_SCHEMA_VERSION\` stays ${STORE_SCHEMA_VERSION}`);
  });

  it('pushq_storage’s shape, and the statements a refusal names for an older pushq_nodes, are the source’s', () => {
    const columns = (sql: string) => [...sql.matchAll(/^\s+(\w+) ([A-Z]+(?: PRIMARY KEY)?)/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');
    expect(flat).toContain(`\`pushq_storage (${columns(STORAGE_TABLE)})\``);
    expect(flat).toContain(`\`${NODES_TABLE_COLUMNS[0]}; ...\``);
  });

  it('the fold snapshot’s format version, in its head and in the checks a read makes, is the one written', () => {
    const snapshots = section(doc, '### Snapshots: a takeover folds only what came after the last one');
    const versions = [...snapshots.matchAll(/version:? (\d+)/g)].map((m) => Number(m[1]));
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions.every((v) => v === FOLD_SNAPSHOT_VERSION), `versions named: ${versions.join(', ')}`).toBe(true);
  });

  it('PUSHQ_STORAGE_ROUND_MS sets the round, 200 ms without it, as it says', () => {
    expect(flat).toContain('Every round (200 ms; `PUSHQ_STORAGE_ROUND_MS=N` sets another period');
    expect([storageRoundMs({}), storageRoundMs({ PUSHQ_STORAGE_ROUND_MS: '100' })]).toEqual([200, 100]);
  });

  it('PUSHQ_STORE_LEASE_MS sets one node’s lease on its store, 15 s without it, as it says', () => {
    expect(flat).toContain('one per process, 15 s, renewed every 5 s; `PUSHQ_STORE_LEASE_MS=N` sets another lifetime');
    expect([storeLeaseMs({}), storeLeaseMs({ PUSHQ_STORE_LEASE_MS: '5000' }), storeLeaseMs({ PUSHQ_STORE_LEASE_MS: '10' })]).toEqual([15_000, 5000, 15_000]);
  });

  it('every file of this repository it names is there', () => {
    expect(missingPaths(doc)).toEqual([]);
  });
});

describe('docs/cluster.md, "Several nodes": the command runs as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-cluster-doc-'));
  let worker: Worker | undefined;
  let node: ServeProcess | undefined;
  afterAll(async () => {
    node?.child.kill('SIGKILL');
    await node?.exited;
    await worker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a node starts, owns every queue, asks for the token and dispatches to the target', async () => {
    const block = blockAfter(section(doc, '## Several nodes: `pushq serve --store postgres://... --cluster`'), '```sh', 'sh');
    const command = block.replace(/#.*\n/g, '').replace(/\\\n/g, ' ').trim();
    expect(command.startsWith('pushq serve ')).toBe(true);
    worker = await startWorker();
    const port = await freePort();
    const database = new URL(await fx.pg.database());
    database.password = ''; // the password from PGPASSWORD, as the doc's comment says
    const token = 'cluster-doc-token-0123456789abcdef';
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${token}\n`);
    chmodSync(tokenFile, 0o600);
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: mail\n  rate: 5/s\n');
    const args = command
      .slice('pushq serve '.length)
      .replace('postgres://pushq@db:5432/pushq', database.toString())
      .replaceAll('10.0.0.5:8123', `127.0.0.1:${port}`)
      .replace('10.0.0.5', '127.0.0.1')
      .replace('/etc/pushq/token', tokenFile)
      .replace('http://app:8080', worker.url)
      .split(/\s+/);
    node = await startServe([...args, '--port', String(port)], undefined, dir, { env: { PGPASSWORD: PG_PASSWORD } });
    const auth = { authorization: `Bearer ${token}` };
    const health = async () => (await (await fetch(`${node!.url}/pushq/health`, { headers: auth })).json()) as { owns: string[] };
    const until = Date.now() + 20_000;
    while ((await health()).owns.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect((await health()).owns.sort()).toEqual(['default', 'mail']);
    expect((await fetch(`${node.api}/mail/tasks`)).status).toBe(401);
    const created = await fetch(`${node.api}/mail/tasks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/cluster-doc' } } }),
    });
    expect(created.status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/cluster-doc'), EVENT_BOUND_MS, '/cluster-doc');
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    expect(node.stderr()).not.toContain(PG_PASSWORD);
  }, 90_000);
});
