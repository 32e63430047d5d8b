/**
 * pushq's own definitions of the App Engine remote API messages it reads and writes on
 * `POST /rpc_http` (the legacy bundled services' API server), written from the facts of Google's
 * `remote_api.proto` and `taskqueue_service.proto` (field numbers, wire types, error codes).
 * Only the messages pushq serves are here; a field the app sends that is not listed is skipped.
 *
 * Every field is `required` where Google's is, in the requests as in the answers: protobufjs
 * refuses a message that lacks one (`missing required 'eta_usec'`), and the service answers that
 * as it answers a message that does not decode (PARSE_ERROR, naming the field). App Engine's
 * libraries always send them: Go and Java check them before sending, and the Python library,
 * whose newer definitions mark them optional, sets every one (an unnamed task's `task_name` is
 * empty, not absent). Fields pushq declares beyond Go's file (the Python library's newer ones)
 * are optional, as there. Messages nested as proto2 groups keep the
 * group form on the wire (the Go library sends and expects groups); protobufjs names a group's
 * field after the group with its first letter lower-cased (`header`, `taskResult`, `queue`, `queueStats`).
 *
 * The error codes are TypeScript constants, and the `.proto` enums are written from them: one
 * definition. test/server/appengine/messages.test.ts checks every field against Google's files.
 */
// The types this module's declarations name, imported by name: a default import would be written
// into messages.d.ts as is, and TypeScript without esModuleInterop (node10 projects) refuses it
// there (TS1192, protobufjs's types have no default export) in every project that imports pushq.
import type { Namespace, Type } from 'protobufjs';
import protobuf from 'protobufjs';

/** remote_api.RpcError.ErrorCode: failures of the call itself (not of the service). */
export const RPC_ERROR = {
  UNKNOWN: 0,
  CALL_NOT_FOUND: 1,
  PARSE_ERROR: 2,
  SECURITY_VIOLATION: 3,
  OVER_QUOTA: 4,
  REQUEST_TOO_LARGE: 5,
  CAPABILITY_DISABLED: 6,
  FEATURE_DISABLED: 7,
  BAD_REQUEST: 8,
  RESPONSE_TOO_LARGE: 9,
  CANCELLED: 10,
  REPLAY_ERROR: 11,
  DEADLINE_EXCEEDED: 12,
} as const;
export type RpcErrorName = keyof typeof RPC_ERROR;

/**
 * TaskQueueServiceError.ErrorCode: the task queue's own answers, in an ApplicationError or in a
 * batch's per-task results. 28 and 29 are in the Python library's newer definitions only.
 */
export const TASK_QUEUE_ERROR = {
  OK: 0,
  UNKNOWN_QUEUE: 1,
  TRANSIENT_ERROR: 2,
  INTERNAL_ERROR: 3,
  TASK_TOO_LARGE: 4,
  INVALID_TASK_NAME: 5,
  INVALID_QUEUE_NAME: 6,
  INVALID_URL: 7,
  INVALID_QUEUE_RATE: 8,
  PERMISSION_DENIED: 9,
  TASK_ALREADY_EXISTS: 10,
  TOMBSTONED_TASK: 11,
  INVALID_ETA: 12,
  INVALID_REQUEST: 13,
  UNKNOWN_TASK: 14,
  TOMBSTONED_QUEUE: 15,
  DUPLICATE_TASK_NAME: 16,
  SKIPPED: 17,
  TOO_MANY_TASKS: 18,
  INVALID_PAYLOAD: 19,
  INVALID_RETRY_PARAMETERS: 20,
  INVALID_QUEUE_MODE: 21,
  ACL_LOOKUP_ERROR: 22,
  TRANSACTIONAL_REQUEST_TOO_LARGE: 23,
  INCORRECT_CREATOR_NAME: 24,
  TASK_LEASE_EXPIRED: 25,
  QUEUE_PAUSED: 26,
  INVALID_TAG: 27,
  INVALID_LOGGING_CONFIG: 28,
  INVALID_DISPATCH_DEADLINE: 29,
  DATASTORE_ERROR: 10000,
} as const;
export type TaskQueueErrorName = keyof typeof TASK_QUEUE_ERROR;

/**
 * datastore_v3 Error.ErrorCode: the Datastore's answers in an ApplicationError. pushq answers only
 * the transaction calls of transactional tasks (datastore-service.ts); through the task queue (a
 * transactional Add) a code is shifted by DATASTORE_ERROR, as App Engine does.
 */
export const DATASTORE_ERROR = {
  BAD_REQUEST: 1,
  CONCURRENT_TRANSACTION: 2,
  INTERNAL_ERROR: 3,
  NEED_INDEX: 4,
  TIMEOUT: 5,
  PERMISSION_DENIED: 6,
  BIGTABLE_ERROR: 7,
  COMMITTED_BUT_STILL_APPLYING: 8,
  CAPABILITY_DISABLED: 9,
  TRY_ALTERNATE_BACKEND: 10,
  SAFE_TIME_TOO_OLD: 11,
} as const;
export type DatastoreErrorName = keyof typeof DATASTORE_ERROR;

/** TaskQueueAddRequest.RequestMethod. */
export const REQUEST_METHOD = { GET: 1, POST: 2, HEAD: 3, PUT: 4, DELETE: 5 } as const;

/** TaskQueueMode.Mode. */
export const QUEUE_MODE = { PUSH: 0, PULL: 1 } as const;

const enumBody = (values: Readonly<Record<string, number>>): string =>
  Object.entries(values)
    .map(([name, n]) => `${name} = ${n};`)
    .join(' ');

const PROTO = `
syntax = "proto2";
package pushq_appengine;

message Request {
  required string service_name = 2;
  required string method = 3;
  required bytes request = 4;
  optional string request_id = 5;
}
message ApplicationError {
  required int32 code = 1;
  required string detail = 2;
}
message RpcError {
  enum ErrorCode { ${enumBody(RPC_ERROR)} }
  required int32 code = 1;
  optional string detail = 2;
}
message Response {
  optional bytes response = 1;
  optional bytes exception = 2;
  optional ApplicationError application_error = 3;
  optional bytes java_exception = 4;
  optional RpcError rpc_error = 5;
}

message TaskQueueServiceError {
  enum ErrorCode { ${enumBody(TASK_QUEUE_ERROR)} }
}
message TaskQueueRetryParameters {
  optional int32 retry_limit = 1;
  optional int64 age_limit_sec = 2;
  optional double min_backoff_sec = 3 [default = 0.1];
  optional double max_backoff_sec = 4 [default = 3600];
  optional int32 max_doublings = 5 [default = 16];
}
message TaskQueueMode {
  enum Mode { ${enumBody(QUEUE_MODE)} }
}

message TaskQueueAddRequest {
  enum RequestMethod { ${enumBody(REQUEST_METHOD)} }
  required bytes queue_name = 1;
  required bytes task_name = 2;
  required int64 eta_usec = 3;
  optional bytes url = 4;
  optional RequestMethod method = 5 [default = POST];
  repeated group Header = 6 {
    required bytes key = 7;
    required bytes value = 8;
  }
  optional bytes body = 9;
  // The datastore_v3 transaction the task is bound to: added when it commits (task-transactions.ts).
  optional Transaction transaction = 10;
  optional bytes app_id = 11;
  optional group CronTimetable = 12 {
    required bytes schedule = 13;
    required bytes timezone = 14;
  }
  optional bytes description = 15;
  optional TaskQueueRetryParameters retry_parameters = 17;
  optional TaskQueueMode.Mode mode = 18 [default = PUSH];
  optional bytes tag = 19;
  optional bytes datastore_transaction = 21;
  optional int64 dispatch_deadline_usec = 22;
}
message TaskQueueAddResponse {
  optional bytes chosen_task_name = 1;
}
message TaskQueueBulkAddRequest {
  repeated TaskQueueAddRequest add_request = 1;
}
message TaskQueueBulkAddResponse {
  repeated group TaskResult = 1 {
    required TaskQueueServiceError.ErrorCode result = 2;
    optional bytes chosen_task_name = 3;
  }
}

message TaskQueueDeleteRequest {
  required bytes queue_name = 1;
  repeated bytes task_name = 2;
  optional bytes app_id = 3;
}
message TaskQueueDeleteResponse {
  repeated TaskQueueServiceError.ErrorCode result = 3;
}

message TaskQueueForceRunRequest {
  optional bytes app_id = 1;
  required bytes queue_name = 2;
  required bytes task_name = 3;
}
message TaskQueueForceRunResponse {
  required TaskQueueServiceError.ErrorCode result = 3;
}

message TaskQueuePurgeQueueRequest {
  optional bytes app_id = 1;
  required bytes queue_name = 2;
}
message TaskQueuePauseQueueRequest {
  required bytes app_id = 1;
  required bytes queue_name = 2;
  required bool pause = 3;
}

message TaskQueueFetchQueuesRequest {
  optional bytes app_id = 1;
  required int32 max_rows = 2;
}
message TaskQueueFetchQueuesResponse {
  repeated group Queue = 1 {
    required bytes queue_name = 2;
    required double bucket_refill_per_second = 3;
    required double bucket_capacity = 4;
    optional string user_specified_rate = 5;
    required bool paused = 6 [default = false];
    optional TaskQueueRetryParameters retry_parameters = 7;
    optional int32 max_concurrent_requests = 8;
    optional TaskQueueMode.Mode mode = 9 [default = PUSH];
    optional string creator_name = 12 [default = "apphosting"];
  }
}

message TaskQueueFetchQueueStatsRequest {
  optional bytes app_id = 1;
  repeated bytes queue_name = 2;
  optional int32 max_num_tasks = 3 [default = 0];
}
message TaskQueueScannerQueueInfo {
  required int64 executed_last_minute = 1;
  required int64 executed_last_hour = 2;
  required double sampling_duration_seconds = 3;
  optional int32 requests_in_flight = 4;
  optional double enforced_rate = 5;
}
message TaskQueueFetchQueueStatsResponse {
  repeated group QueueStats = 1 {
    required int32 num_tasks = 2;
    required int64 oldest_eta_usec = 3;
    optional TaskQueueScannerQueueInfo scanner_info = 4;
  }
}

// Empty answers: PurgeQueue, PauseQueue; datastore_v3.Rollback's (base.VoidProto).
message Void {
}

// datastore_v3: only what a transaction of tasks needs (BeginTransaction, Commit, Rollback).
message InternalHeader {
  optional string qos = 1;
}
message Transaction {
  optional InternalHeader header = 4;
  required fixed64 handle = 1;
  required string app = 2;
  optional bool mark_changes = 3 [default = false];
}
message BeginTransactionRequest {
  enum TransactionMode { UNKNOWN = 0; READ_ONLY = 1; READ_WRITE = 2; }
  optional InternalHeader header = 3;
  required string app = 1;
  optional bool allow_multiple_eg = 2 [default = false];
  optional string database_id = 4;
  optional TransactionMode mode = 5 [default = UNKNOWN];
  optional Transaction previous_transaction = 7;
}
// Commit's answer: no cost and no entity versions (a transaction of tasks writes no entity).
message CommitResponse {
}
`;

/** The parsed definitions, for the codec and for the test that compares them with Google's. */
export const ROOT: Namespace = protobuf.parse(PROTO, { keepCase: true }).root.resolveAll();

const type = (name: string): Type => ROOT.lookupType(`pushq_appengine.${name}`);

export const MESSAGES = {
  Request: type('Request'),
  Response: type('Response'),
  AddRequest: type('TaskQueueAddRequest'),
  AddResponse: type('TaskQueueAddResponse'),
  BulkAddRequest: type('TaskQueueBulkAddRequest'),
  BulkAddResponse: type('TaskQueueBulkAddResponse'),
  DeleteRequest: type('TaskQueueDeleteRequest'),
  DeleteResponse: type('TaskQueueDeleteResponse'),
  ForceRunRequest: type('TaskQueueForceRunRequest'),
  ForceRunResponse: type('TaskQueueForceRunResponse'),
  PurgeQueueRequest: type('TaskQueuePurgeQueueRequest'),
  PauseQueueRequest: type('TaskQueuePauseQueueRequest'),
  FetchQueuesRequest: type('TaskQueueFetchQueuesRequest'),
  FetchQueuesResponse: type('TaskQueueFetchQueuesResponse'),
  FetchQueueStatsRequest: type('TaskQueueFetchQueueStatsRequest'),
  FetchQueueStatsResponse: type('TaskQueueFetchQueueStatsResponse'),
  Void: type('Void'),
  Transaction: type('Transaction'),
  BeginTransactionRequest: type('BeginTransactionRequest'),
  CommitResponse: type('CommitResponse'),
} as const;

// ---- decoded shapes (what protobufjs gives for the fields pushq reads) ----------------------------

/** An int64 as protobufjs decodes it: a Long (the `long` package) or a number. */
export type Int64 = number | { toString(): string };

export interface RemoteRequest {
  service_name: string;
  method: string;
  request: Uint8Array;
  request_id?: string;
}

export interface RetryParametersMessage {
  retry_limit?: number;
  age_limit_sec?: Int64;
  min_backoff_sec?: number;
  max_backoff_sec?: number;
  max_doublings?: number;
}

export interface AddRequestMessage {
  queue_name: Uint8Array;
  task_name: Uint8Array;
  eta_usec: Int64;
  url?: Uint8Array;
  method?: number;
  header?: { key: Uint8Array; value: Uint8Array }[];
  body?: Uint8Array;
  /** null when absent (protobufjs's default for a message field). */
  transaction?: TransactionMessage | null;
  cronTimetable?: unknown;
  /** null when absent (protobufjs's default for a message field). */
  retry_parameters?: RetryParametersMessage | null;
  mode?: number;
  datastore_transaction?: Uint8Array;
  dispatch_deadline_usec?: Int64;
}

/** A datastore_v3 Transaction: the handle pushq gave at BeginTransaction, and the app's id. */
export interface TransactionMessage {
  handle: Int64;
  app: string;
}

/** Whether a decoded message carries `field` itself (not its default from the prototype). */
export function has(message: object, field: string): boolean {
  return Object.hasOwn(message, field);
}

/** An int64 field as a number; NaN when it is not a safe integer (a µs time never is). */
export function int64(v: Int64): number {
  const n = typeof v === 'number' ? v : Number(v.toString());
  return Number.isSafeInteger(n) ? n : NaN;
}

/**
 * Bytes as a string of one character per byte (0-255): how pushq holds an HTTP header, whose
 * value is octets (RFC 9110 obs-text), and how the dispatcher writes it back, byte for byte.
 */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function utf8(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
