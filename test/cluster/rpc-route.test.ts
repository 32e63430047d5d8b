/**
 * Where a cluster node sends an App Engine /rpc_http call (src/cluster/rpc-route.ts), from the
 * bytes a library sends: the queue each method names, a BulkAdd's one configured queue (a queue
 * outside the configuration picks no owner), a BulkAdd over two configured queues refused,
 * transactional tasks refused, and every call that names no queue answered by the node itself,
 * with one node's answer (rpc-http.ts answerWithoutQueues, the same function one node calls).
 */
import { describe, expect, it } from 'vitest';
import { TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { RpcCallError, TaskQueueError } from '../../src/server/appengine/rpc-errors.js';
import { TASKQUEUE_METHODS } from '../../src/server/appengine/taskqueue-service.js';
import { planRpc, type RpcPlan } from '../../src/cluster/rpc-route.js';
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
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [addRequest('nope')] }), known)).toEqual({ kind: 'anywhere', queue: 'nope' });
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

  it('every task queue method pushq serves has a route', () => {
    const messages: Record<string, Uint8Array> = {
      Add: encodeMessage('AddRequest', addRequest('a')),
      BulkAdd: encodeMessage('BulkAddRequest', { add_request: [addRequest('a')] }),
      Delete: encodeMessage('DeleteRequest', { queue_name: Buffer.from('a'), task_name: [] }),
      PurgeQueue: encodeMessage('PurgeQueueRequest', { queue_name: Buffer.from('a') }),
      PauseQueue: encodeMessage('PauseQueueRequest', { queue_name: Buffer.from('a'), pause: true }),
      ForceRun: encodeMessage('ForceRunRequest', { queue_name: Buffer.from('a'), task_name: Buffer.from('t') }),
      FetchQueueStats: encodeMessage('FetchQueueStatsRequest', { queue_name: [Buffer.from('a')] }),
      FetchQueues: encodeMessage('FetchQueuesRequest', { max_rows: 0 }),
    };
    expect(Object.keys(messages).sort()).toEqual(Object.keys(TASKQUEUE_METHODS).sort());
    for (const [method, message] of Object.entries(messages)) expect(['queue', 'stats', 'list'], method).toContain(planRpc(envelope('taskqueue', method, message), known).kind);
  });
});

describe('planRpc: a call that names no queue is answered by the node, as one node answers it', () => {
  /** The refusal planned for `body`: its class and its Response's code and detail. */
  function refusal(body: Uint8Array): { error: RpcCallError | TaskQueueError } {
    const plan: RpcPlan = planRpc(body, known);
    expect(plan.kind, JSON.stringify(plan)).toBe('refused');
    return plan as { kind: 'refused'; error: RpcCallError | TaskQueueError };
  }

  // Before: each was { kind: 'anywhere' }, sent to whatever queue's service the node found, and
  // answered TRANSIENT_ERROR (QUEUE_OWNER_UNKNOWN / UNAVAILABLE) when no owner was reachable.
  it('a body that is no Request, or a served method whose message does not decode: PARSE_ERROR', () => {
    const notRequest = refusal(Buffer.from('not a request')).error as RpcCallError;
    expect(notRequest.code).toBe('PARSE_ERROR');
    expect(notRequest.message).toMatch(/^the body is not a remote_api Request: /);
    const bad = refusal(envelope('taskqueue', 'Add', Buffer.from([0xff, 0xff, 0xff]))).error as RpcCallError;
    expect(bad.code).toBe('PARSE_ERROR');
    expect(bad.message).toMatch(/^the request of taskqueue\.Add is not a TaskQueueAddRequest: /);
    // A message without a required field does not decode either, the field named.
    const missing = refusal(envelope('taskqueue', 'Add', withoutField(encodeMessage('AddRequest', addRequest('a')), 3))).error as RpcCallError;
    expect(missing.code).toBe('PARSE_ERROR');
    expect(planRpc(envelope('taskqueue', 'BulkAdd', Buffer.from([0xff])), known).kind).toBe('refused');
    expect(planRpc(envelope('taskqueue', 'FetchQueueStats', Buffer.from([0xff])), known).kind).toBe('refused');
    expect(planRpc(envelope('taskqueue', 'FetchQueues', new Uint8Array()), known).kind).toBe('refused'); // max_rows is required
  });

  it('another service (memcache, the Datastore\'s other calls, logservice.Read) or an unknown task queue method: CALL_NOT_FOUND', () => {
    for (const [service, method] of [['memcache', 'Get'], ['datastore_v3', 'Get'], ['logservice', 'Read'], ['taskqueue', 'NoSuchMethod']] as const) {
      const e = refusal(envelope(service, method, new Uint8Array())).error as RpcCallError;
      expect(e.code, `${service}.${method}`).toBe('CALL_NOT_FOUND');
      expect(e.message).toContain(`the API call ${service}.${method}() was not found`);
    }
  });

  it('a method pushq refuses by name: its refusal, whatever its message', () => {
    const cases = [
      ['QueryAndOwnTasks', TASK_QUEUE_ERROR.INVALID_QUEUE_MODE],
      ['ModifyTaskLease', TASK_QUEUE_ERROR.INVALID_QUEUE_MODE],
      ['UpdateQueue', TASK_QUEUE_ERROR.PERMISSION_DENIED],
      ['DeleteQueue', TASK_QUEUE_ERROR.PERMISSION_DENIED],
    ] as const;
    for (const [method, code] of cases) {
      const e = refusal(call(method, 'PurgeQueueRequest', { queue_name: Buffer.from('a') })).error;
      expect(e, method).toBeInstanceOf(TaskQueueError);
      expect((e as TaskQueueError).number, method).toBe(code);
      expect(e.message).toContain(`taskqueue.${method}: `);
    }
  });

  it('logservice.Flush (the Go library\'s, at the end of every request its app serves) and a BulkAdd of no task: their answers', () => {
    const empty = { kind: 'answered', response: encodeMessage('Void', {}) };
    expect(planRpc(envelope('logservice', 'Flush', new Uint8Array()), known)).toEqual(empty);
    expect(planRpc(envelope('logservice', 'Flush', Buffer.from([0x0a, 0x02, 0x12, 0x00])), known)).toEqual(empty);
    // Go's AddMulti of an empty slice.
    expect(planRpc(call('BulkAdd', 'BulkAddRequest', { add_request: [] }), known)).toEqual({ kind: 'answered', response: encodeMessage('BulkAddResponse', { taskResult: [] }) });
  });
});
