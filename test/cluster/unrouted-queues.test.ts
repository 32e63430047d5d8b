/**
 * A cluster node warns of a queue whose service no --target gives a URL, as one node's start and
 * reload do (test/e2e/serve-unrouted-queues.test.ts; server/unrouted-queues.ts): when it takes
 * such a queue, and when a reload moves a queue it owns to such a service. Without a word every
 * attempt of theirs failed no-target-url, said only task by task.
 */
import { describe, expect, it } from 'vitest';
import { clusterFixture, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-unrouted-');

describe('a cluster node with targets that leave a queue\'s service without a URL', () => {
  it('says so when it takes the queue, and in the answer of a reload that moves a queue it owns to such a service', async () => {
    const url = await fx.pg.database();
    const path = await writeQueueYaml(fx.dir, 'queue:\n- name: default\n  rate: 5/s\n  target: worker\n- name: jobs\n  rate: 5/s\n  target: worker\n- name: reports\n  rate: 5/s\n  target: v2.batch\n');
    const node = await startNode(['--config', path, '--store', url, '--lease-seconds', '2', '--target', 'worker=http://127.0.0.1:9/']);
    fx.nodes.push(node);
    const owns = (q: string) => node.lines.some((l) => l.text.includes(`node ${node.id} owns queue ${q}`));
    await waitUntil('the node owns every queue', () => ['default', 'jobs', 'reports'].every(owns), 30_000);
    const taken = `pushq serve: node ${node.id}: warning: no --target gives a URL for service v2.batch, where queue reports sends its tasks: `;
    await waitUntil('the warning of reports', () => node.lines.some((l) => l.text.startsWith(taken)), 5000);
    expect(node.lines.map((l) => l.text).join('\n')).not.toMatch(/warning: .*queue (default|jobs) /);

    await writeQueueYaml(fx.dir, 'queue:\n- name: default\n  rate: 5/s\n  target: worker\n- name: jobs\n  rate: 5/s\n  target: v2.batch\n- name: reports\n  rate: 5/s\n  target: v2.batch\n');
    const res = await fetch(`${node.proc.url}/pushq/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const answer = (await res.json()) as { lines: string[] };
    expect(res.status).toBe(200);
    expect(answer.lines).toContain(
      'no --target gives a URL for service v2.batch, where queues jobs, reports send their tasks: each attempt of their App Engine tasks fails (no-target-url), ' +
        "whatever service the task names (each queue's target overrides it); give --target v2.batch=URL",
    );
    node.proc.child.kill('SIGTERM');
    expect(await node.proc.exited).toBe(0);
  }, 120_000);
});
