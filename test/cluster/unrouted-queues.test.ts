/**
 * A cluster node warns of a queue whose service no --target gives a URL, as one node's start and
 * reload do (test/e2e/serve-unrouted-queues.test.ts; server/unrouted-queues.ts): when it takes
 * such a queue, and when a reload moves a queue it owns to such a service. Without a word every
 * attempt of theirs failed no-target-url, said only task by task.
 */
import { describe, expect, it } from 'vitest';
import { clusterFixture, startNode, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

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
    await waitUntil('the warning of reports', () => node.lines.some((l) => l.text.startsWith(taken)), EVENT_BOUND_MS);
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

  it('a node with no --target at all says so when it takes its queues, and its startup line names each target\'s scaling as one node\'s does', async () => {
    // The startup line said `targets none` and `default=URL` without the scaling one node's shows (`default=URL (basic)`).
    const url = await fx.pg.database();
    const path = await writeQueueYaml(fx.dir, 'queue:\n- name: jobs\n  rate: 5/s\n');
    const [bare, scaled] = await Promise.all([
      startNode(['--config', path, '--store', url, '--lease-seconds', '2']),
      startNode(['--config', path, '--store', url, '--lease-seconds', '2', '--target', 'default=http://127.0.0.1:9/', '--scaling', 'default=basic']),
    ]);
    fx.nodes.push(bare!, scaled!);
    // The startup line, not the first: a node may take a queue (and say so) before it prints it (met on a loaded machine).
    const startup = (n: Node): string | undefined => n.lines.find((l) => l.text.includes(' · targets '))?.text;
    expect(startup(bare!)).toMatch(/ · targets none · queues default, jobs$/);
    expect(startup(scaled!)).toMatch(/ · targets default=http:\/\/127\.0\.0\.1:9\/ \(basic\) · queues default, jobs$/);
    // Whichever queues the bare node takes, it says that their App Engine tasks fail.
    const owner = (n: typeof bare) => n!.lines.some((l) => / owns queue /.test(l.text));
    await waitUntil('each queue owned', () => owner(bare) || owner(scaled), 30_000);
    if (owner(bare)) await waitUntil('the bare node\'s warning', () => bare!.lines.some((l) => l.text.includes('warning: no --target is given, so no service has a URL')), EVENT_BOUND_MS);
    expect(scaled!.lines.map((l) => l.text).join('\n')).not.toContain('no --target is given');
  }, 120_000);
});
