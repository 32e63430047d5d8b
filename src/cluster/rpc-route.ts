/**
 * Where a cluster node sends an App Engine `POST /rpc_http` call (docs/cluster.md, "App Engine
 * /rpc_http"): the remote_api envelope and the method's own message are decoded only as far as
 * the queue names, with the message definitions of the one-node server (src/server/appengine).
 * Pure: bytes and the configuration's queue names in, a plan out. Answered here: the calls whose
 * answer no queue's state decides, with the one-node server's own definitions of those answers,
 * and the refusals a cluster adds (a BulkAdd over queues with different owners; transactional tasks).
 *
 * Invariants:
 * - A call that names no queue is answered by the node itself, as one node answers it: a body
 *   that is no Request or a message that does not decode (PARSE_ERROR), another service or an
 *   unknown method (CALL_NOT_FOUND), a method pushq refuses by name, `logservice.Flush`, a BulkAdd
 *   of no task. Sent on to a queue's service, such a call failed TRANSIENT_ERROR, naming no owner,
 *   whenever no node that owns a queue was reachable, though no owner could answer it otherwise.
 * - A queue name the configuration does not hold never picks an owner: the service that gets the
 *   call answers UNKNOWN_QUEUE for it, as one node does.
 */
import type protobuf from 'protobufjs';
import { fail } from '../core/assert.js';
import { decodeRequest } from '../server/appengine/call-codec.js';
import { DATASTORE_METHODS } from '../server/appengine/datastore-service.js';
import { MESSAGES, has, utf8, type AddRequestMessage, type RemoteRequest } from '../server/appengine/messages.js';
import { RpcCallError, TaskQueueError } from '../server/appengine/rpc-errors.js';
import { answerWithoutQueues, decodeEnvelope } from '../server/appengine/rpc-http.js';
import { emptyBulkAddAnswer } from '../server/appengine/taskqueue-service.js';

export type RpcPlan =
  /** One queue's call: to that queue's owner, whole. */
  | { kind: 'queue'; queue: string }
  /** FetchQueueStats: each name asked of its queue's owner, the answers merged in the call's order. */
  | { kind: 'stats'; envelope: RemoteRequest; names: string[] }
  /** FetchQueues: each owner's queues, merged by name. */
  | { kind: 'list'; envelope: RemoteRequest; maxRows: number }
  /** A BulkAdd whose tasks name only queues outside the configuration (`queue`, the first): any queue's service answers as one node does. */
  | { kind: 'anywhere'; queue: string }
  /** Answered here as one node answers it (rpc-http.ts answerWithoutQueues): the method's response message. */
  | { kind: 'answered'; response: Uint8Array }
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
  try {
    const envelope = decodeEnvelope(body);
    const method = envelope.method;
    if (envelope.service_name === 'datastore_v3' && Object.hasOwn(DATASTORE_METHODS, method)) return noTransactions(`datastore_v3.${method}`);
    // The Go library's logservice.Flush (sent at the end of every request the app serves), another
    // service's call, a method refused or unknown: the answer of one node, given here.
    const answered = answerWithoutQueues(envelope);
    if (answered !== null) return { kind: 'answered', response: answered };
    // A task queue method pushq serves: its message, or the PARSE_ERROR the service would give.
    const call = `${SERVICE}.${method}`;
    const type = Object.hasOwn(ONE_QUEUE, method) ? ONE_QUEUE[method] : undefined;
    if (type !== undefined) {
      const m = decodeRequest<{ queue_name?: Uint8Array }>(type, envelope.request, call);
      if (method === 'Add' && has(m, 'transaction')) return noTransactions(call);
      return { kind: 'queue', queue: utf8(m.queue_name) };
    }
    if (method === 'BulkAdd') {
      const m = decodeRequest<{ add_request?: AddRequestMessage[] }>(MESSAGES.BulkAddRequest, envelope.request, call);
      if ((m.add_request ?? []).some((r) => has(r, 'transaction'))) return noTransactions(call);
      return bulkAdd(m, known);
    }
    if (method === 'FetchQueueStats') {
      const m = decodeRequest<{ queue_name?: Uint8Array[] }>(MESSAGES.FetchQueueStatsRequest, envelope.request, call);
      return { kind: 'stats', envelope, names: (m.queue_name ?? []).map(utf8) };
    }
    if (method === 'FetchQueues') return { kind: 'list', envelope, maxRows: decodeRequest<{ max_rows?: number }>(MESSAGES.FetchQueuesRequest, envelope.request, call).max_rows ?? 0 };
    return fail(`taskqueue.${method} is served (answerWithoutQueues) but has no route here`); // test/cluster/rpc-route.test.ts routes every one
  } catch (err) {
    if (err instanceof RpcCallError || err instanceof TaskQueueError) return { kind: 'refused', error: err };
    throw err;
  }
}

/**
 * A batch goes whole to the owner of the one configured queue it names. App Engine's libraries
 * send one queue per BulkAdd (Go `AddMulti(ctx, tasks, queue)`, Python `Queue.add([...])`, Java
 * `Queue.add(Iterable)`), and the development server adds a batch to its first task's queue; a
 * batch over several queues would be all-or-nothing only within each owner, so it is refused.
 */
function bulkAdd(m: { add_request?: AddRequestMessage[] }, known: (queue: string) => boolean): RpcPlan {
  const requests = m.add_request ?? [];
  if (requests.length === 0) return { kind: 'answered', response: emptyBulkAddAnswer() };
  const queues = [...new Set(requests.map((r) => utf8(r.queue_name)).filter(known))];
  if (queues.length === 0) return { kind: 'anywhere', queue: utf8(requests[0]!.queue_name) };
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
