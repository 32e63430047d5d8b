/**
 * The one definition of every event's shape: for each type, its fields in the one order they are
 * written, each with its kind, whether it may be left out, and what it means. Plain data, so the
 * core stays free of validation libraries; everything else is derived from it:
 *
 * - the TypeScript types (events.ts maps each kind to a type: `EngineEvent` is this table);
 * - the log codec's encoder and validator, one specialised function per type generated at load
 *   (src/log/codec.ts), and the layout of older format versions (src/log/schemas.ts);
 * - the fast decoder's byte matchers (src/log/fast-decode.ts) and the memory log's tape records
 *   (src/log/tape.ts), also generated at load;
 * - docs/events.md, whose tables test/docs/events-doc.test.ts checks row by row against this one.
 *
 * A task's optional fields are one value, `TaskAdded.options` (TASK_OPTION_SCHEMAS): the core
 * passes it from the checked request to the event to the task table whole, so a new option is
 * a row here plus the code that reads it, not a copy in every layer.
 *
 * Order matters: it is the key order on disk, so the same events give the same bytes.
 */

export type FieldKind =
  /** integer microseconds ≥ 0: a time (virtual or wall clock) or a duration */
  | 'us'
  /** an integer ≥ 0 (ids, counts, bytes) */
  | 'uint'
  /** an HTTP status (integer ≥ 0), or null when no response came */
  | 'status'
  /** a queue's name (a string; the same few repeat, so readers may share one string per name) */
  | 'queue'
  | 'string'
  /** a FailureReason: 'status' | 'deadline' | 'connection' */
  | 'reason'
  /** the literal `true` (a flag: left out when false) */
  | 'true'
  /** an HttpMethod */
  | 'method'
  /** [name, value] string pairs */
  | 'headers'
  /** a RetryParameters object */
  | 'retry'
  /** a QueueFileConfig object */
  | 'config'
  /** an EngineSettings object */
  | 'settings'
  /** a TaskOptions object: the fields of TASK_OPTION_SCHEMAS, at least one of them */
  | 'options';

export interface FieldSchema<N extends string = string, K extends FieldKind = FieldKind, O extends boolean = boolean> {
  readonly name: N;
  readonly kind: K;
  /** Left out (never null) when it has no value. */
  readonly optional: O;
  /** What it means, as docs/events.md says it. */
  readonly doc: string;
}

function field<N extends string, K extends FieldKind>(name: N, kind: K, doc: string): FieldSchema<N, K, false> {
  return { name, kind, optional: false, doc };
}

function optional<N extends string, K extends FieldKind>(name: N, kind: K, doc: string): FieldSchema<N, K, true> {
  return { name, kind, optional: true, doc };
}

/** What a task carries beyond the defaults (TaskAdded.options), in write order. */
export const TASK_OPTION_SCHEMAS = [
  optional('name', 'string', 'its name; left out for a generated `task<id>` (a generated `task<id>-<k>` is written)'),
  optional('url', 'string', "the handler's path; left out: `/_ah/queue/<queue>`"),
  optional('method', 'method', 'HTTP method; left out: POST'),
  optional('headers', 'headers', 'request headers'),
  optional('body', 'string', 'payload, base64 (real service)'),
  optional('bodyBytes', 'uint', 'modelled payload size (simulation)'),
  optional('target', 'string', 'the service (or `version.service`) the task is routed to'),
  optional('retry', 'retry', "the task's own retry parameters; they replace the queue's as a whole"),
  optional('dispatchDeadlineUs', 'us', "the task's own handler deadline (Cloud Tasks `dispatchDeadline`); left out: the target's scaling deadline (10 min automatic, 24 h basic/manual), or 10 min for an HTTP target"),
  optional('httpUrl', 'string', "an HTTP target's absolute URL (Cloud Tasks `httpRequest.url`): the task is sent there, not to an App Engine service (`url` and `target` are then left out)"),
  optional('oidcServiceAccount', 'string', 'an HTTP target task with an OIDC token (`oidcToken`): the service account the ID token names (`email`)'),
  optional('oidcAudience', 'string', "the OIDC token's `aud`; left out: the task's URL"),
  optional('oauthServiceAccount', 'string', 'an HTTP target task with an OAuth token (`oauthToken`): the service account the access token is for'),
  optional('oauthScope', 'string', "the OAuth token's scope; left out: `https://www.googleapis.com/auth/cloud-platform`"),
] as const;

/** Every event type's fields, in write order (`type` is always first and is not listed). */
export const EVENT_SCHEMAS = {
  ConfigApplied: [
    field('t', 'us', 'when'),
    field('config', 'config', 'the normalised queue configuration (`QueueFileConfig`: `total_storage_limit_bytes`, `queues` with their rates, bucket sizes, retry parameters, and `resume_paused_queues: false` when the file says so)'),
    field('settings', 'settings', 'engine settings outside queue.yaml: `targets` (service → `{scaling, url?}`), `tombstoneSeconds`, and `devServer: true` in dev-server mode (S39)'),
    optional('settingsOnly', 'true', 'a restart changed the settings and not queue.yaml: the file is not deployed again, so every queue keeps its state (a queue paused through the API stays paused) and its tokens'),
  ],
  TaskAdded: [
    field('t', 'us', 'when it was added'),
    field('id', 'uint', 'its dense id'),
    field('queue', 'queue', 'its queue'),
    field('eta', 'us', 'when it is first due'),
    field('size', 'uint', 'bytes counted against `total_storage_limit`'),
    optional('options', 'options', 'what the task carries beyond the defaults (the fields below); left out when it has none'),
  ],
  AttemptDispatched: [
    field('t', 'us', 'when'),
    field('id', 'uint', 'the task'),
    optional('forced', 'true', 'a forced run (RunTask): no token taken'),
  ],
  AttemptSucceeded: [
    field('t', 'us', 'when the answer came'),
    field('id', 'uint', 'the task'),
    field('status', 'uint', 'the HTTP status'),
    field('latencyUs', 'us', 'dispatch to answer'),
  ],
  AttemptFailed: [
    field('t', 'us', 'when the failure was observed'),
    field('id', 'uint', 'the task'),
    field('status', 'status', 'the HTTP status; null when no response came (deadline, connection)'),
    field('reason', 'reason', '`status`, `deadline` or `connection`'),
    optional('error', 'string', "the transport error's text"),
    field('latencyUs', 'us', 'dispatch to failure'),
    field('retry', 'uint', "the retry being scheduled (1 = first retry): the backoff formula's n"),
    field('delayUs', 'us', 'the backoff chosen: min(max_backoff, min_backoff · 2^min(n−1, max_doublings) · (n − min(n−1, max_doublings)))'),
    field('retryAt', 'us', '`t + delayUs`: when the task is due again'),
  ],
  TaskGaveUp: [
    field('t', 'us', 'when'),
    field('id', 'uint', 'the task'),
    field('status', 'status', 'as in AttemptFailed'),
    field('reason', 'reason', 'as in AttemptFailed'),
    optional('error', 'string', 'as in AttemptFailed'),
    field('latencyUs', 'us', 'dispatch to failure'),
  ],
  BackoffElapsed: [field('t', 'us', 'when'), field('id', 'uint', 'the task')],
  AttemptOrphaned: [
    field('t', 'us', 'when the attempt ended'),
    field('id', 'uint', 'the task'),
    field('status', 'status', 'the HTTP status, or null when none came'),
    optional('error', 'string', "the transport error's text, as in AttemptFailed (a restart's, when one ended the attempt; a test reset's, when it aborted it)"),
    field('latencyUs', 'us', 'dispatch to end'),
  ],
  TaskDeleted: [field('t', 'us', 'when'), field('id', 'uint', 'the task')],
  QueuePaused: [field('t', 'us', 'when'), field('queue', 'queue', 'the queue')],
  QueueResumed: [field('t', 'us', 'when'), field('queue', 'queue', 'the queue')],
  QueuePurged: [
    field('t', 'us', 'when'),
    field('queue', 'queue', 'the queue'),
    optional('forgetNames', 'true', "a test reset (`POST /pushq/reset`): every task name of the queue is free again at once, tombstones and generated names (`task<id>`) included"),
    optional('refillBucket', 'true', "a test reset (`POST /pushq/reset`): the queue's token bucket is full again at `t`, as a freshly deployed queue's (a reset an earlier pushq logged without it left the bucket as it was)"),
  ],
  ServiceStarted: [
    field('t', 'us', 'when the service started again, before it took any request or dispatched anything'),
    field('stoppedAfter', 'us', 'the time of the last event logged before this start: the previous run stopped at some moment after it, which no event says; from here to `t` is counted as pushq not running'),
    optional('node', 'string', "the cluster node that started (`--cluster`: the queue's owner from here on, which may be another node than the last); left out for a single `pushq serve`"),
  ],
} as const satisfies Record<string, readonly FieldSchema[]>;

export type EngineEventType = keyof typeof EVENT_SCHEMAS;

/** Every event type, in the table's order. */
export const ENGINE_EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as readonly EngineEventType[];

