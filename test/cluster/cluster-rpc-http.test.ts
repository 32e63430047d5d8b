/**
 * App Engine's `POST /rpc_http` on a cluster: two `pushq serve --cluster` nodes on one PostgreSQL
 * store and a real worker. Add, BulkAdd, Delete, PurgeQueue, FetchQueueStats and FetchQueues are
 * sent, as remote_api Requests, to a node that owns the queue (answered in process) and to one that
 * does not (forwarded to the owner); every task added reaches the worker once. A BulkAdd over two
 * queues is refused and adds nothing, as are transactional tasks (FEATURE_DISABLED); an owner killed -9 answers TRANSIENT_ERROR until another
 * node takes its queue, then the same Add succeeds.
 */
import { describe, expect, it } from 'vitest';
import { RPC_ERROR, TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../helpers/remote-api.js';
import { startWorker } from '../helpers/worker.js';
import { ownedBy, queueYaml, spread, startNodes, waitUntil, writeQueueYaml, clusterFixture, type Node } from './cluster-harness.js';

const QUEUES = ['q0', 'q1', 'q2', 'q3'];
const HOUR_US = 3_600_000_000;
/** A name held: by a task not yet run, or by its tombstone once it ran. */
const NAME_TAKEN = [TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS, TASK_QUEUE_ERROR.TOMBSTONED_TASK];

const fx = clusterFixture('pushq-cluster-rpc-');
const { nodes, workers } = fx;

/** The node that owns `queue` and one that does not. */
async function ownerAndOther(two: readonly Node[], queue: string): Promise<{ owner: Node; other: Node }> {
  const owns = await Promise.all(two.map(ownedBy));
  const i = owns.findIndex((o) => o.includes(queue));
  expect(i, `an owner of ${queue}`).toBeGreaterThanOrEqual(0);
  return { owner: two[i]!, other: two[1 - i]! };
}

function task(queue: string, name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return addRequest(queue, { task_name: Buffer.from(name), url: Buffer.from(`/t/${queue}/${name}`), ...fields });
}

describe('pushq serve --cluster: App Engine /rpc_http on every node', () => {
  it('Add, BulkAdd, Delete, PurgeQueue and the queue reads through an owner and a non-owner; each task delivered once; a BulkAdd over two queues refused', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES.length, 100, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    const two = nodes.slice(0, 2);
    await waitUntil('the queues spread over the 2 nodes', () => spread(two, QUEUES.length + 1), 20_000);

    const expected: string[] = [];
    for (const q of QUEUES) {
      const { owner, other } = await ownerAndOther(two, q);
      // One task through each node: the owner's in process, the other's forwarded.
      for (const [via, node] of [['o', owner], ['n', other]] as const) {
        const name = `add-${q}-${via}`;
        const added = await callTaskQueue(node.proc.url, 'Add', 'AddRequest', task(q, name), 'AddResponse');
        expect(added.httpStatus).toBe(200);
        expect(added.response.application_error ?? null, `${name}: ${added.response.application_error?.detail}`).toBeNull();
        expected.push(`/t/${q}/${name}`);
      }
      // A task without a name gets one chosen by the owner.
      const unnamed = await callTaskQueue(other.proc.url, 'Add', 'AddRequest', addRequest(q, { url: Buffer.from(`/t/${q}/unnamed`) }), 'AddResponse');
      expect(Buffer.from(unnamed.value.chosen_task_name).toString()).toMatch(/^task\d+$/);
      expected.push(`/t/${q}/unnamed`);
      // The same name again, through the other node: the owner's answer (already added, or tombstoned once it ran).
      const again = await callTaskQueue(owner.proc.url, 'Add', 'AddRequest', task(q, `add-${q}-n`));
      expect(NAME_TAKEN).toContain(again.response.application_error.code);

      // A batch for one queue through the non-owner: each slot its result; a name held fails only its own.
      const batch = [0, 1, 2].map((i) => task(q, `bulk-${q}-${i}`));
      const bulk = await callTaskQueue(other.proc.url, 'BulkAdd', 'BulkAddRequest', { add_request: [...batch, task(q, `add-${q}-o`)] }, 'BulkAddResponse');
      expect(bulk.response.application_error ?? null).toBeNull();
      const results = bulk.value.taskResult.map((r: { result: number }) => r.result);
      expect(results.slice(0, 3)).toEqual([0, 0, 0]);
      expect(NAME_TAKEN).toContain(results[3]);
      for (let i = 0; i < 3; i++) expected.push(`/t/${q}/bulk-${q}-${i}`);

      // Delete a task that waits an hour, through the non-owner; again: tombstoned.
      const later = await callTaskQueue(owner.proc.url, 'Add', 'AddRequest', task(q, `del-${q}`, { eta_usec: Date.now() * 1000 + HOUR_US }));
      expect(later.response.application_error ?? null).toBeNull();
      const del = await callTaskQueue(other.proc.url, 'Delete', 'DeleteRequest', { queue_name: Buffer.from(q), task_name: [Buffer.from(`del-${q}`)] }, 'DeleteResponse');
      expect(del.value.result).toEqual([TASK_QUEUE_ERROR.OK]);
      const delAgain = await callTaskQueue(owner.proc.url, 'Delete', 'DeleteRequest', { queue_name: Buffer.from(q), task_name: [Buffer.from(`del-${q}`)] }, 'DeleteResponse');
      expect(delAgain.value.result).toEqual([TASK_QUEUE_ERROR.TOMBSTONED_TASK]);
    }

    // A batch over two queues (whatever their owners): refused whole, nothing added.
    const mixed = await callTaskQueue(nodes[0]!.proc.url, 'BulkAdd', 'BulkAddRequest', { add_request: [task('q0', 'mix-0'), task('q1', 'mix-1')] });
    expect(mixed.response.application_error.code).toBe(TASK_QUEUE_ERROR.INVALID_REQUEST);
    expect(mixed.response.application_error.detail).toContain('one BulkAdd per queue');
    // Transactional tasks: refused on every node, saying why, nothing added.
    for (const n of two) {
      const begin = await postRpc(n.proc.url, envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: 's~app' })));
      expect(begin.response.rpc_error.code, n.id).toBe(RPC_ERROR.FEATURE_DISABLED);
      expect(begin.response.rpc_error.detail).toMatch(/datastore_v3\.BeginTransaction: transactional tasks are not served in cluster mode/);
      const txAdd = await callTaskQueue(n.proc.url, 'Add', 'AddRequest', addRequest('q0', { url: Buffer.from('/t/q0/txn'), transaction: { handle: 1, app: 's~app' } }));
      expect(txAdd.response.rpc_error.code, n.id).toBe(RPC_ERROR.FEATURE_DISABLED);
    }
    // A queue outside the configuration fails its own slot and skips the rest, as on one node.
    const withUnknown = await callTaskQueue(nodes[1]!.proc.url, 'BulkAdd', 'BulkAddRequest', { add_request: [task('q2', 'unk-0'), task('nope', 'unk-1')] }, 'BulkAddResponse');
    expect(withUnknown.value.taskResult.map((r: { result: number }) => r.result)).toEqual([TASK_QUEUE_ERROR.SKIPPED, TASK_QUEUE_ERROR.UNKNOWN_QUEUE]);
    for (const n of two) {
      const unknown = await callTaskQueue(n.proc.url, 'Add', 'AddRequest', task('nope', 'x'));
      expect(unknown.response.application_error.code, n.id).toBe(TASK_QUEUE_ERROR.UNKNOWN_QUEUE);
    }

    // Waiting tasks, i + 1 in queue q<i>: stats asked of each owner, answered in the call's order.
    for (const [i, q] of QUEUES.entries()) {
      for (let j = 0; j <= i; j++) {
        const r = await callTaskQueue(nodes[j % 2]!.proc.url, 'Add', 'AddRequest', task(q, `wait-${q}-${j}`, { eta_usec: Date.now() * 1000 + HOUR_US }));
        expect(r.response.application_error ?? null).toBeNull();
      }
    }
    for (const n of two) {
      const stats = await callTaskQueue(n.proc.url, 'FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: ['q3', 'nope', 'q0', 'q2', 'q1'].map((s) => Buffer.from(s)) }, 'FetchQueueStatsResponse');
      expect(stats.response.application_error ?? null).toBeNull();
      expect(stats.value.queueStats.map((s: { num_tasks: number }) => s.num_tasks)).toEqual([4, 0, 1, 3, 2]);
      const queues = await callTaskQueue(n.proc.url, 'FetchQueues', 'FetchQueuesRequest', { max_rows: 0 }, 'FetchQueuesResponse');
      expect(queues.value.queue.map((r: { queue_name: Uint8Array }) => Buffer.from(r.queue_name).toString())).toEqual(['default', ...QUEUES]);
    }

    // PurgeQueue through the node that does not own q1.
    const { other: notQ1 } = await ownerAndOther(two, 'q1');
    const purged = await callTaskQueue(notQ1.proc.url, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('q1') });
    expect(purged.response.application_error ?? null).toBeNull();
    const after = await callTaskQueue(nodes[0]!.proc.url, 'FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: [Buffer.from('q1')] }, 'FetchQueueStatsResponse');
    expect(after.value.queueStats[0].num_tasks).toBe(0);

    // Every task added reached the worker, once; none of the refused batch.
    await w.waitFor((r) => expected.every((u) => r.some((x) => x.url === u)), 20_000, `the ${expected.length} tasks`);
    await new Promise((r) => setTimeout(r, 500));
    for (const u of expected) expect(w.received.filter((x) => x.url === u).length, u).toBe(1);
    expect(w.received.filter((x) => x.url.includes('/mix-') || x.url.includes('/unk-') || x.url.includes('/txn'))).toEqual([]);
  }, 120_000);

  it('an owner killed -9: its queue answers TRANSIENT_ERROR (the cluster code in the detail) until another node takes it, then the same Add succeeds, delivered once', async () => {
    const w = workers[0]!;
    const two = nodes.slice(0, 2);
    const { owner, other } = await ownerAndOther(two, 'q0');
    owner.proc.child.kill('SIGKILL');
    expect(await owner.proc.exited).toBe('SIGKILL');
    const name = 'after-kill';
    const first = await callTaskQueue(other.proc.url, 'Add', 'AddRequest', task('q0', name));
    expect(first.httpStatus).toBe(200);
    expect(first.response.application_error?.code, JSON.stringify(first.response)).toBe(TASK_QUEUE_ERROR.TRANSIENT_ERROR);
    expect(first.response.application_error.detail).toMatch(/\(QUEUE_OWNER_(UNKNOWN|UNAVAILABLE)\)$/);
    // The app retries, with the same name, until the survivor owns q0.
    let code: number | undefined = TASK_QUEUE_ERROR.TRANSIENT_ERROR;
    for (let i = 0; i < 100 && code === TASK_QUEUE_ERROR.TRANSIENT_ERROR; i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = (await callTaskQueue(other.proc.url, 'Add', 'AddRequest', task('q0', name))).response.application_error?.code;
    }
    expect(code).toBeUndefined();
    await w.waitFor((r) => r.some((x) => x.url === `/t/q0/${name}`), 10_000, name);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.received.filter((x) => x.url === `/t/q0/${name}`).length).toBe(1);
  }, 60_000);
});
