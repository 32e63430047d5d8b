/**
 * A clean stop whose drain outlasts the lease: the node keeps renewing its queues' leases while
 * their attempts in flight finish, then releases them, so the hand-over stays clean. Before, a
 * node stopped renewing as the drain began; with attempts longer than what was left of the lease
 * (here a 2 s lease and 4 s attempts; with the defaults, a 15 s lease and `--drain-seconds 10`,
 * attempts over ~9 s), the other node took the queue mid-drain and dispatched the attempts still
 * in flight a second time, and the stopping node's last events were refused.
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, ownedBy, postTask, queueYaml, spread, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const fx = clusterFixture('pushq-cluster-drain-');
const { nodes, workers } = fx;

describe('pushq serve --cluster: a clean stop that drains longer than the lease', () => {
  it('hands its queue over after its attempts finish: none dispatched twice', async () => {
    const url = await fx.pg.database();
    const yaml = await writeQueueYaml(fx.dir, queueYaml(1, 10, 10));
    const w = await startWorker(() => ({ status: 200, delayMs: 4000 }));
    workers.push(w);
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--drain-seconds', '8', '--target', `default=${w.url}`];
    nodes.push(await startNode(args), await startNode(args));
    await waitUntil('default and q0 placed on the two nodes', () => spread(nodes, 2), 20_000);
    const owner = (await ownedBy(nodes[0]!)).includes('q0') ? nodes[0]! : nodes[1]!;
    const other = owner === nodes[0] ? nodes[1]! : nodes[0]!;

    for (const name of ['d0', 'd1', 'd2']) expect((await postTask(owner, 'q0', name)).status).toBe(200);
    await w.waitFor((r) => r.length === 3, EVENT_BOUND_MS, 'the three attempts in flight');
    owner.proc.child.kill('SIGTERM');
    expect(await owner.proc.exited, owner.proc.stderr()).toBe(0);
    await waitUntil('the other node owning q0', async () => (await ownedBy(other)).includes('q0'), EVENT_BOUND_MS);
    // Time for a second dispatch, were the tasks still pending in the log the other node folded.
    await new Promise((r) => setTimeout(r, 1500));
    expect(w.received.map((r) => r.url).sort()).toEqual(['/t/q0/d0', '/t/q0/d1', '/t/q0/d2']);
    expect(owner.proc.stderr()).not.toMatch(/refused|not renewed/);
  }, 60_000);
});
