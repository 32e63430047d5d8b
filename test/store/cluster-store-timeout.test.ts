/**
 * `pushq serve --cluster --store-timeout-seconds S` on a real PostgreSQL: a cluster node's
 * statements are bounded by S as a single node's are (docs/cluster.md, "A store that does not
 * answer"), its node list and storage figures included, which had no bound at all: a lock another
 * session held on pushq_nodes held the node's heartbeat up for as long as it was held. Before, the
 * flag was refused with --cluster, and a node kept 30 s. The lines name the session holding the
 * lock (its pid, application_name), while the node waits and in the STORE_TIMEOUT: before, a
 * running node's said only "held by another session", and a starting node said nothing.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';
import { serveStoreFixture } from './serve-store-fixture.js';

const fx = serveStoreFixture('pushq-cluster-timeout-', 'queue:\n- name: work\n  rate: 1/s\n');

/** A session of the test's holding `table` locked (ACCESS EXCLUSIVE) until `release`. */
async function holdLock(url: string, table: string): Promise<{ pid: number; release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url, application_name: 'psql' });
  await c.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    pid,
    async release() {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

async function until(what: string, ok: () => boolean, timeoutMs = 45_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !ok(); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

describe('--cluster --store-timeout-seconds', () => {
  it('bounds a running node\'s statements (its heartbeat on pushq_nodes) and its start (pushq_schema) by S, STORE_TIMEOUT naming S', async () => {
    const url = await fx.pg.database();
    const node = await startServe(['--config', fx.queueYamlPath, '--store', url, '--cluster', '--store-timeout-seconds', '1'], 60_000);
    fx.children.push(node);
    const nodes = await holdLock(url, 'pushq_nodes');
    try {
      // (Until a failure names the holder: on a loaded machine the lookup of one wait may come too late.)
      await until('the node reports its heartbeat held up by the lock, naming who holds it', () => /did not come free within 1 s \(55P03[^\n]*seen while it waited/.test(node.stdout()));
    } finally {
      await nodes.release();
    }
    expect(node.stdout()).toMatch(/cannot reach the store \(postgres:\/\/postgres:\*\*\*@[^ ]+: a lock on pushq's tables, held by another session, did not come free within 1 s \(55P03/);
    // Who held it: named in the line (the session's pid, its application_name), and said while the heartbeat waited.
    expect(node.stdout()).toMatch(new RegExp(`did not come free within 1 s \\(55P03[^\n]*seen while it waited: waiting for \\w+ on table pushq_nodes, held up by session pid ${nodes.pid} \\(user postgres, application "psql", from 127\\.0\\.0\\.1, in a transaction since `));
    expect(node.stdout()).toMatch(new RegExp(`\\npushq serve: node \\S+: waiting for \\w+ on table pushq_nodes, held up by session pid ${nodes.pid} \\(user postgres, application "psql"`));
    await until('the node says the store answers again', () => node.stdout().includes('the store answers again'));
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);

    const schema = await holdLock(url, 'pushq_schema');
    try {
      const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--config', fx.queueYamlPath, '--store', url, '--cluster', '--store-timeout-seconds', '1'], { timeoutMs: 60_000 });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('did not come free within 1 s (55P03');
      expect(refused.stderr.trimEnd()).toMatch(/\(STORE_TIMEOUT\)$/);
      // While it waited, a start said what for and on whom (a half-second in, its bound being 1 s); its error names the holder too.
      expect(refused.stdout).toMatch(new RegExp(`pushq serve: starting: node \\S+: waiting for AccessShareLock on table pushq_schema, held up by session pid ${schema.pid} \\(user postgres, application "psql"`));
      expect(refused.stderr).toContain(`held up by session pid ${schema.pid} (user postgres, application "psql"`);
    } finally {
      await schema.release();
    }
  }, 180_000);
});
