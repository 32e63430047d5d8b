/**
 * Cluster mode and its store: a bad store is refused at start (exit 1, URL with its password
 * hidden, nothing written), and a busy port as on one node (PORT_IN_USE); losing the store while running stops every queue when its lease's
 * validity ends (calls answer 503, nothing dispatched), and when the store is back the nodes take
 * their queues again and carry on, nothing acknowledged lost.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { PG_PASSWORD, freePort } from '../helpers/pg-cluster.js';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { count, createTasks, queueYaml, spread, startNode, startNodes, waitUntil, writeQueueYaml, clusterFixture } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-store-');
const { nodes, workers } = fx;

describe('pushq serve --cluster and its store', () => {
  it('refuses an unreachable store, wrong credentials, and the other mode’s store at start: exit 1, password hidden, nothing written', async () => {
    const port = await freePort();
    const unreachable = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--cluster', '--store', `postgres://u:hunter2@127.0.0.1:${port}/db`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`postgres://u:***@127.0.0.1:${port}/db`);
    expect(unreachable.stderr).toContain('STORE_UNAVAILABLE');
    expect(unreachable.stderr).not.toContain('hunter2');

    const url = await fx.pg.database();
    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--cluster', '--store', url.replace(PG_PASSWORD, 'not-the-password')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('STORE_AUTH_FAILED');
    expect(refused.stderr).not.toContain('not-the-password');
    expect(await count(url, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE 'pushq_%'`)).toBe(0);

    // The two modes keep different streams; neither starts on the other's store.
    const singleUrl = await fx.pg.database();
    const single = await startServe(['--store', singleUrl], 60_000);
    single.child.kill('SIGTERM');
    expect(await single.exited).toBe(0);
    const clusterOnSingle = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--cluster', '--store', singleUrl]);
    expect(clusterOnSingle.code).toBe(1);
    expect(clusterOnSingle.stderr).toContain("holds a single node's log");
    const clusterUrl = await fx.pg.database();
    const member = await startNode(['--store', clusterUrl, '--lease-seconds', '2']);
    await waitUntil('the node owning the default queue', () => member.lines.some((l) => l.text.includes('owns queue default')), 20_000);
    member.proc.child.kill('SIGTERM');
    expect(await member.proc.exited).toBe(0);
    const singleOnCluster = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', clusterUrl]);
    expect(singleOnCluster.code).toBe(1);
    expect(singleOnCluster.stderr).toContain("holds a cluster's logs");

    const usage = await pushq(['serve', '--cluster']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--cluster needs --store');
  }, 180_000); // seven processes one after another: 60 s ran out at load 16

  it('hides a password given as a query parameter (?password=, which node-postgres takes) wherever the URL is printed', async () => {
    const url = await fx.pg.database();
    const inQuery = (password: string): string => `${url.replace(`:${PG_PASSWORD}@`, '@')}?password=${password}`;
    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--cluster', '--store', inQuery('not-the-password')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('STORE_AUTH_FAILED');
    expect(refused.stderr).toContain('?password=***');
    expect(refused.stderr).not.toContain('not-the-password');

    // The right one: the node's startup line, and the store's replay, which names it.
    const member = await startNode(['--store', inQuery(PG_PASSWORD), '--lease-seconds', '2']);
    await waitUntil('the node owning the default queue', () => member.lines.some((l) => l.text.includes('owns queue default')), 20_000);
    member.proc.child.kill('SIGTERM');
    expect(await member.proc.exited).toBe(0);
    const printed = member.proc.stdout() + member.proc.stderr();
    expect(printed).toContain('?password=***');
    expect(printed).not.toContain(PG_PASSWORD);
    const replay = await pushq(['replay', inQuery(PG_PASSWORD), '--queue', 'default']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('?password=***');
    expect(replay.stdout + replay.stderr).not.toContain(PG_PASSWORD);
  }, 60_000);

  it('refuses a busy port, HTTP or gRPC, as one node does: exit 1, one PORT_IN_USE line naming the flag', async () => {
    const url = await fx.pg.database();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      for (const [flag, args] of [
        ['--port', ['--port', String(port), '--grpc-port', '0']],
        ['--grpc-port', ['--port', '0', '--grpc-port', String(port)]],
      ] as const) {
        const r = await pushq(['serve', ...args, '--cluster', '--store', url]);
        expect(r.code, flag).toBe(1);
        expect(r.stderr, flag).toBe(`pushq serve: cannot start: port ${port} on 127.0.0.1 is in use by another process: stop it, or choose another port with ${flag} N (${flag} 0 picks a free one) (PORT_IN_USE)\n`);
      }
    } finally {
      busy.close();
    }
  }, 60_000);

  it('losing the store stops every queue in time (503, nothing dispatched); back, the nodes take their queues again, nothing acknowledged lost', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(4, 100, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    const two = nodes.slice(-2);
    await waitUntil('the queues spread over the 2 nodes', () => spread(two, 5), 20_000);
    const before = await createTasks(() => two, Array.from({ length: 40 }, (_, i) => ({ name: `b${i}`, queue: `q${i % 4}` })), 4, 20_000);
    expect(before.acknowledged.length + before.taken.length).toBe(40);

    fx.pg.halt();
    let haltedAt = 0;
    try {
      haltedAt = Date.now();
      const lostQueues = (): Set<string> => new Set(two.flatMap((n) => n.lines.filter((l) => l.atMs > haltedAt).map((l) => /lost queue (\S+):/.exec(l.text)?.[1] ?? '')));
      await waitUntil('the nodes losing every queue', () => ['default', 'q0', 'q1', 'q2', 'q3'].every((q) => lostQueues().has(q)), 15_000);
      // Every queue stopped: nothing more is dispatched, creates are refused.
      const quietFrom = Date.now() + 300;
      await new Promise((r) => setTimeout(r, 1000));
      expect(w.received.filter((r) => r.atMs > quietFrom)).toEqual([]);
      for (const n of two) {
        const res = await fetch(`${n.api}/q0/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/t/q0/during' } } }) });
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE');
      }
    } finally {
      fx.pg.resume();
    }
    await waitUntil('the queues owned again after the store returned', () => spread(two, 5), 20_000);
    const after = await createTasks(() => two, Array.from({ length: 40 }, (_, i) => ({ name: `a${i}`, queue: `q${i % 4}` })), 4, 20_000);
    expect(after.unanswered).toEqual([]);
    const all = [...before.acknowledged, ...before.taken, ...after.acknowledged];
    await w.waitFor((r) => all.every((n) => r.some((x) => x.answered === 200 && x.url.endsWith(`/${n}`))), 20_000, 'every acknowledged task delivered');
    expect(w.received.some((x) => x.url.endsWith('/during'))).toBe(false);
  }, 60_000);
});
