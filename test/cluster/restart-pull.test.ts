/**
 * A cluster node that takes a queue a restart's file made `mode: pull` while it holds push tasks
 * says so, as one node's start and a reload do (test/e2e/serve-reload-queues.test.ts): nothing
 * dispatches those tasks (pushq serves no pull API), and without a word they sat there for ever.
 */
import { describe, expect, it } from 'vitest';
import { clusterFixture, postTask, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const fx = clusterFixture('pushq-cluster-restart-pull-');

describe('a cluster restarted with a file that made a push queue mode: pull', () => {
  it('the node that takes the queue says which queue holds push tasks nothing will dispatch, and what to do', async () => {
    const url = await fx.pg.database();
    const path = await writeQueueYaml(fx.dir, 'queue:\n- name: jobs\n  rate: 0\n');
    const args = ['--config', path, '--store', url, '--lease-seconds', '2'];
    const first = await startNode(args);
    fx.nodes.push(first);
    const owns = (n: typeof first) => n.lines.some((l) => l.text.includes(`node ${n.id} owns queue jobs`));
    await waitUntil('the node owns jobs', () => owns(first), 30_000);
    for (const name of ['a', 'b']) expect((await postTask(first, 'jobs', name)).status).toBe(200);
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);

    await writeQueueYaml(fx.dir, 'queue:\n- name: jobs\n  mode: pull\n');
    const second = await startNode(args);
    fx.nodes.push(second);
    await waitUntil('the node owns jobs', () => owns(second), 30_000);
    const warning = `pushq serve: node ${second.id}: warning: queue jobs: now mode: pull, and holds 2 push tasks that pushq will not dispatch (it serves no pull API); set mode: push again to dispatch them, or purge the queue`;
    await waitUntil('the warning', () => second.lines.some((l) => l.text === warning), EVENT_BOUND_MS);
    expect(second.lines.filter((l) => l.text === warning)).toHaveLength(1);
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  }, 120_000);
});
