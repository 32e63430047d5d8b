/**
 * `POST /rpc_http`: the App Engine API server's endpoint, as the legacy bundled services' libraries
 * call it (Go `google.golang.org/appengine`, Python `appengine-python-standard`, the Java runtime):
 *
 *   POST /rpc_http
 *   Content-Type: application/octet-stream
 *   X-Google-RPC-Service-Endpoint: app-engine-apis
 *   X-Google-RPC-Service-Method: /VMRemoteAPI.CallRemoteAPI
 *   body: remote_api.Request{service_name, method, request (the service's own message), request_id}
 *
 * The answer is always HTTP 200 with a remote_api.Response: the service's answer in `response`, or
 * an `application_error` (the task queue refused) or an `rpc_error` (the call itself was wrong:
 * another service, an unknown method, a body that is no Request, too large, a header missing).
 * A refused call never reaches the engine: nothing is logged.
 *
 * pushq serves the `taskqueue` service (taskqueue-service.ts), of `datastore_v3` only the
 * transaction calls that transactional tasks need (datastore-service.ts), and takes
 * `logservice.Flush` (below).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PushqError } from '../../core/errors.js';
import { LogError } from '../../log/log-errors.js';
import type { ApiContext } from '../api.js';
import { ClientGoneError, discardUnreadBody, readBodyUpTo } from '../body.js';
import { ServerBusyError } from '../body-budget.js';
import { MESSAGES, RPC_ERROR, TASK_QUEUE_ERROR, type RemoteRequest } from './messages.js';
import { DatastoreError, RpcCallError, TaskQueueError, fromEngineError } from './rpc-errors.js';
import { encodeMessage } from './call-codec.js';
import { DATASTORE_METHODS } from './datastore-service.js';
import { REFUSED_TASKQUEUE_METHODS, SERVED_METHODS, TASKQUEUE_METHODS, type TaskQueueMethod } from './taskqueue-service.js';

const RPC_HTTP_PATH = '/rpc_http';
export const RPC_CONTENT_TYPE = 'application/octet-stream';
/** What the endpoint accepts, as both of its refusals of another type say it: the Content-Type rule's 415 (security.ts) and the call's BAD_REQUEST. */
export const RPC_ACCEPTS = `${RPC_HTTP_PATH} accepts only Content-Type: ${RPC_CONTENT_TYPE}, the protobuf body of an App Engine API call`;
/** The largest request body: the dev server's task queue limit (32 MiB; a full BulkAdd is ~10 MiB). */
export const RPC_REQUEST_BYTES_MAX = 32 * 1024 * 1024;
/** The headers every library sends, and the one value each may have. */
const RPC_HEADERS: Readonly<Record<string, string>> = {
  'x-google-rpc-service-endpoint': 'app-engine-apis',
  'x-google-rpc-service-method': '/VMRemoteAPI.CallRemoteAPI',
};
const SERVICE = 'taskqueue';
const DATASTORE = 'datastore_v3';
/**
 * The Go library sends the app's log lines to `logservice.Flush` at the end of every request it
 * serves (and each second while lines wait), forced even when there are none. Refused, each app
 * request printed `internal.flushLog: Flush RPC: ... CALL_NOT_FOUND` on the app's stderr, an
 * error line per request that drowned the app's own. So the call is taken and its lines dropped:
 * outside a second-generation runtime (`GAE_ENV` unset, as docs/app-engine.md's line leaves it)
 * the library prints them on stderr itself. A cluster node answers it the same, itself
 * (answerWithoutQueues): it concerns no queue.
 */
const LOG_FLUSH = { service: 'logservice', method: 'Flush' } as const;

/** Whether a call is `logservice.Flush`, which is taken and its lines dropped (above). */
export function isLogFlush(envelope: Pick<RemoteRequest, 'service_name' | 'method'>): boolean {
  return envelope.service_name === LOG_FLUSH.service && envelope.method === LOG_FLUSH.method;
}

/** Whether a request is for this endpoint (its path, whatever the query). */
export function isRpcHttp(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)) === RPC_HTTP_PATH;
}

/** `application/octet-stream`, with parameters or none. */
export function isRpcContentType(type: string | undefined): boolean {
  return type !== undefined && type.split(';', 1)[0]?.trim().toLowerCase() === RPC_CONTENT_TYPE;
}

/** The request listener for `/rpc_http`: always answers a Response (or drops a client that left). */
export async function serveRpcHttp(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let answer: Uint8Array;
  try {
    answer = await call(ctx, req);
  } catch (err) {
    if (err instanceof ClientGoneError) {
      res.destroy(); // nobody to answer; nothing was done
      return;
    }
    answer = errorResponse(err);
  }
  // A body left unread (too large): answer at once, discard the rest unkept (body.ts).
  discardUnreadBody(req, res);
  res.writeHead(200, { 'content-type': RPC_CONTENT_TYPE, 'content-length': answer.byteLength });
  res.end(answer);
}

async function call(ctx: ApiContext, req: IncomingMessage): Promise<Uint8Array> {
  if (ctx.stopping) throw new RpcCallError('CAPABILITY_DISABLED', 'pushq is shutting down: the call was not made');
  checkCall(req);
  const envelope = decodeEnvelope(await readBody(req, RPC_REQUEST_BYTES_MAX));
  const method = envelope.method;
  if (envelope.service_name === DATASTORE && Object.hasOwn(DATASTORE_METHODS, method)) {
    return okResponse(await (DATASTORE_METHODS[method] as NonNullable<(typeof DATASTORE_METHODS)[string]>)(ctx, envelope.request));
  }
  const answered = answerWithoutQueues(envelope);
  if (answered !== null) return okResponse(answered);
  // What is left is a task queue method pushq serves (answerWithoutQueues).
  return okResponse(await (TASKQUEUE_METHODS[method] as TaskQueueMethod)(ctx, envelope.request));
}

/**
 * The checks of a call before its body is read (its HTTP method and the headers every library
 * sends): a cluster node's front makes them too, so a call refused here is refused alike whether or
 * not any queue's owner is reachable. Throws the call's RpcCallError.
 */
export function checkCall(req: IncomingMessage): void {
  if (req.method !== 'POST') throw new RpcCallError('BAD_REQUEST', `${req.method ?? '?'} ${RPC_HTTP_PATH}: the App Engine API takes POST`);
  for (const [name, value] of Object.entries(RPC_HEADERS)) {
    const given = req.headers[name];
    if (given === undefined) throw new RpcCallError('BAD_REQUEST', `the ${name} header is missing (an App Engine API call sends ${name}: ${value})`);
    if (given !== value) throw new RpcCallError('CALL_NOT_FOUND', `${name}: ${JSON.stringify(String(given).slice(0, 100))} is not served; pushq answers ${name}: ${value}`);
  }
  if (!isRpcContentType(req.headers['content-type'])) {
    const type = req.headers['content-type'];
    throw new RpcCallError('BAD_REQUEST', `${type === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`}: ${RPC_ACCEPTS}`);
  }
}

/** The remote_api Request a body holds, or the call's PARSE_ERROR. */
export function decodeEnvelope(body: Uint8Array): RemoteRequest {
  try {
    return MESSAGES.Request.decode(body) as unknown as RemoteRequest;
  } catch (err) {
    throw new RpcCallError('PARSE_ERROR', `the body is not a remote_api Request: ${(err as Error).message}`);
  }
}

/**
 * The answer to a call that no queue's state decides, the same from every node, one node or a
 * cluster's (cluster/rpc-route.ts answers these itself, whatever owner is reachable): the method's
 * response message, or its refusal thrown: `logservice.Flush` taken; another service, or a task
 * queue method pushq does not know, CALL_NOT_FOUND; a task queue method pushq refuses by name, its
 * refusal. Null: a queue's service answers it (a task queue method pushq serves, or one of the
 * datastore_v3 calls of transactional tasks).
 */
export function answerWithoutQueues(envelope: Pick<RemoteRequest, 'service_name' | 'method'>): Uint8Array | null {
  const service = envelope.service_name;
  const method = envelope.method;
  if (service === DATASTORE && Object.hasOwn(DATASTORE_METHODS, method)) return null;
  if (isLogFlush(envelope)) return encodeMessage(MESSAGES.Void, {});
  if (service !== SERVICE) {
    const transactions = service === DATASTORE ? ` and no Datastore: of ${DATASTORE} it answers only ${Object.keys(DATASTORE_METHODS).join(', ')}, for transactional tasks (a transaction that holds tasks and no entity)` : '';
    throw new RpcCallError('CALL_NOT_FOUND', `the API call ${service}.${method}() was not found: pushq serves only the task queue (service "taskqueue")${transactions}; run ${JSON.stringify(service)} elsewhere (its emulator or the real service)`);
  }
  if (Object.hasOwn(TASKQUEUE_METHODS, method)) return null;
  const refusal = Object.hasOwn(REFUSED_TASKQUEUE_METHODS, method) ? REFUSED_TASKQUEUE_METHODS[method] : undefined;
  if (refusal !== undefined) throw refusal();
  throw new RpcCallError('CALL_NOT_FOUND', `the API call taskqueue.${method}() was not found: pushq serves taskqueue.${SERVED_METHODS.join(', ')}`);
}

/** A Response carrying a method's answer. */
export function okResponse(response: Uint8Array): Uint8Array {
  return MESSAGES.Response.encode(MESSAGES.Response.create({ response })).finish();
}

/** A failure as a Response: application_error for the task queue's refusals, rpc_error otherwise. */
export function errorResponse(err: unknown): Uint8Array {
  const e = err instanceof PushqError ? fromEngineError(err) : err;
  let value: Record<string, unknown>;
  if (e instanceof TaskQueueError || e instanceof DatastoreError) value = { application_error: { code: e.number, detail: e.message } };
  else if (e instanceof LogError && e.code === 'LOG_WRITE_FAILED') value = { application_error: { code: TASK_QUEUE_ERROR.TRANSIENT_ERROR, detail: `${e.message}; not acknowledged, retry later (TRANSIENT_ERROR)` } };
  else if (e instanceof RpcCallError) value = { rpc_error: { code: RPC_ERROR[e.code], detail: e.message } };
  else {
    process.stderr.write(`pushq serve: internal error in ${RPC_HTTP_PATH}: ${(err as Error)?.stack ?? String(err)}\n`);
    value = { rpc_error: { code: RPC_ERROR.UNKNOWN, detail: `pushq internal error: ${(err as Error)?.message ?? String(err)} (INTERNAL_ERROR)` } };
  }
  return MESSAGES.Response.encode(MESSAGES.Response.create(value)).finish();
}

/** The error of a call larger than `limit` bytes (one node's and a cluster node's front alike). */
export function rpcTooLarge(limit: number): RpcCallError {
  return new RpcCallError('REQUEST_TOO_LARGE', `the request is larger than ${limit} bytes, the API server's limit for one call`);
}

/** The error of a call refused for the service's body budget (body-budget.ts): the API's over-quota, which the libraries raise as such (Python's OverQuotaError). */
export function rpcOverQuota(err: ServerBusyError): RpcCallError {
  return new RpcCallError('OVER_QUOTA', err.message);
}

/** The whole body, refused (REQUEST_TOO_LARGE) as soon as it passes `limit`, or past the body budget (OVER_QUOTA), without keeping the rest. */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  let body: Uint8Array | null;
  try {
    body = await readBodyUpTo(req, limit);
  } catch (err) {
    throw err instanceof ServerBusyError ? rpcOverQuota(err) : err;
  }
  if (body === null) throw rpcTooLarge(limit);
  return body;
}
