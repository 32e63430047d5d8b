/**
 * Every change to the engine's state is one of these events. The log holds them in order;
 * `evolve` (state.ts) is the only code that applies them; replaying a log is a fold of `evolve`.
 *
 * Conventions: `t` is the time the event happened, in integer microseconds (virtual time since
 * the start, or wall time since the epoch); `id` is the task's dense id (its name is in its
 * TaskAdded); fields ending in `Us` are microsecond durations; optional fields are omitted, not
 * null, so the common event stays small on disk. docs/events.md documents each field.
 */
import type { QueueFileConfig, RetryParameters } from './queue-config.js';
import type { HttpMethod } from './task-table.js';

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
  /** How long a finished task's name stays reserved (reference §3.4: 9 days). */
  tombstoneSeconds: number;
}

/** Why an attempt failed. */
export type FailureReason = 'status' | 'deadline' | 'connection';

/** The queue configuration took effect (start, or a reload with deploy semantics). */
export interface ConfigApplied {
  type: 'ConfigApplied';
  t: number;
  config: QueueFileConfig;
  settings: EngineSettings;
}

export interface TaskAdded {
  type: 'TaskAdded';
  t: number;
  id: number;
  queue: string;
  /** Omitted for a generated name, which is `task<id>`. */
  name?: string;
  eta: number;
  /** Omitted: `/_ah/queue/<queue>`. */
  url?: string;
  /** Omitted: POST. */
  method?: HttpMethod;
  headers?: [string, string][];
  /** Base64 payload (real service). */
  body?: string;
  /** Modelled payload size (simulation). */
  bodyBytes?: number;
  target?: string;
  /** Per-task retry options: they replace the queue's as a whole (S15). */
  retry?: RetryParameters;
  /** The task's own handler deadline; omitted: the target's scaling deadline (S34). */
  dispatchDeadlineUs?: number;
  /** Bytes counted against total_storage_limit (reference §3.2 size formula). */
  size: number;
}

export interface AttemptDispatched {
  type: 'AttemptDispatched';
  t: number;
  id: number;
  /** Force-run (RunTask): no token taken. */
  forced?: true;
}

export interface AttemptSucceeded {
  type: 'AttemptSucceeded';
  t: number;
  id: number;
  status: number;
  latencyUs: number;
}

/** An attempt failed and the task will be retried at `retryAt`. */
export interface AttemptFailed {
  type: 'AttemptFailed';
  t: number;
  id: number;
  /** null when no response arrived (deadline, refused connection). */
  status: number | null;
  reason: FailureReason;
  error?: string;
  latencyUs: number;
  /** The retry number being scheduled (1 = first retry): the backoff formula's n. */
  retry: number;
  delayUs: number;
  retryAt: number;
}

/** An attempt failed and the task gave up: both retry limits are exceeded. */
export interface TaskGaveUp {
  type: 'TaskGaveUp';
  t: number;
  id: number;
  status: number | null;
  reason: FailureReason;
  error?: string;
  latencyUs: number;
}

/** A task in backoff reached its retry time and waits for a token again. */
export interface BackoffElapsed {
  type: 'BackoffElapsed';
  t: number;
  id: number;
}

/** An attempt ended for a task that was deleted or purged while it was in flight. */
export interface AttemptOrphaned {
  type: 'AttemptOrphaned';
  t: number;
  id: number;
  status: number | null;
  latencyUs: number;
}

export interface TaskDeleted {
  type: 'TaskDeleted';
  t: number;
  id: number;
}

export interface QueuePaused {
  type: 'QueuePaused';
  t: number;
  queue: string;
}

export interface QueueResumed {
  type: 'QueueResumed';
  t: number;
  queue: string;
}

/** Deletes every task of the queue added at or before `t` (S32); in-flight attempts finish. */
export interface QueuePurged {
  type: 'QueuePurged';
  t: number;
  queue: string;
}

export type EngineEvent =
  | ConfigApplied
  | TaskAdded
  | AttemptDispatched
  | AttemptSucceeded
  | AttemptFailed
  | TaskGaveUp
  | BackoffElapsed
  | AttemptOrphaned
  | TaskDeleted
  | QueuePaused
  | QueueResumed
  | QueuePurged;

export type EngineEventType = EngineEvent['type'];

export const ENGINE_EVENT_TYPES: readonly EngineEventType[] = [
  'ConfigApplied',
  'TaskAdded',
  'AttemptDispatched',
  'AttemptSucceeded',
  'AttemptFailed',
  'TaskGaveUp',
  'BackoffElapsed',
  'AttemptOrphaned',
  'TaskDeleted',
  'QueuePaused',
  'QueueResumed',
  'QueuePurged',
];
