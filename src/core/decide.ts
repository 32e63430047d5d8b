/**
 * `decide`: commands in, events out (or a typed error, and then nothing happened).
 *
 * Every function here is pure: it reads the state and the time it is given and returns the
 * events that `evolve` will apply; it never mutates. Two kinds of callers:
 * - users' commands (add, delete, pause, resume, purge, run): they may be refused;
 * - the kernel's scheduling (dispatch, settle an attempt, backoff elapsed): these are the
 *   queue actor's rules, and they cannot be refused, only return "nothing to do".
 */
import { fail } from './assert.js';
import { devServerNextDispatchTime } from './dev-server.js';
import { generatedNameId } from './names.js';
import {
  InvalidQueueModeError,
  PushqError,
  QueueNotResumableError,
  TaskAlreadyExistsError,
  TombstonedTaskError,
  UnknownQueueError,
  UnknownTaskError,
} from './errors.js';
import type {
  AttemptDispatched,
  AttemptFailed,
  AttemptOrphaned,
  AttemptSucceeded,
  BackoffElapsed,
  FailureReason,
  QueuePaused,
  QueuePurged,
  QueueResumed,
  TaskAdded,
  TaskDeleted,
  TaskGaveUp,
} from './events.js';
import { backoffDelayUs, shouldRetry } from './retry-policy.js';
import { generatedTaskName } from './names.js';
import { configHold, taskRetryPolicy, type EngineState, type QueueRuntime } from './state.js';
import { TaskState } from './task-machine.js';
import { TASK_LIMITS, checkTaskSpec, specQueue, tooManyTasksMessage, type CheckedTask, type TaskApiFlavour, type TaskSpec } from './task-spec.js';
import { US_PER_SECOND, type Micros } from './time.js';
import { hasTokenAt, nextTokenAt } from './token-bucket.js';

// ---- lookups ------------------------------------------------------------------------------------

export function requireQueue(state: EngineState, name: string): QueueRuntime {
  const q = state.queueByName.get(name);
  if (!q) throw new UnknownQueueError(name);
  return q;
}

/**
 * The id of the task that holds `name` in queue `q` (live or tombstoned), or -1. A generated name
 * (`task<id>`) is found while its task's row is held: a table that releases ended tasks
 * (task-table.ts) forgets an unnamed task once its row goes, so its generated name is free again.
 */
export function findTaskId(state: EngineState, q: QueueRuntime, name: string): number {
  const explicit = q.names.get(name);
  if (explicit !== undefined) return explicit;
  const id = generatedNameId(name);
  if (id < q.generatedNamesFrom) return -1; // none (-1), or forgotten by a test reset
  const tasks = state.tasks;
  const r = tasks.heldRow(id);
  if (r >= 0 && tasks.queue[r] === q.index && tasks.meta[r]?.name === undefined) return id;
  return -1;
}

/** When the name of ended task `id` is free again: never in dev-server mode (the stub's task_name_archive keeps every name). */
function tombstoneEnds(state: EngineState, id: number): Micros {
  if (state.settings.devServer === true) return Infinity;
  return state.tasks.endedAtOf(id) + state.settings.tombstoneSeconds * US_PER_SECOND;
}

// ---- user commands ------------------------------------------------------------------------------

/**
 * S22: a name given twice in one batch is DUPLICATE_TASK_NAME before anything else of the batch is
 * checked, as App Engine's SDK refuses it on the client before the call is sent: a batch that
 * also names a task that exists, or a bad ETA, is refused for the duplicate.
 */
function refuseDuplicateNames(specs: readonly TaskSpec[]): Map<string, number> | null {
  let first: Map<string, number> | null = null;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as TaskSpec;
    if (spec.name === undefined) continue;
    const queue = specQueue(spec);
    const key = `${queue}/${spec.name}`;
    first ??= new Map();
    const earlier = first.get(key);
    if (earlier !== undefined) throw new PushqError('DUPLICATE_TASK_NAME', `task name "${spec.name}" appears twice in one batch (tasks ${earlier} and ${i})`, { field: 'name', index: i, task: spec.name, queue });
    first.set(key, i);
  }
  return first;
}

/**
 * Adds a batch atomically (S22): every task is checked before any event is made, so a refused
 * batch adds nothing. Also refuses a name that is live (TASK_ALREADY_EXISTS) or ended within the
 * tombstone period (TOMBSTONED_TASK, S19), and a batch that would pass total_storage_limit (S5).
 * `storedElsewhereBytes`: bytes held under the same limit outside this state (a cluster's queues
 * that other kernels own, src/cluster/storage-budget.ts); 0 when this state holds every queue.
 */
export function decideAddTasks(state: EngineState, specs: readonly TaskSpec[], now: Micros, flavour: TaskApiFlavour = 'taskqueue', storedElsewhereBytes = 0): TaskAdded[] {
  if (specs.length > TASK_LIMITS.batch_tasks_max) {
    throw new PushqError('TOO_MANY_TASKS', tooManyTasksMessage(specs.length), { field: 'tasks' });
  }
  // Every name the batch gives, `queue/name` → index (null when it gives none, as most do): a name
  // generated for an unnamed task must dodge the names of later tasks of the batch too.
  const batchNames = refuseDuplicateNames(specs);
  // Sized up front (one event per spec, or a throw): a push onto [] would reserve 16 slots.
  const events = new Array<TaskAdded>(specs.length);
  let bytes = 0;
  let nextId = state.tasks.count;
  // A workload's batch repeats one spec object; checking is pure, so its first check answers for all.
  let checkedSpec: TaskSpec | undefined;
  let checked: CheckedTask | undefined;
  for (let i = 0; i < specs.length; i++) {
    const index = specs.length > 1 ? i : undefined;
    const spec = specs[i] as TaskSpec;
    const task = spec === checkedSpec ? (checked as CheckedTask) : checkTaskSpec(spec, now, flavour, index);
    checkedSpec = spec;
    checked = task;
    const q = requireQueue(state, task.queue);
    if (!q.isPush) throw new InvalidQueueModeError(q.name);
    let name = task.options?.name;
    if (name !== undefined) {
      // A name twice in the batch was refused before the loop (refuseDuplicateNames).
      const holder = findTaskId(state, q, name);
      if (holder >= 0) {
        if (!state.tasks.hasEnded(holder)) throw new TaskAlreadyExistsError(name, q.name, index);
        const reusableAt = tombstoneEnds(state, holder);
        if (reusableAt > now) throw new TombstonedTaskError(name, q.name, reusableAt, index);
      }
    } else if (q.names.size > 0 || batchNames !== null) {
      // A generated name must not collide with a name somebody chose (only possible when
      // somebody chose names: the common unnamed case builds no string here).
      const generated = generatedTaskName(nextId);
      if (q.names.has(generated) || batchNames?.has(`${q.name}/${generated}`) === true) {
        let k = 1;
        while (q.names.has(`${generated}-${k}`) || batchNames?.has(`${q.name}/${generated}-${k}`) === true) k++;
        name = `${generated}-${k}`;
      }
    }
    bytes += task.size;
    // The checked options travel whole; only a generated name that had to dodge a chosen one joins them.
    const options = name === task.options?.name ? task.options : { name, ...task.options };
    const e: TaskAdded = { type: 'TaskAdded', t: now, id: nextId++, queue: q.name, eta: task.eta, size: task.size };
    if (options !== undefined) e.options = options;
    events[i] = e;
  }
  const limit = state.config?.total_storage_limit_bytes ?? null;
  const inUse = state.storageBytes + storedElsewhereBytes;
  if (limit !== null && inUse + bytes > limit) {
    throw new PushqError('STORAGE_LIMIT_EXCEEDED', `adding ${bytes} bytes would pass total_storage_limit (${inUse} of ${limit} bytes in use)`, { field: 'tasks' });
  }
  return events;
}

/** The live task called `name`, or a typed error: unknown, or ended (tombstoned). */
export function requireLiveTask(state: EngineState, queue: string, name: string, now: Micros): number {
  const q = requireQueue(state, queue);
  const id = findTaskId(state, q, name);
  if (id < 0) throw new UnknownTaskError(name, queue);
  if (state.tasks.hasEnded(id)) {
    const reusableAt = tombstoneEnds(state, id);
    if (reusableAt > now) throw new TombstonedTaskError(name, queue, reusableAt);
    throw new UnknownTaskError(name, queue);
  }
  return id;
}

export function decideDeleteTask(state: EngineState, queue: string, name: string, now: Micros): TaskDeleted {
  return { type: 'TaskDeleted', t: now, id: requireLiveTask(state, queue, name, now) };
}

export function decidePauseQueue(state: EngineState, queue: string, now: Micros): QueuePaused {
  requireQueue(state, queue);
  return { type: 'QueuePaused', t: now, queue };
}

/**
 * Resume undoes a pause or a removal from the file (DISABLED, as Cloud Tasks' ResumeQueue does); it
 * cannot give a rate-0 queue a rate. In dev-server mode it is answered for any queue: rate 0 holds
 * nothing there (dev-server.ts), and "keeps it paused" would be untrue.
 */
export function decideResumeQueue(state: EngineState, queue: string, now: Micros): QueueResumed {
  const q = requireQueue(state, queue);
  if (!resumable(state, q)) throw new QueueNotResumableError(queue);
  return { type: 'QueueResumed', t: now, queue };
}

/** Whether a resume of `q` is taken (decideResumeQueue), and so may be offered (stranded-tasks.ts). */
export function resumable(state: EngineState, q: QueueRuntime): boolean {
  return state.settings.devServer === true || configHold(q) === null;
}

/** `forgetNames`: also free every name of the queue, tombstones included. */
export function decidePurgeQueue(state: EngineState, queue: string, now: Micros, forgetNames = false): QueuePurged {
  requireQueue(state, queue);
  return forgetNames ? { type: 'QueuePurged', t: now, queue, forgetNames: true } : { type: 'QueuePurged', t: now, queue };
}

/**
 * A test reset (`POST /pushq/reset`): the queue as a freshly deployed one would be, as one fact.
 * Its tasks are purged, every name is free (tombstones included) and its token bucket is full,
 * so tokens spent by one test are not missing in the next. What the queue's file or a command
 * set (configuration, paused) stays. The attempts in flight are ended by the step after this event
 * (step.ts, `reset-queues`), and their requests aborted (docs/serve.md).
 */
export function decideResetQueue(state: EngineState, queue: string, now: Micros): QueuePurged {
  requireQueue(state, queue);
  return { type: 'QueuePurged', t: now, queue, forgetNames: true, refillBucket: true };
}

/** Force-run (Cloud Tasks RunTask): dispatch now, ignoring ETA, rate and pause. */
export function decideRunTask(state: EngineState, queue: string, name: string, now: Micros): AttemptDispatched {
  const id = requireLiveTask(state, queue, name, now);
  if (state.tasks.state[state.tasks.row(id)] === TaskState.Dispatching) {
    throw new PushqError('TASK_NOT_RUNNABLE', `task "${name}" is already being dispatched`, { field: 'name', task: name, queue });
  }
  return { type: 'AttemptDispatched', t: now, id, forced: true };
}

// ---- the queue actor's rules ---------------------------------------------------------------------

/**
 * Whether the queue may dispatch at all (ignoring tokens, ETAs and concurrency). A bucket that
 * cannot hold one whole token (`bucket_size: 0`) never dispatches, like rate 0.
 */
function queueIsDispatching(q: QueueRuntime): boolean {
  return q.isPush && !q.paused && !q.disabled && q.bucket !== null && q.bucket.capacityCredit >= q.bucket.periodUs;
}

/**
 * The next dispatch from `q` at `now`, or null. S25, S27, S28, S33: the earliest-due ready task,
 * if its ETA has come, a token is available and the concurrency cap is not reached.
 */
export function decideDispatch(state: EngineState, q: QueueRuntime, now: Micros): AttemptDispatched | null {
  if (!queueIsDispatching(q) || q.inFlight >= q.maxConcurrent) return null;
  const id = q.ready.peek();
  if (id < 0 || (state.tasks.eta[state.tasks.row(id)] as number) > now) return null;
  if (!hasTokenAt(q.bucket!, now)) return null;
  return { type: 'AttemptDispatched', t: now, id };
}

/**
 * When `q` could next dispatch without anything else happening first, or null when it waits for
 * an event instead (a response freeing a slot, a task, a resume). In dev-server mode, dev-server.ts's rules.
 */
export function nextDispatchTime(state: EngineState, q: QueueRuntime): Micros | null {
  if (state.settings.devServer === true) return devServerNextDispatchTime(state, q);
  if (!queueIsDispatching(q) || q.inFlight >= q.maxConcurrent) return null;
  const id = q.ready.peek();
  if (id < 0) return null;
  const at = Math.max(state.tasks.eta[state.tasks.row(id)] as number, nextTokenAt(q.bucket!));
  return at === Infinity ? null : at;
}

export interface AttemptOutcome {
  /** HTTP status, or null when none arrived. */
  status: number | null;
  /** Required when status is null; for a non-2xx status it is `status`. */
  reason?: FailureReason;
  error?: string;
  latencyUs: Micros;
}

/**
 * An attempt ended (S7, S11–S14): 2xx succeeds; anything else is a failure that is retried after
 * the backoff delay, unless both retry limits are exceeded.
 */
export function decideSettle(state: EngineState, id: number, outcome: AttemptOutcome, now: Micros): AttemptSucceeded | AttemptFailed | TaskGaveUp | AttemptOrphaned {
  const tasks = state.tasks;
  // An attempt is in flight, so the task's row is held (task-table.ts).
  const r = tasks.row(id);
  const taskState = tasks.state[r] as TaskState;
  const { status, latencyUs } = outcome;
  if (taskState === TaskState.Deleted) {
    // Its error too: a restart's (attempt.ts RESTART_ERROR) says its latencyUs is no duration.
    const e: AttemptOrphaned = { type: 'AttemptOrphaned', t: now, id, status, latencyUs };
    if (outcome.error !== undefined) e.error = outcome.error;
    return e;
  }
  if (taskState !== TaskState.Dispatching) fail(`settle of task ${id}, which is not dispatching`);
  if (status !== null && status >= 200 && status <= 299) return { type: 'AttemptSucceeded', t: now, id, status, latencyUs };
  const reason: FailureReason = status !== null ? 'status' : (outcome.reason ?? 'connection');
  const policy = taskRetryPolicy(state, id);
  const attemptsMade = tasks.dispatchCount[r] as number;
  const ageUs = now - (tasks.firstAttemptAt[r] as number);
  if (!shouldRetry(policy, attemptsMade, ageUs)) {
    const e: TaskGaveUp = { type: 'TaskGaveUp', t: now, id, status, reason, latencyUs };
    if (outcome.error !== undefined) e.error = outcome.error;
    return e;
  }
  const delayUs = backoffDelayUs(attemptsMade, policy);
  const e: AttemptFailed = { type: 'AttemptFailed', t: now, id, status, reason, latencyUs, retry: attemptsMade, delayUs, retryAt: now + delayUs };
  if (outcome.error !== undefined) e.error = outcome.error;
  return e;
}

/** A backoff timer fired: the task waits for a token again, unless it was run or deleted since. */
export function decideBackoffElapsed(state: EngineState, id: number, now: Micros): BackoffElapsed | null {
  const tasks = state.tasks;
  // The task may have been deleted in its backoff, and its row given to another task since.
  const r = tasks.heldRow(id);
  if (r < 0 || tasks.state[r] !== TaskState.Backoff || (tasks.eta[r] as number) > now) return null;
  return { type: 'BackoffElapsed', t: now, id };
}
