/**
 * Errors of the REST API in Google's JSON error shape (google.rpc.Status over HTTP):
 *
 *   { "error": { "code": 400, "message": "...", "status": "INVALID_ARGUMENT",
 *                "details": [{ "@type": "type.googleapis.com/google.rpc.BadRequest",
 *                              "fieldViolations": [{ "field": "task.name", "description": "..." }] }] } }
 *
 * One table maps each engine error code (PushqErrorCode) to a canonical status; nothing else in
 * the server decides a status for an engine error. Field names in violations use the Cloud Tasks
 * request's own field paths (`task.app_engine_http_request.relative_uri`), not the engine's.
 */
import { PushqError, type PushqErrorCode } from '../core/errors.js';

export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export const HTTP_STATUS: Readonly<Record<GoogleStatus, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The one table: engine error code → API status. */
export const STATUS_OF_CODE: Readonly<Record<PushqErrorCode, GoogleStatus>> = {
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
};

export function apiFieldPath(engineField: string): string {
  if (engineField.startsWith('headers.')) return `task.app_engine_http_request.headers[${engineField.slice('headers.'.length)}]`;
  return FIELD_PATHS[engineField] ?? engineField;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: GoogleStatus,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  toJSON(): unknown {
    const error: Record<string, unknown> = { code: this.httpStatus, message: this.message, status: this.status };
    if (this.field !== undefined) {
      error['details'] = [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: this.field, description: this.message }] }];
    }
    return { error };
  }
}

/** Which kind of call failed: only "create" keeps TOMBSTONED_TASK as ALREADY_EXISTS. */
export type ApiOperation = 'create' | 'other';

/** Any thrown value → an ApiError (an unknown one is INTERNAL and keeps its message). */
export function toApiError(err: unknown, op: ApiOperation = 'other'): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof PushqError) {
    let status = STATUS_OF_CODE[err.code];
    if (err.code === 'TOMBSTONED_TASK' && op !== 'create') status = 'NOT_FOUND';
    const field = status === 'INVALID_ARGUMENT' && err.details.field !== undefined ? apiFieldPath(err.details.field) : undefined;
    return new ApiError(status, `${err.message} (${err.code})`, field);
  }
  return new ApiError('INTERNAL', err instanceof Error ? err.message : String(err));
}
