/**
 * Where a cluster node sends an App Engine `POST /rpc_http` call (docs/cluster.md, "App Engine
 * /rpc_http"): the remote_api envelope and the method's own message are decoded only as far as
 * the queue names, with the message definitions of the one-node server (src/server/appengine).
 * Pure: bytes and the configuration's queue names in, a plan out; nothing is answered here except
 * the refusals a cluster adds (a BulkAdd over queues with different owners; transactional tasks).
 *
 * Invariants:
 * - Anything this module cannot read (not a Request, another service, an unknown or refused
 *   method, a message that does not decode) goes `anywhere`: any queue's service answers it as
 *   one node does (PARSE_ERROR, CALL_NOT_FOUND, ...), so those answers have one definition.
 * - A queue name the configuration does not hold never picks an owner: the service that gets the
 *   call answers UNKNOWN_QUEUE for it, as one node does.
 * - `logservice.Flush` names no queue and changes nothing: the node answers it itself.
 */
import type protobuf from 'protobufjs';
import { DATASTORE_METHODS } from '../server/appengine/datastore-service.js';
import { MESSAGES, has, utf8, type AddRequestMessage, type RemoteRequest } from '../server/appengine/messages.js';
import { RpcCallError, TaskQueueError } from '../server/appengine/rpc-errors.js';
import { isLogFlush } from '../server/appengine/rpc-http.js';

export type RpcPlan =
  /** One queue's call: to that queue's owner, whole. */
  | { kind: 'queue'; queue: string }
  /** FetchQueueStats: each name asked of its queue's owner, the answers merged in the call's order. */
  | { kind: 'stats'; envelope: RemoteRequest; names: string[] }
  /** FetchQueues: each owner's queues, merged by name. */
  | { kind: 'list'; envelope: RemoteRequest; maxRows: number }
  /** No queue to route by: any queue's service answers as one node does. */
  | { kind: 'anywhere' }
  /** `logservice.Flush`: taken here, its lines dropped, as one node takes it (rpc-http.ts). */
  | { kind: 'logFlush' }
  /** Refused here (nothing was sent anywhere). */
  | { kind: 'refused'; error: TaskQueueError | RpcCallError };

/** Methods that name one queue in `queue_name`, and the message that carries it. */
const ONE_QUEUE: Readonly<Record<string, protobuf.Type>> = {
  Add: MESSAGES.AddRequest,
  Delete: MESSAGES.DeleteRequest,
  PurgeQueue: MESSAGES.PurgeQueueRequest,
  PauseQueue: MESSAGES.PauseQueueRequest,
  ForceRun: MESSAGES.ForceRunRequest,
};

const SERVICE = 'taskqueue';

/**
 * Transactional tasks (docs/cluster.md): a transaction's tasks may name queues of different owners,
 * and adding them as one step would take a commit across those nodes, which pushq does not run;
 * the transaction's calls (BeginTransaction, Commit, Rollback, a transactional Add or BulkAdd)
 * would also each reach whichever owner their queue, or none, picks. Refused, naming why.
 */
function noTransactions(call: string): RpcPlan {
  return {
    kind: 'refused',
    error: new RpcCallError(
      'FEATURE_DISABLED',
      `${call}: transactional tasks are not served in cluster mode: a transaction's tasks may name queues of different owners, and adding them as one step would take a commit across nodes, which pushq does not run; nothing was added; serve transactional tasks with one node (pushq serve without --cluster), or add the tasks without a transaction`,
    ),
  };
}

export function planRpc(body: Uint8Array, known: (queue: string) => boolean): RpcPlan {
  let envelope: RemoteRequest;
  try {
    envelope = MESSAGES.Request.decode(body) as unknown as RemoteRequest;
  } catch {
    return { kind: 'anywhere' };
  }
  const method = envelope.method;
  if (envelope.service_name === 'datastore_v3' && Object.hasOwn(DATASTORE_METHODS, method)) return noTransactions(`datastore_v3.${method}`);
  // Sent by the Go library at the end of every request the app serves: answered by the node the
  // app called. Sent on to a queue's service, it took a hop to another node when this one owned no
  // queue, and failed whenever that owner did (the app then printed a flushLog error per request).
  if (isLogFlush(envelope)) return { kind: 'logFlush' };
  if (envelope.service_name !== SERVICE) return { kind: 'anywhere' };
  try {
    const type = Object.hasOwn(ONE_QUEUE, method) ? ONE_QUEUE[method] : undefined;
    if (type !== undefined) {
      const m = type.decode(envelope.request) as { queue_name?: Uint8Array };
      if (method === 'Add' && has(m, 'transaction')) return noTransactions('taskqueue.Add');
      return { kind: 'queue', queue: utf8(m.queue_name) };
    }
    if (method === 'BulkAdd') {
      const m = MESSAGES.BulkAddRequest.decode(envelope.request) as { add_request?: AddRequestMessage[] };
      if ((m.add_request ?? []).some((r) => has(r, 'transaction'))) return noTransactions('taskqueue.BulkAdd');
      return bulkAdd(m, known);
    }
    if (method === 'FetchQueueStats') {
      const m = MESSAGES.FetchQueueStatsRequest.decode(envelope.request) as { queue_name?: Uint8Array[] };
      return { kind: 'stats', envelope, names: (m.queue_name ?? []).map(utf8) };
    }
    if (method === 'FetchQueues') return { kind: 'list', envelope, maxRows: (MESSAGES.FetchQueuesRequest.decode(envelope.request) as { max_rows?: number }).max_rows ?? 0 };
  } catch {
    // The method's message does not decode: the service says PARSE_ERROR.
  }
  return { kind: 'anywhere' };
}

/**
 * A batch goes whole to the owner of the one configured queue it names. App Engine's libraries
 * send one queue per BulkAdd (Go `AddMulti(ctx, tasks, queue)`, Python `Queue.add([...])`, Java
 * `Queue.add(Iterable)`), and the development server adds a batch to its first task's queue; a
 * batch over several queues would be all-or-nothing only within each owner, so it is refused.
 */
function bulkAdd(m: { add_request?: AddRequestMessage[] }, known: (queue: string) => boolean): RpcPlan {
  const queues = [...new Set((m.add_request ?? []).map((r) => utf8(r.queue_name)).filter(known))];
  if (queues.length === 0) return { kind: 'anywhere' };
  if (queues.length === 1) return { kind: 'queue', queue: queues[0]! };
  return {
    kind: 'refused',
    error: new TaskQueueError(
      'INVALID_REQUEST',
      `taskqueue.BulkAdd names ${queues.length} queues (${queues.slice(0, 5).join(', ')}${queues.length > 5 ? ', ...' : ''}): in cluster mode one batch adds to one queue, as App Engine's libraries send it; nothing was added; send one BulkAdd per queue`,
    ),
  };
}

/** The envelope with another message of the same method: a part of a call split by owner. */
export function withRequest(envelope: RemoteRequest, request: Uint8Array): Uint8Array {
  return MESSAGES.Request.encode(MESSAGES.Request.create({ ...envelope, request })).finish();
}
