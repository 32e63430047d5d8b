/**
 * Three `pushq serve --cluster` nodes on one PostgreSQL store: the queues spread over them, any
 * node takes a CreateTask for any queue (forwarded to the owner, acknowledged once in the store),
 * every task is delivered once the cluster runs; a node that leaves cleanly hands its queues over.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startReplayUi } from '../helpers/replay-ui-process.js';
import { PG_PASSWORD } from '../helpers/pg-cluster.js';
import { startWorker } from '../helpers/worker.js';
import { busiest, count, createTasks, queueYaml, spread, startNodes, waitUntil, writeQueueYaml, clusterFixture } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const fx = clusterFixture('pushq-cluster-');
const { nodes, workers } = fx;

describe('pushq serve --cluster', () => {
  it('spreads the queues over three nodes, takes creates on every node for every queue, delivers each task', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(6, 200, 20));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 3);
    const three = nodes.slice(0, 3);
    await waitUntil('the 7 queues (q0..q5, default) spread over the 3 nodes', () => spread(three, 7), 20_000);
    const tasks = Array.from({ length: 300 }, (_, i) => ({ name: `b${i}`, queue: `q${i % 6}` }));
    const out = await createTasks(() => three, tasks, 8, 30_000);
    expect(out.unanswered).toEqual([]);
    // A create cut off while its queue moved (the answer lost, the task taken) comes back 409 when tried again.
    expect(out.acknowledged.length + out.taken.length).toBe(300);
    expect(out.acknowledged.length).toBeGreaterThan(290);
    const delivered = new Set<string>();
    await w.waitFor(
      (r) => {
        for (const x of r) if (x.answered === 200) delivered.add(x.url.split('/').pop()!);
        return [...out.acknowledged, ...out.taken].every((n) => delivered.has(n));
      },
      20_000,
      'every acknowledged task delivered',
    );
    // Any node answers any call for any queue: a task read through every node, the queues listed by every node.
    const later = await fetch(`${three[0]!.api}/q3/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { name: 'projects/p/locations/l/queues/q3/tasks/later', scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), appEngineHttpRequest: { relativeUri: '/later' } } }),
    });
    expect(later.status).toBe(200);
    await later.arrayBuffer();
    for (const n of three) {
      const res = await fetch(`${n.api}/q3/tasks/later`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe('projects/p/locations/l/queues/q3/tasks/later');
      const list = await fetch(`${n.api}`);
      expect(((await list.json()) as { queues: { name: string }[] }).queues.map((q) => q.name.split('/').pop()).sort()).toEqual(['default', 'q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
    }
    // A task's story (the dashboard's, read back from the owner's stream in the store), through any node.
    for (const n of three) {
      const story = await fetch(`${n.proc.url}/pushq/queues/q0/tasks/b0/story`);
      const text = await story.text();
      expect(story.status, text).toBe(200);
      expect(text).toContain('b0');
    }
    // An unknown queue is NOT_FOUND through every node, also one that owns no queue (rendezvous may leave one none).
    for (const n of three) {
      const unknown = await fetch(`${n.api}/nope/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { appEngineHttpRequest: {} } }) });
      expect(unknown.status, n.id).toBe(404);
      expect(await unknown.text()).toContain('UNKNOWN_QUEUE');
    }
    const badPath = await fetch(`${three[0]!.api}/%E0%A4%A/tasks`);
    expect(badPath.status).toBe(400);
    expect(await badPath.text()).toContain('INVALID_PATH');
    // A path no node serves (the dashboard is served: cluster-dashboard.test.ts).
    const notServed = await fetch(`${three[0]!.proc.url}/pushq/nothing-here`);
    expect(notServed.status).toBe(501);
    expect(await notServed.text()).toContain('NOT_IN_CLUSTER_MODE');

    // The gRPC API too: a task created through each node's gRPC port on every queue, read back through another node's.
    const clients = three.map((n) => new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: n.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() }));
    try {
      for (let i = 0; i < 3; i++) {
        for (let q = 0; q < 6; q++) {
          const name = `projects/p/locations/l/queues/q${q}/tasks/g${i}x${q}`;
          const [created] = await clients[i]!.createTask({ parent: `projects/p/locations/l/queues/q${q}`, task: { name, scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 }, appEngineHttpRequest: { relativeUri: '/grpc' } } });
          expect(created.name).toBe(name);
          const [read] = await clients[(i + 1) % 3]!.getTask({ name });
          expect(read.name).toBe(name);
        }
      }
      const [queues] = await clients[0]!.listQueues({ parent: 'projects/p/locations/l' });
      expect(queues.map((q) => q.name!.split('/').pop()).sort()).toEqual(['default', 'q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
      const again = await clients[2]!.createTask({ parent: 'projects/p/locations/l/queues/q1', task: { name: 'projects/p/locations/l/queues/q1/tasks/g0x1', appEngineHttpRequest: {} } }).then(
        () => null,
        (err: { code: number; details: string }) => err,
      );
      expect(again?.code).toBe(grpc.status.ALREADY_EXISTS);
      // The locations mixin, on the client's channel: refused by the front as one node refuses it
      // (UNSUPPORTED_METHOD and why), not with grpc-js's bare "does not implement the method".
      const location = await clients[1]!.getLocation({ name: 'projects/p/locations/l' }).then(
        () => null,
        (err: { code: number; details: string; reason?: string }) => err,
      );
      expect(location).toMatchObject({ code: grpc.status.UNIMPLEMENTED, reason: 'UNSUPPORTED_METHOD' });
      expect(location?.details).toMatch(/^google\.cloud\.location\.Locations\.GetLocation is not served by pushq \(locations are not emulated/);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }

    // Each queue's events are in its own stream, written by one epoch (no node left).
    expect(await count(url, `SELECT count(DISTINCT stream) AS n FROM pushq_events WHERE stream LIKE 'queue/%'`)).toBe(7);

    // pushq replay reads one queue's log from the cluster's store; without --queue it names them.
    const replayed = await pushq(['replay', url, '--queue', 'q0', '--json']);
    expect(replayed.stderr).toBe('');
    // 300 over 6 queues through REST, and one through each node's gRPC.
    expect(JSON.parse(replayed.stdout).queues['q0'].tasks_total).toBe(53);
    const which = await pushq(['replay', url]);
    expect(which.code).toBe(1);
    expect(which.stderr).toContain('name one with --queue (default, q0, q1, q2, q3, q4, q5)');
    expect(which.stderr).not.toContain(PG_PASSWORD);
    // The dashboard over one queue's log: --ui --queue picks it, the page names it and shows that queue alone.
    const ui = await startReplayUi(url, ['--queue', 'q0']);
    try {
      expect(ui.stdout()).toMatch(/ · postgres:\/\/\S+ \(queue q0\): \d+ events over /);
      expect(ui.stdout()).not.toContain(PG_PASSWORD);
      const page = (await (await fetch(`${ui.url}/pushq/dashboard.json`)).json()) as { summary: Record<string, { tasks_total: number }> };
      expect(Object.keys(page.summary)).toEqual(['q0']);
      expect(page.summary['q0']!.tasks_total).toBe(53);
    } finally {
      ui.child.kill('SIGTERM');
      expect(await ui.exited).toBe(0);
    }
    const uiWhich = await pushq(['replay', url, '--ui']);
    expect([uiWhich.code, uiWhich.stderr.includes('name one with --queue (default, q0, q1, q2, q3, q4, q5)')]).toEqual([1, true]);

    // A clean stop hands the node's queues to the others, without waiting for a lease to run out.
    const { node: leaving, queues: itsQueues } = await busiest(three);
    leaving.proc.child.kill('SIGTERM');
    expect(await leaving.proc.exited).toBe(0);
    await waitUntil('the leaving node’s queues owned by the two others', () => spread(three.filter((n) => n !== leaving), 7), EVENT_BOUND_MS);
    const more = await createTasks(() => three.filter((n) => n !== leaving), itsQueues.map((q, i) => ({ name: `after${i}`, queue: q })), 4, 10_000);
    expect(more.unanswered).toEqual([]);
    await w.waitFor((r) => more.acknowledged.every((n) => r.some((x) => x.url.endsWith(`/${n}`) && x.answered === 200)), EVENT_BOUND_MS, 'tasks on moved queues delivered');
  }, 180_000); // three node starts and their placement: 60 s ran out at load 16
});
