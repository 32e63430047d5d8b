/**
 * Errors of the REST API in Google's JSON error shape (google.rpc.Status over HTTP):
 *
 *   { "error": { "code": 400, "message": "...", "status": "INVALID_ARGUMENT",
 *                "details": [{ "@type": "type.googleapis.com/google.rpc.BadRequest",
 *                              "fieldViolations": [{ "field": "task.name", "description": "..." }] },
 *                            { "@type": "type.googleapis.com/google.rpc.ErrorInfo",
 *                              "reason": "INVALID_TASK_NAME", "domain": "pushq" }] } }
 *
 * Every error carries the ErrorInfo (reason: the stable code), as the gRPC trailer does
 * (grpc/grpc-service.ts): the official clients read it as `err.reason` on either transport.
 *
 * One table maps each engine error code (PushqErrorCode) to a canonical status; nothing else in
 * the server decides a status for an engine error. Field names in violations use the Cloud Tasks
 * request's own field paths (`task.app_engine_http_request.relative_uri`), not the engine's.
 */
import { PushqError, TombstonedTaskError, tombstonedMessage, type PushqErrorCode } from '../core/errors.js';
import { LogError, type LogErrorCode } from '../log/log-errors.js';
import { StoreError } from '../store/store.js';
import { formatMessageTime } from './timestamps.js';

export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'INTERNAL';

export const HTTP_STATUS: Readonly<Record<GoogleStatus, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  INTERNAL: 500,
};

/**
 * The HTTP API's own codes, for refusals that are not the engine's (docs/errors.md lists them).
 * Every API error message ends with its code in parentheses, an engine code or one of these.
 */
export type ApiErrorCode =
  | 'INVALID_JSON'
  | 'UNKNOWN_FIELD'
  | 'INVALID_FIELD'
  | 'REQUEST_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HOST_NOT_ALLOWED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'AUTH_REQUIRED'
  | 'INVALID_PATH'
  | 'UNKNOWN_PATH'
  | 'UNSUPPORTED_METHOD'
  | 'QUEUES_FROM_CONFIG'
  | 'HTTP_TARGET_NOT_ALLOWED'
  | 'RESET_NOT_ALLOWED'
  | 'CONFIG_INVALID'
  | 'STORY_UNAVAILABLE'
  | 'STARTING'
  | 'SHUTTING_DOWN'
  | 'LOG_UNAVAILABLE'
  | 'SERVER_BUSY'
  | 'INTERNAL_ERROR';

/** The one table for API codes: status, and the HTTP status when it is not the status's own. */
const API_CODES: Readonly<Record<ApiErrorCode, { status: GoogleStatus; http?: number }>> = {
  INVALID_JSON: { status: 'INVALID_ARGUMENT' },
  UNKNOWN_FIELD: { status: 'INVALID_ARGUMENT' },
  INVALID_FIELD: { status: 'INVALID_ARGUMENT' },
  REQUEST_TOO_LARGE: { status: 'INVALID_ARGUMENT' },
  // 415 says what HTTP clients need to hear; the Google status is the nearest one.
  UNSUPPORTED_MEDIA_TYPE: { status: 'INVALID_ARGUMENT', http: 415 },
  HOST_NOT_ALLOWED: { status: 'PERMISSION_DENIED' },
  ORIGIN_NOT_ALLOWED: { status: 'PERMISSION_DENIED' },
  AUTH_REQUIRED: { status: 'UNAUTHENTICATED' },
  INVALID_PATH: { status: 'INVALID_ARGUMENT' },
  UNKNOWN_PATH: { status: 'NOT_FOUND' },
  UNSUPPORTED_METHOD: { status: 'NOT_FOUND' },
  QUEUES_FROM_CONFIG: { status: 'FAILED_PRECONDITION' },
  HTTP_TARGET_NOT_ALLOWED: { status: 'INVALID_ARGUMENT' },
  RESET_NOT_ALLOWED: { status: 'FAILED_PRECONDITION' },
  CONFIG_INVALID: { status: 'INVALID_ARGUMENT' },
  STORY_UNAVAILABLE: { status: 'UNIMPLEMENTED' },
  STARTING: { status: 'UNAVAILABLE' },
  SHUTTING_DOWN: { status: 'UNAVAILABLE' },
  LOG_UNAVAILABLE: { status: 'UNAVAILABLE' },
  SERVER_BUSY: { status: 'UNAVAILABLE' },
  INTERNAL_ERROR: { status: 'INTERNAL' },
};

export const API_ERROR_CODES = Object.keys(API_CODES) as readonly ApiErrorCode[];

/** The one table: engine error code → API status. */
const STATUS_OF_CODE: Readonly<Record<PushqErrorCode, GoogleStatus>> = {
  UNKNOWN_QUEUE: 'NOT_FOUND',
  INVALID_QUEUE_MODE: 'FAILED_PRECONDITION',
  TASK_ALREADY_EXISTS: 'ALREADY_EXISTS',
  // On create: the name is reserved (ALREADY_EXISTS). On get/delete/run the task is gone:
  // `toApiError` turns it into NOT_FOUND there.
  TOMBSTONED_TASK: 'ALREADY_EXISTS',
  INVALID_TASK_NAME: 'INVALID_ARGUMENT',
  INVALID_TASK: 'INVALID_ARGUMENT',
  INVALID_ETA: 'INVALID_ARGUMENT',
  INVALID_URL: 'INVALID_ARGUMENT',
  INVALID_HEADER: 'INVALID_ARGUMENT',
  TASK_TOO_LARGE: 'INVALID_ARGUMENT',
  TOO_MANY_TASKS: 'INVALID_ARGUMENT',
  DUPLICATE_TASK_NAME: 'INVALID_ARGUMENT',
  STORAGE_LIMIT_EXCEEDED: 'RESOURCE_EXHAUSTED',
  UNKNOWN_TASK: 'NOT_FOUND',
  // Only a simulation that releases ended tasks says this; a service keeps them.
  TASK_RELEASED: 'NOT_FOUND',
  TASK_NOT_RUNNABLE: 'FAILED_PRECONDITION',
  QUEUE_NOT_RESUMABLE: 'FAILED_PRECONDITION',
  INVALID_RETRY_OPTIONS: 'INVALID_ARGUMENT',
  INVALID_DISPATCH_DEADLINE: 'INVALID_ARGUMENT',
};

/** Engine field (TaskSpec) → the CreateTask request's field path. */
const FIELD_PATHS: Readonly<Record<string, string>> = {
  name: 'task.name',
  url: 'task.app_engine_http_request.relative_uri',
  method: 'task.app_engine_http_request.http_method',
  body: 'task.app_engine_http_request.body',
  eta: 'task.schedule_time',
  countdown: 'task.schedule_time',
  target: 'task.app_engine_http_request.app_engine_routing',
  dispatchDeadline: 'task.dispatch_deadline',
  queue: 'parent',
  // An HTTP target's fields (task-spec.ts names them `httpRequest.*`).
  'httpRequest.url': 'task.http_request.url',
  'httpRequest.method': 'task.http_request.http_method',
  'httpRequest.body': 'task.http_request.body',
  'httpRequest.oidcToken': 'task.http_request.oidc_token',
  'httpRequest.oauthToken': 'task.http_request.oauth_token',
};

function apiFieldPath(engineField: string): string {
  if (engineField.startsWith('headers.')) return `task.app_engine_http_request.headers[${engineField.slice('headers.'.length)}]`;
  if (engineField.startsWith('httpRequest.headers.')) return `task.http_request.headers[${engineField.slice('httpRequest.headers.'.length)}]`;
  return FIELD_PATHS[engineField] ?? engineField;
}

function isApiCode(code: string): code is ApiErrorCode {
  return Object.hasOwn(API_CODES, code);
}

/**
 * A value a request sent, as an error message quotes it: its JSON, at most 200 characters. Not
 * String(): JSON can send an object whose own `toString` is not a function, which String() cannot
 * turn into text (a TypeError, answered 500); and a long value is cut, not echoed whole.
 */
export function showSent(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 200);
}

/** The domain of the ErrorInfo detail of every API error, REST and gRPC alike. */
export const ERROR_DOMAIN = 'pushq';

/**
 * The REST `error.details` of a refusal with stable code `code`: a BadRequest when `field` is at
 * fault, then always the ErrorInfo (reason: the code), as the gRPC trailer carries them
 * (grpc-service.ts statusDetails). One definition for the API's errors and a cluster node's own
 * (cluster/errors.ts): without the ErrorInfo, a REST client's err.reason is undefined.
 */
export function restErrorDetails(code: string, message: string, field?: string): Record<string, unknown>[] {
  const details: Record<string, unknown>[] = [];
  if (field !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] });
  details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: ERROR_DOMAIN });
  return details;
}

/**
 * An error answered in Google's shape. The message is the text and then the stable code:
 * `task "x" not found in queue "q" (UNKNOWN_TASK)`.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: GoogleStatus;
  readonly httpStatus: number;

  constructor(
    readonly code: ApiErrorCode | PushqErrorCode | LogReadCode,
    text: string,
    readonly field?: string,
    /** Only to differ from the code's own status (TOMBSTONED_TASK is NOT_FOUND outside create). */
    status?: GoogleStatus,
  ) {
    super(`${text} (${code})`);
    const own = isApiCode(code) ? API_CODES[code] : isLogReadCode(code) ? { status: 'DATA_LOSS' as const } : { status: STATUS_OF_CODE[code] };
    this.status = status ?? own.status;
    this.httpStatus = status === undefined && 'http' in own && own.http !== undefined ? own.http : HTTP_STATUS[this.status];
  }

  toJSON(): unknown {
    return { error: { code: this.httpStatus, message: this.message, status: this.status, details: restErrorDetails(this.code, this.message, this.field) } };
  }
}

/**
 * The log's own errors that a read of it meets (docs/errors.md, "Event log"): the file is gone, is
 * not a pushq log, or is damaged. Answered with their own code as DATA_LOSS (HTTP 500).
 */
const LOG_READ_CODES = ['LOG_NOT_FOUND', 'LOG_NOT_PUSHQ', 'LOG_VERSION_NEWER', 'LOG_CORRUPT'] as const satisfies readonly LogErrorCode[];
export type LogReadCode = (typeof LOG_READ_CODES)[number];

function isLogReadCode(code: string): code is LogReadCode {
  return (LOG_READ_CODES as readonly string[]).includes(code);
}

/** Which kind of call failed: only "create" keeps TOMBSTONED_TASK as ALREADY_EXISTS. */
export type ApiOperation = 'create' | 'other';

/**
 * An engine refusal's message as every API says it: the engine's own, except that a tombstone's
 * end is a date (RFC 3339, whole seconds: formatMessageTime) instead of the engine's seconds.
 */
export function engineMessage(err: PushqError): string {
  if (!(err instanceof TombstonedTaskError)) return err.message;
  return tombstonedMessage(err.details.task ?? '', Number.isFinite(err.reusableAtUs) ? formatMessageTime(err.reusableAtUs) : null);
}

/** Any thrown value → an ApiError (an unknown one is INTERNAL_ERROR and keeps its message). */
export function toApiError(err: unknown, op: ApiOperation = 'other'): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof PushqError) {
    const status = err.code === 'TOMBSTONED_TASK' && op !== 'create' ? 'NOT_FOUND' : STATUS_OF_CODE[err.code];
    const field = status === 'INVALID_ARGUMENT' && err.details.field !== undefined ? apiFieldPath(err.details.field) : undefined;
    return new ApiError(err.code, engineMessage(err), field, status);
  }
  // The disk is full or failing (docs/serve.md, Faults): nothing is acknowledged until it takes writes again.
  if (err instanceof LogError && err.code === 'LOG_WRITE_FAILED') return new ApiError('LOG_UNAVAILABLE', `${err.message}; not acknowledged: pushq takes no change until the log can be written again, retry later`);
  // The service's own log file cannot be read back (the dashboard's past, a task's story): damaged
  // or gone under it. Its own code, as `pushq replay` names it, with the file and byte: not a bug.
  if (err instanceof LogError && isLogReadCode(err.code)) return new ApiError(err.code, `${err.message}; the service goes on, but its past cannot be read from this log`);
  // A read of the store's log (a task's story, the dashboard's past) that the store failed: it is
  // unreachable, does not answer or refuses (named, with the store's code), not a bug of pushq.
  if (err instanceof StoreError) return new ApiError('LOG_UNAVAILABLE', `the store's log cannot be read: ${err.message} (${err.code}); retry later`);
  return new ApiError('INTERNAL_ERROR', err instanceof Error ? err.message : String(err));
}
