/**
 * A TaskQueueAddRequest (what `taskqueue.Add` sends) → the engine's TaskSpec, checked with the
 * Task Queue API's rules (flavour `taskqueue`: past ETAs kept, GET/POST/HEAD/PUT/DELETE, the
 * namespace headers the libraries add accepted; src/core/task-spec.ts).
 *
 * What pushq does not serve is refused here, before the engine sees the task, with the code App
 * Engine uses: pull tasks (INVALID_QUEUE_MODE: pushq runs push queues only), a Cloud Datastore
 * transaction (`datastore_transaction`) and cron tasks (INVALID_REQUEST: they need the Datastore and
 * the cron service, which pushq does not serve). A task bound to a datastore_v3 transaction pushq
 * began is taken (transactional-add.ts) unless it is named: App Engine's rule, INVALID_TASK_NAME.
 */
import type { HttpMethod } from '../../core/task-table.js';
import type { TaskSpec } from '../../core/task-spec.js';
import type { RetryParameters } from '../../core/queue-config.js';
import { has, int64, latin1, utf8, QUEUE_MODE, REQUEST_METHOD, type AddRequestMessage, type RetryParametersMessage } from './messages.js';
import { TaskQueueError } from './rpc-errors.js';
import { targetFromHost } from './host-routing.js';

const METHOD_BY_NUMBER: ReadonlyMap<number, HttpMethod> = new Map(Object.entries(REQUEST_METHOD).map(([name, n]) => [n, name as HttpMethod]));

/** `which` names the task in a batch ("task 3: ...") for the detail. */
function refuse(which: string, code: 'INVALID_QUEUE_MODE' | 'INVALID_REQUEST' | 'INVALID_ETA' | 'UNKNOWN_QUEUE' | 'INVALID_TASK_NAME', text: string): never {
  throw new TaskQueueError(code, `${which}${text}`);
}

/**
 * The task's spec, or a TaskQueueError for what the Task Queue API does not allow or pushq does not
 * serve. `services` are the targets pushq has a URL for (`--target`): a task's Host header routes
 * it to one of them (host-routing.ts).
 */
export function addRequestToSpec(m: AddRequestMessage, services: ReadonlySet<string>, index?: number): TaskSpec {
  const which = index === undefined ? '' : `task ${index}: `;
  const queue = utf8(m.queue_name);
  if (queue === '') refuse(which, 'UNKNOWN_QUEUE', 'the request names no queue (queue_name is empty)');
  if (has(m, 'mode') && m.mode === QUEUE_MODE.PULL) {
    refuse(which, 'INVALID_QUEUE_MODE', `a pull task for queue "${queue}": pushq runs push queues only (pull queues and leasing are not served)`);
  }
  if (has(m, 'datastore_transaction')) {
    refuse(which, 'INVALID_REQUEST', 'a task bound to a Cloud Datastore transaction (datastore_transaction): pushq serves no Datastore; it coordinates only the datastore_v3 transactions begun on it (BeginTransaction)');
  }
  if (has(m, 'cronTimetable')) refuse(which, 'INVALID_REQUEST', 'a cron task: pushq does not serve the cron service');

  const spec: TaskSpec = { queue };
  const name = utf8(m.task_name);
  if (name !== '' && has(m, 'transaction')) {
    refuse(which, 'INVALID_TASK_NAME', `task "${name}" is bound to a transaction: a task bound to a transaction cannot be named (App Engine's rule); add it without a name, or outside the transaction`);
  }
  if (name !== '') spec.name = name;
  if (has(m, 'method')) {
    const method = METHOD_BY_NUMBER.get(m.method as number);
    if (method === undefined) refuse(which, 'INVALID_REQUEST', `method ${m.method} is not one of GET (1), POST (2), HEAD (3), PUT (4), DELETE (5)`);
    spec.method = method;
  }
  if (has(m, 'url')) spec.url = utf8(m.url);
  // A header is bytes, and goes to the worker as those bytes: read one character per byte (the
  // dispatcher writes each back as its byte). Read as UTF-8, a Go app's "é" (C3 A9) reached the
  // worker as E9, and text beyond Latin-1 ("日本") was refused.
  const headers: [string, string][] = (m.header ?? []).map((h) => [latin1(h.key), latin1(h.value)]);
  // A Host header is routing, not a header the worker gets: the dispatcher sends the target's own.
  const hosts = headers.filter(([key]) => key.toLowerCase() === 'host');
  if (hosts.length > 1) refuse(which, 'INVALID_REQUEST', `the task has ${hosts.length} Host headers; a task is routed by one`);
  if (hosts.length === 1) {
    const target = targetFromHost((hosts[0] as [string, string])[1], services);
    if (target !== undefined) spec.target = target;
  }
  const sent = headers.filter(([key]) => key.toLowerCase() !== 'host');
  if (sent.length > 0) spec.headers = sent;
  if (has(m, 'body') && (m.body as Uint8Array).byteLength > 0) spec.body = m.body as Uint8Array;
  // Required (the message does not decode without it: PARSE_ERROR). The dev server's rule: a
  // negative ETA is invalid (a past one is kept and runs at once).
  const eta = int64(m.eta_usec);
  if (!(eta >= 0)) refuse(which, 'INVALID_ETA', `eta_usec ${String(m.eta_usec)} is not a time (microseconds since 1970, 0 or more)`);
  spec.etaUs = eta;
  if (has(m, 'retry_parameters')) spec.retry = retryOf(m.retry_parameters as RetryParametersMessage);
  if (has(m, 'dispatch_deadline_usec')) spec.dispatchDeadlineUs = int64(m.dispatch_deadline_usec as NonNullable<AddRequestMessage['dispatch_deadline_usec']>);
  return spec;
}

/**
 * Per-task retry parameters: only the fields the library set (S15: the rest take the system
 * defaults, not the queue's). The Go library sends a field only when it is above zero.
 */
function retryOf(r: RetryParametersMessage): Partial<RetryParameters> {
  const retry: Partial<RetryParameters> = {};
  if (has(r, 'retry_limit')) retry.task_retry_limit = r.retry_limit as number;
  if (has(r, 'age_limit_sec')) retry.task_age_limit_seconds = int64(r.age_limit_sec as NonNullable<RetryParametersMessage['age_limit_sec']>);
  if (has(r, 'min_backoff_sec')) retry.min_backoff_seconds = r.min_backoff_sec as number;
  if (has(r, 'max_backoff_sec')) retry.max_backoff_seconds = r.max_backoff_sec as number;
  if (has(r, 'max_doublings')) retry.max_doublings = r.max_doublings as number;
  return retry;
}
