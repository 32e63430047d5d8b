/**
 * Where a cluster node sends an App Engine /rpc_http call (src/cluster/rpc-route.ts), from the
 * bytes a library sends: the queue each method names, a BulkAdd's one configured queue (a queue
 * outside the configuration picks no owner), a BulkAdd over two configured queues refused,
 * transactional tasks refused, anything unreadable left to any queue's service, and
 * `logservice.Flush` answered by the node itself.
 */
import { describe, expect, it } from 'vitest';
import { TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { RpcCallError, TaskQueueError } from '../../src/server/appengine/rpc-errors.js';
import { planRpc } from '../../src/cluster/rpc-route.js';
import { addRequest, encodeMessage, envelope, withoutField } from '../helpers/remote-api.js';

const known = (q: string): boolean => ['default', 'a', 'b'].includes(q);
const call = (method: string, type: Parameters<typeof encodeMessage>[0], value: Record<string, unknown>): Uint8Array => envelope('taskqueue', method, encodeMessage(type, value));

describe('planRpc', () => {
  it('a method naming one queue goes to that queue', () => {
    expect(planRpc(call('Add', 'AddRequest', addRequest('a')), known)).toEqual({ kind: 'queue', queue: 'a' });
    expect(planRpc(call('Delete', 'DeleteRequest', { queue_name: Buffer.from('b'), task_name: [Buffer.from('t')] }), known)).toEqual({ kind: 'queue', queue: 'b' });
    expect(planRpc(call('PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('a') }), known)).toEqual({ kind: 'queue', queue: 'a' });
    expect(planRpc(call('PauseQueue', 'PauseQueueRequest', { queue_name: Buffer.from('a'), pause: true }), known)).toEqual({ kind: 'queue', queue: 'a' });
    expect(planRpc(call('ForceRun', 'ForceRunRequest', { queue_name: Buffer.from('b'), task_name: Buffer.from('t') }), known)).toEqual({ kind: 'queue', queue: 'b' });
    // An unknown queue is still that queue's call: the router sends it to any service, which says UNKNOWN_QUEUE.
    expect(planRpc(call('Add', 'AddRequest', addRequest('nope')), known)).toEqual({ kind: 'queue', queue: 'nope' });
  });

  it('a BulkAdd goes whole to its one configured queue; over two configured queues it is refused with INVALID_REQUEST', () => {
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('a'), addRequest('a')] }), known)).toEqual({ kind: 'queue', queue: 'a' });
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('nope'), addRequest('b')] }), known)).toEqual({ kind: 'queue', queue: 'b' });
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('nope')] }), known)).toEqual({ kind: 'anywhere' });
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [] }), known)).toEqual({ kind: 'anywhere' });
    const mixed = planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('a'), addRequest('b'), addRequest('a')] }), known);
    expect(mixed.kind).toBe('refused');
    if (mixed.kind !== 'refused') return;
    expect(mixed.error).toBeInstanceOf(TaskQueueError);
    expect((mixed.error as TaskQueueError).number).toBe(TASK_QUEUE_ERROR.INVALID_REQUEST);
    expect(mixed.error.message).toMatch(/names 2 queues \(a, b\).*nothing was added.*\(INVALID_REQUEST\)$/);
  });

  it('transactional tasks are refused (FEATURE_DISABLED, saying why): the transaction calls and a transactional Add or BulkAdd', () => {
    const transaction = { handle: 7, app: 's~app' };
    const plans = [
      planRpc(envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: 's~app' })), known),
      planRpc(envelope('datastore_v3', 'Commit', encodeMessage('Transaction', transaction)), known),
      planRpc(envelope('datastore_v3', 'Rollback', encodeMessage('Transaction', transaction)), known),
      planRpc(call('Add', 'AddRequest', addRequest('a', { transaction })), known),
      planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('a'), addRequest('a', { transaction })] }), known),
    ];
    for (const plan of plans) {
      expect(plan.kind).toBe('refused');
      if (plan.kind !== 'refused') return;
      expect(plan.error).toBeInstanceOf(RpcCallError);
      expect((plan.error as RpcCallError).code).toBe('FEATURE_DISABLED');
      expect(plan.error.message).toMatch(/not served in cluster mode: .*different owners.*one node/);
    }
  });

  it('the reads: FetchQueueStats keeps its names in order, FetchQueues its max_rows', () => {
    const stats = planRpc(call('FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: ['b', 'x', 'a'].map((s) => Buffer.from(s)) }), known);
    expect(stats.kind === 'stats' && stats.names).toEqual(['b', 'x', 'a']);
    const list = planRpc(call('FetchQueues', 'FetchQueuesRequest', { max_rows: 2 }), known);
    expect(list.kind === 'list' && list.maxRows).toBe(2);
  });

  it('what it cannot read goes to any service, which answers as one node does', () => {
    expect(planRpc(Buffer.from('not a request'), known)).toEqual({ kind: 'anywhere' });
    expect(planRpc(envelope('datastore_v3', 'Get', new Uint8Array()), known)).toEqual({ kind: 'anywhere' });
    expect(planRpc(call('UpdateQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('a') }), known)).toEqual({ kind: 'anywhere' });
    expect(planRpc(envelope('taskqueue', 'Add', Buffer.from([0xff, 0xff, 0xff])), known)).toEqual({ kind: 'anywhere' });
    // A message without a required field does not decode (the service says PARSE_ERROR, naming it).
    expect(planRpc(envelope('taskqueue', 'Add', withoutField(encodeMessage('AddRequest', addRequest('a')), 3)), known)).toEqual({ kind: 'anywhere' });
    // logservice's other calls too: any service refuses them CALL_NOT_FOUND, as one node does.
    expect(planRpc(envelope('logservice', 'Read', new Uint8Array()), known)).toEqual({ kind: 'anywhere' });
  });

  it('logservice.Flush (the Go library\'s, at the end of every request its app serves) is answered by the node itself, whatever it holds', () => {
    // Before: 'anywhere', a hop to another node when this one owned no queue, failing with that owner.
    expect(planRpc(envelope('logservice', 'Flush', new Uint8Array()), known)).toEqual({ kind: 'logFlush' });
    expect(planRpc(envelope('logservice', 'Flush', Buffer.from([0x0a, 0x02, 0x12, 0x00])), known)).toEqual({ kind: 'logFlush' });
  });
});
