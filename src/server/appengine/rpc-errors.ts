/**
 * How `POST /rpc_http` fails, in the remote API's two error channels (what the App Engine
 * libraries turn into their own errors):
 *
 * - `RpcCallError` → `Response.rpc_error`: the call itself could not be made (a body that is not a
 *   Request, an unknown service or method, a request too large, a missing header). The Go library
 *   returns it as `*internal.CallError`; Python raises `CallNotFoundError`, `ArgumentError`, ...
 * - `TaskQueueError` → `Response.application_error`: the task queue answered with one of its
 *   TaskQueueServiceError codes. The Go library returns `*internal.APIError` (and maps
 *   TASK_ALREADY_EXISTS / TOMBSTONED_TASK to `taskqueue.ErrTaskAlreadyAdded`); Python raises
 *   `UnknownQueueError`, `TaskAlreadyExistsError`, ...
 *
 * Both answer HTTP 200 with a protobuf Response: the libraries read a non-200 status as "the API
 * server is broken" and drop its body. Every detail ends with a stable code in parentheses, as the
 * REST API's messages do (docs/errors.md).
 */
import type { PushqError, PushqErrorCode } from '../../core/errors.js';
import { engineMessage } from '../errors.js';
import { DATASTORE_ERROR, TASK_QUEUE_ERROR, type DatastoreErrorName, type RpcErrorName, type TaskQueueErrorName } from './messages.js';

/** The call could not be made: `Response.rpc_error`. */
export class RpcCallError extends Error {
  override name = 'RpcCallError';
  constructor(
    readonly code: RpcErrorName,
    detail: string,
  ) {
    super(`${detail} (${code})`);
  }
}

/**
 * The task queue refused: `Response.application_error` with a TaskQueueServiceError code. A
 * Datastore refusal met by a transactional add is `DATASTORE_ERROR` with the Datastore's code
 * added to it (10001 for BAD_REQUEST), as App Engine reports one (the Go library's note:
 * "Datastore error codes are shifted by DATASTORE_ERROR when presented through taskqueue").
 */
export class TaskQueueError extends Error {
  override name = 'TaskQueueError';
  constructor(
    readonly code: TaskQueueErrorName,
    detail: string,
    readonly datastore?: DatastoreErrorName,
  ) {
    super(`${detail} (${datastore === undefined ? code : `${code} + ${datastore}`})`);
  }

  get number(): number {
    return TASK_QUEUE_ERROR[this.code] + (this.datastore === undefined ? 0 : DATASTORE_ERROR[this.datastore]);
  }
}

/** The Datastore refused a transaction call (datastore-service.ts): `Response.application_error` with a datastore_v3 code. */
export class DatastoreError extends Error {
  override name = 'DatastoreError';
  constructor(
    readonly code: DatastoreErrorName,
    detail: string,
  ) {
    super(`${detail} (${code})`);
  }

  get number(): number {
    return DATASTORE_ERROR[this.code];
  }
}

/**
 * The one table: an engine refusal → the task queue's code. `null`: App Engine has no task queue
 * code for it, and the call fails as an RPC error instead (`RPC_FOR_CODE`).
 */
const TASK_QUEUE_CODE: Readonly<Record<PushqErrorCode, TaskQueueErrorName | null>> = {
  UNKNOWN_QUEUE: 'UNKNOWN_QUEUE',
  INVALID_QUEUE_MODE: 'INVALID_QUEUE_MODE',
  TASK_ALREADY_EXISTS: 'TASK_ALREADY_EXISTS',
  TOMBSTONED_TASK: 'TOMBSTONED_TASK',
  INVALID_TASK_NAME: 'INVALID_TASK_NAME',
  // Refined by field below: a URL rule → INVALID_URL, a payload rule → INVALID_PAYLOAD.
  INVALID_TASK: 'INVALID_REQUEST',
  INVALID_ETA: 'INVALID_ETA',
  INVALID_URL: 'INVALID_URL',
  INVALID_HEADER: 'INVALID_REQUEST',
  TASK_TOO_LARGE: 'TASK_TOO_LARGE',
  TOO_MANY_TASKS: 'TOO_MANY_TASKS',
  DUPLICATE_TASK_NAME: 'DUPLICATE_TASK_NAME',
  STORAGE_LIMIT_EXCEEDED: null,
  UNKNOWN_TASK: 'UNKNOWN_TASK',
  // Only a simulation that releases ended tasks says this; a service keeps them.
  TASK_RELEASED: 'UNKNOWN_TASK',
  TASK_NOT_RUNNABLE: 'INVALID_REQUEST',
  QUEUE_NOT_RESUMABLE: 'INVALID_REQUEST',
  INVALID_RETRY_OPTIONS: 'INVALID_RETRY_PARAMETERS',
  INVALID_DISPATCH_DEADLINE: 'INVALID_DISPATCH_DEADLINE',
};

/** Engine codes with no task queue code: the RPC error App Engine would give. */
const RPC_FOR_CODE: Readonly<Partial<Record<PushqErrorCode, RpcErrorName>>> = {
  // total_storage_limit: a quota, which the API server reports as OVER_QUOTA.
  STORAGE_LIMIT_EXCEEDED: 'OVER_QUOTA',
};

/** The task queue's code for an engine refusal (a batch slot's result, or an ApplicationError). */
export function taskQueueCode(err: PushqError): TaskQueueErrorName | null {
  const code = TASK_QUEUE_CODE[err.code];
  if (err.code !== 'INVALID_TASK') return code;
  const field = err.details.field ?? '';
  if (field === 'url') return 'INVALID_URL';
  if (field === 'body' || field === 'bodyBytes') return 'INVALID_PAYLOAD';
  return code;
}

/** An engine refusal as this API reports it. */
export function fromEngineError(err: PushqError): TaskQueueError | RpcCallError {
  const code = taskQueueCode(err);
  if (code !== null) return new TaskQueueError(code, engineMessage(err));
  return new RpcCallError(RPC_FOR_CODE[err.code] ?? 'UNKNOWN', engineMessage(err));
}
