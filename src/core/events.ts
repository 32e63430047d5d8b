/**
 * Every change to the engine's state is one of these events. The log holds them in order;
 * `evolve` (state.ts) is the only code that applies them; replaying a log is a fold of `evolve`.
 *
 * The event types are not written here but derived from the schema table (event-schema.ts), so
 * the types, the codec, the decoders and docs/events.md cannot disagree about a field: each kind
 * maps to one TypeScript type (KindTypes below), and an optional field becomes an optional
 * property. What each field means is in the table.
 *
 * Conventions: `t` is the time the event happened, in integer microseconds (virtual time since
 * the start, or wall time since the epoch); `id` is the task's dense id (its name is in its
 * TaskAdded); fields ending in `Us` are microsecond durations; optional fields are omitted, not
 * null, so the common event stays small on disk.
 */
import { ENGINE_EVENT_TYPES, type EVENT_SCHEMAS, type EngineEventType, type FieldSchema, type TASK_OPTION_SCHEMAS } from './event-schema.js';
import type { QueueFileConfig, RetryParameters } from './queue-config.js';
import type { HttpMethod } from './task-table.js';
import type { Micros } from './time.js';

export { ENGINE_EVENT_TYPES, type EngineEventType };

export type TargetScaling = 'automatic' | 'basic' | 'manual';

/** A worker service: how long its handlers may take, and (for `serve`) where it listens. */
export interface TargetSettings {
  scaling: TargetScaling;
  /** Base URL for real dispatch, e.g. http://127.0.0.1:8080. */
  url?: string;
}

/** Engine settings that are not in queue.yaml but shape behaviour, so they are logged too. */
export interface EngineSettings {
  /** Keyed by App Engine service name; `default` is the service of tasks with no target. */
  targets: Record<string, TargetSettings>;
  /** How long a finished task's name stays reserved (reference §3.4: 9 days); dev-server mode keeps names for ever instead. */
  tombstoneSeconds: number;
  /**
   * dev_appserver parity (S39, dev-server.ts): one attempt at a time for the whole app, in ETA
   * order across queues; rate, bucket_size, max_concurrent_requests and pause ignored; a task name
   * reserved for ever. Absent (not false) when off, so a default run's log is unchanged by it.
   */
  devServer?: true;
}

/** Why an attempt failed. */
export type FailureReason = 'status' | 'deadline' | 'connection';

/** The TypeScript type of each field kind. */
interface KindTypes {
  us: Micros;
  uint: number;
  status: number | null;
  queue: string;
  string: string;
  reason: FailureReason;
  true: true;
  method: HttpMethod;
  headers: [string, string][];
  retry: RetryParameters;
  config: QueueFileConfig;
  settings: EngineSettings;
  options: TaskOptions;
}

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** The object a list of field schemas describes: required fields, then optional ones. */
type ShapeOf<F extends readonly FieldSchema[]> = Flatten<
  { -readonly [P in F[number] as P['optional'] extends true ? never : P['name']]: KindTypes[P['kind']] } & {
    -readonly [P in F[number] as P['optional'] extends true ? P['name'] : never]?: KindTypes[P['kind']];
  }
>;

/** What a task carries beyond the defaults (TaskAdded.options): each field absent means the default. */
export type TaskOptions = ShapeOf<typeof TASK_OPTION_SCHEMAS>;

/** The event of one type, as the schema table describes it. */
export type EventOf<T extends EngineEventType> = Flatten<{ type: T } & ShapeOf<(typeof EVENT_SCHEMAS)[T]>>;

/** The queue configuration took effect (start, or a reload with deploy semantics). */
export type ConfigApplied = EventOf<'ConfigApplied'>;
/** A task was added; its options (name, URL, retry parameters, ...) travel as one value. */
export type TaskAdded = EventOf<'TaskAdded'>;
export type AttemptDispatched = EventOf<'AttemptDispatched'>;
export type AttemptSucceeded = EventOf<'AttemptSucceeded'>;
/** An attempt failed and the task will be retried at `retryAt`. */
export type AttemptFailed = EventOf<'AttemptFailed'>;
/** An attempt failed and the task gave up: both retry limits are exceeded. */
export type TaskGaveUp = EventOf<'TaskGaveUp'>;
/** A task in backoff reached its retry time and waits for a token again. */
export type BackoffElapsed = EventOf<'BackoffElapsed'>;
/** An attempt ended for a task that was deleted or purged while it was in flight. */
export type AttemptOrphaned = EventOf<'AttemptOrphaned'>;
export type TaskDeleted = EventOf<'TaskDeleted'>;
export type QueuePaused = EventOf<'QueuePaused'>;
export type QueueResumed = EventOf<'QueueResumed'>;
/** Deletes every task of the queue added at or before `t` (S32); in-flight attempts finish. */
export type QueuePurged = EventOf<'QueuePurged'>;
/**
 * `pushq serve` started on a log that already had events (a restart, or a cluster queue's new
 * owner): from `stoppedAfter` (the last event before it) to `t`, nothing ran the queues.
 */
export type ServiceStarted = EventOf<'ServiceStarted'>;

export type EngineEvent = { [T in EngineEventType]: EventOf<T> }[EngineEventType];
