/**
 * A gRPC call forwarded to a queue's owner that is dead (kill -9, its lease not yet run out, or
 * just taken over by another node) is answered as the REST router answers it (docs/cluster.md,
 * "API calls: any node, forwarded to the owner"): no connection to the dead owner could be made,
 * so the call surely reached no queue's service; it is sent again to the new owner once the store
 * names one, else refused UNAVAILABLE with the `x-pushq-not-taken: 1` trailer. Through the official
 * Node client (@google-cloud/tasks over gRPC), three `pushq serve --cluster` nodes on PostgreSQL.
 *
 * The entry node A runs a 30 s lease (a tick every 10 s) and the owner B and its successor C a
 * 3 s lease: B is killed just after A's tick, so C takes the queue over (within about 4 s) while
 * A's table still names B (until A's next tick, 10 s on), which is when a resend is needed.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { NOT_TAKEN_HEADER } from '../../src/cluster/router.js';
import { clusterFixture, count, ownedBy, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const QUEUES = Array.from({ length: 24 }, (_, i) => `g${i}`);
const fx = clusterFixture('pushq-grpc-forward-not-taken-');

interface Answer {
  task: string;
  sentAtMs: number;
  outcome: 'ok' | 'not-taken' | 'unmarked';
  detail: string;
}

const taskName = (queue: string, task: string): string => `projects/p/locations/l/queues/${queue}/tasks/${task}`;

describe('pushq serve --cluster: gRPC calls forwarded to a dead owner', () => {
  it('are sent again to the new owner once the store names it, else refused marked not taken, as REST; not-taken calls changed nothing', async () => {
    const url = await fx.pg.database();
    const yaml = await writeQueueYaml(fx.dir, ['queue:', ...QUEUES.flatMap((q) => [`- name: ${q}`, '  rate: 0'])].join('\n') + '\n');
    const base = ['--config', yaml, '--store', url];
    // B and C first (they hold every queue), then A, which takes its own share only at its next tick: not needed here.
    const bc = await Promise.all([0, 1].map(() => startNode([...base, '--lease-seconds', '3'])));
    fx.nodes.push(...bc);
    const a = await startNode([...base, '--lease-seconds', '30']);
    fx.nodes.push(a);
    const ids = [a.id, ...bc.map((n) => n.id)];
    // A queue of one of B, C whose next owner, with it gone, is the other (not A).
    const pick = QUEUES.flatMap((queue) => {
      const owner = bc.find((n) => n.id === ownerFor(queue, ids));
      const next = bc.find((n) => n.id === ownerFor(queue, [a.id, ...bc.filter((x) => x !== owner).map((x) => x.id)]));
      return owner !== undefined && next !== undefined && owner !== next ? [{ queue, owner, next }] : [];
    })[0];
    expect(pick, 'no queue of B or C goes to the other when its owner dies').toBeDefined();
    const { queue, owner, next } = pick!;
    await waitUntil(`${owner.id} owns ${queue}`, async () => (await ownedBy(owner)).includes(queue), 20_000);

    const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: a.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    const answers: Answer[] = [];
    let n = 0;
    const create = async (): Promise<Answer> => {
      const task = `t${n++}`;
      const answer: Answer = { task, sentAtMs: Date.now(), outcome: 'ok', detail: '' };
      try {
        await client.createTask({ parent: `projects/p/locations/l/queues/${queue}`, task: { name: taskName(queue, task), appEngineHttpRequest: { relativeUri: `/${task}` } } }, { retry: null, timeout: 8000 } as never);
      } catch (err) {
        const e = err as { code?: number; details?: string; metadata?: grpc.Metadata };
        answer.detail = `gRPC ${e.code} ${e.details}`;
        answer.outcome = e.code === grpc.status.UNAVAILABLE && e.metadata?.get(NOT_TAKEN_HEADER)[0] === '1' ? 'not-taken' : 'unmarked';
      }
      answers.push(answer);
      return answer;
    };
    try {
      // Forwarded to B by A, acknowledged, while B lives.
      expect((await create()).outcome).toBe('ok');

      // Just after A's tick (its heartbeat moved on), so A's table names B for 10 s more.
      const beat = (): Promise<number> => count(url, 'SELECT (extract(epoch FROM expires_at) * 1000)::BIGINT AS n FROM pushq_nodes WHERE node = $1', [a.id]);
      const before = await beat();
      await waitUntil(`a tick of ${a.id}`, async () => (await beat()) !== before, 15_000);
      owner.proc.child.kill('SIGKILL');
      expect(await owner.proc.exited).toBe('SIGKILL');
      const killedAt = Date.now();
      // A's connection to B is gone (closed by B's kernel); every call from now on finds no connection to make.
      await new Promise((r) => setTimeout(r, 300));

      let takenOverAt = 0;
      while (Date.now() - killedAt < 9000) {
        if (takenOverAt === 0 && (await ownedBy(next)).includes(queue)) takenOverAt = Date.now();
        await create();
        if (takenOverAt !== 0 && answers.filter((x) => x.sentAtMs > takenOverAt).length >= 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const story = answers.map((x) => `${x.task} +${x.sentAtMs - killedAt} ms: ${x.outcome} ${x.detail}`).join('\n');
      expect(takenOverAt, `${next.id} took ${queue} over\n${story}`).toBeGreaterThan(0);
      expect(takenOverAt - killedAt, `${next.id} took ${queue} over before A's next tick\n${story}`).toBeLessThan(8000);
      // Refused while B's lease held (or no one owned the queue): UNAVAILABLE marked not taken, never unmarked.
      expect(answers.filter((x) => x.outcome === 'unmarked').map((x) => `${x.task}: ${x.detail}`), story).toEqual([]);
      expect(answers.some((x) => x.outcome === 'not-taken'), story).toBe(true);
      // Once C owns the queue, A sends each call on to C though its table (last read at its tick) still names B.
      expect(answers.filter((x) => x.sentAtMs > takenOverAt && x.outcome !== 'ok').map((x) => `${x.task}: ${x.detail}`), story).toEqual([]);

      // Through C: every acknowledged create is there, and no call answered not taken left a trace (the name is free).
      const [listed] = await client.listTasks({ parent: `projects/p/locations/l/queues/${queue}`, pageSize: 1000 }, { autoPaginate: false } as never);
      const names = new Set(listed.map((t) => String(t.name).split('/').pop()));
      expect(answers.filter((x) => x.outcome === 'ok' && !names.has(x.task)).map((x) => x.task), story).toEqual([]);
      for (const x of answers.filter((y) => y.outcome === 'not-taken')) {
        expect(names.has(x.task), `${x.task}, answered not taken, is there`).toBe(false);
        await client.createTask({ parent: `projects/p/locations/l/queues/${queue}`, task: { name: taskName(queue, x.task), appEngineHttpRequest: { relativeUri: '/again' } } }, { retry: null, timeout: 8000 } as never);
      }
    } finally {
      await client.close();
    }
  }, 90_000);
});
