/**
 * The engine's state and `evolve`, the only code that changes it.
 *
 * Invariants (checked by spec/ and, cheaply, by assertions here):
 * - a task's state changes only along the task machine's table (task-machine.ts);
 * - a queue's ready heap holds every task of it in state `pending` (and possibly stale entries,
 *   never at the top);
 * - `inFlight` equals the number of attempts dispatched and not yet ended (deleted tasks included
 *   until their attempt ends: an orphaned attempt still occupies a slot, until it ends or a test
 *   reset ends it);
 * - the token bucket is only ever debited by a non-forced dispatch outside dev-server mode, after a
 *   refill to that time, and only refilled by time, a deploy (ConfigApplied) or a test reset
 *   (QueuePurged.refillBucket);
 * - `storageBytes` is the summed size of tasks not in a final state.
 *
 * evolve mutates in place (copying a million-task table per event would be hopeless; see
 * DESIGN.md on immer). It is deterministic and does no IO: replaying the same events into a fresh
 * state gives the same state, which spec/replay.spec.ts checks.
 */
import type { QueueConfig, QueueFileConfig } from './queue-config.js';
import { assert, assertNever, fail } from './assert.js';
import type { ConfigHold } from './errors.js';
import type { EngineEvent, EngineSettings, TargetSettings, TaskAdded, TaskOptions } from './events.js';
import { ReadyHeap } from './ready-heap.js';
import { DEFAULT_RETRY_POLICY, retryPolicyFrom, type RetryPolicy } from './retry-policy.js';
import { TASK_STATES, TaskEvent, TaskState, nextTaskState } from './task-machine.js';
import { EndReason, TaskTable, type TaskMeta, type TaskTableOptions } from './task-table.js';
import { createTokenBucket, creditIn, refill, takeToken, hasToken, type TokenBucket } from './token-bucket.js';
import type { Micros } from './time.js';
import { generatedTaskName } from './names.js';
import { retryReasonCode } from './retry-reason.js';

export type QueueStateName = 'running' | 'paused' | 'disabled';

export interface QueueRuntime {
  readonly index: number;
  readonly name: string;
  config: QueueConfig;
  isPush: boolean;
  /** Paused by a command, or by `rate: 0` outside dev-server mode (which never reads the rate, so rate 0 holds nothing there). */
  paused: boolean;
  /** Removed from queue.yaml by a reload: tasks kept, nothing dispatched (reference §1.4). */
  disabled: boolean;
  /** null for pull queues and for rate 0. */
  bucket: TokenBucket | null;
  maxConcurrent: number;
  retryPolicy: RetryPolicy;
  inFlight: number;
  /** Tasks in state `pending`, by (eta, id); its top is always live (see ReadyHeap). */
  readonly ready: ReadyHeap;
  /** Names given explicitly (generated names are derived from ids, see taskName). */
  readonly names: Map<string, number>;
  /**
   * The first task id whose generated name (`task<id>`) the queue still knows: a test reset
   * (QueuePurged.forgetNames) frees every name, so the generated names of the tasks before it name
   * no task any more. 0 until one.
   */
  generatedNamesFrom: number;
  /** Tasks of this queue per TaskState. */
  readonly countByState: Int32Array;
}

export interface EngineState {
  readonly tasks: TaskTable;
  readonly queues: QueueRuntime[];
  readonly queueByName: Map<string, QueueRuntime>;
  config: QueueFileConfig | null;
  settings: EngineSettings;
  storageBytes: number;
  /** Time of the last event applied. */
  lastEventAt: Micros;
  eventsApplied: number;
}

export const DEFAULT_SETTINGS: EngineSettings = Object.freeze({ targets: {}, tombstoneSeconds: 9 * 24 * 3600 });

/**
 * `settings` in one key order: targets by name (code-unit order, as canonicalJson sorts), each
 * `{ scaling, url? }`, then `tombstoneSeconds`, then `devServer` when on. A scenario's `targets` is a YAML mapping and
 * `pushq serve` takes them as repeated flags: the order they were written in means nothing, and
 * without this it reached the ConfigApplied line, so equal inputs wrote different log bytes.
 */
export function settingsInKeyOrder(settings: EngineSettings): EngineSettings {
  const targets: EngineSettings['targets'] = {};
  for (const name of Object.keys(settings.targets).sort()) {
    const t = settings.targets[name] as TargetSettings;
    targets[name] = t.url === undefined ? { scaling: t.scaling } : { scaling: t.scaling, url: t.url };
  }
  return settings.devServer === true ? { targets, tombstoneSeconds: settings.tombstoneSeconds, devServer: true } : { targets, tombstoneSeconds: settings.tombstoneSeconds };
}

/** `tasks`: the table's options (task-table.ts); by default it keeps every task's row. */
export function createEngineState(tasks?: TaskTableOptions | number): EngineState {
  return {
    tasks: new TaskTable(tasks),
    queues: [],
    queueByName: new Map(),
    config: null,
    settings: DEFAULT_SETTINGS,
    storageBytes: 0,
    lastEventAt: 0,
    eventsApplied: 0,
  };
}

export function queueStateName(q: QueueRuntime): QueueStateName {
  if (q.disabled) return 'disabled';
  return q.paused ? 'paused' : 'running';
}

/**
 * What in the configuration itself keeps `q` from running (rate 0, in the file or, for a queue
 * removed from it, in its last configuration), so that no resume can start it (only a new
 * configuration does); null when nothing does.
 */
export function configHold(q: QueueRuntime): ConfigHold | null {
  if (q.isPush && q.bucket === null) return 'rate-zero';
  return null;
}

export { generatedTaskName };

/** The name of task `id`, which must be held (task-table.ts). */
export function taskName(state: EngineState, id: number): string {
  return state.tasks.meta[state.tasks.row(id)]?.name ?? generatedTaskName(id);
}

/** The retry policy of task `id`, which must be held. */
export function taskRetryPolicy(state: EngineState, id: number): RetryPolicy {
  const tasks = state.tasks;
  const r = tasks.row(id);
  const own = tasks.meta[r]?.retry;
  if (own) return own;
  const q = state.queues[tasks.queue[r] as number];
  if (q === undefined) fail(`task ${id} has no queue`);
  return q.retryPolicy;
}

// ---- evolve ------------------------------------------------------------------------------------

export function evolve(state: EngineState, e: EngineEvent): void {
  state.lastEventAt = e.t;
  state.eventsApplied++;
  switch (e.type) {
    case 'TaskAdded':
      addTask(state, e);
      return;
    case 'AttemptDispatched': {
      const tasks = state.tasks;
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      const from = tasks.state[r] as TaskState;
      move(state, q, e.id, r, e.forced ? TaskEvent.Run : TaskEvent.Dispatch);
      if (from === TaskState.Pending) q.ready.dropStale();
      // Dev-server mode takes no token (dev-server.ts): the stub never reads the bucket.
      if (!e.forced && state.settings.devServer !== true) {
        if (q.bucket === null) fail(`dispatch from queue ${q.name}, which has no token bucket`);
        refill(q.bucket, e.t);
        if (!hasToken(q.bucket)) fail(`dispatch from queue ${q.name} without a token at ${e.t}`);
        takeToken(q.bucket);
      }
      q.inFlight++;
      if (tasks.attemptOpen[r] !== 0) fail(`task ${e.id} dispatched while an attempt is in flight`);
      tasks.attemptOpen[r] = 1;
      if (Number.isNaN(tasks.firstAttemptAt[r])) tasks.firstAttemptAt[r] = e.t;
      tasks.dispatchCount[r] = (tasks.dispatchCount[r] as number) + 1;
      return;
    }
    case 'AttemptSucceeded': {
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      move(state, q, e.id, r, TaskEvent.Succeed);
      attemptEnded(state, q, e.id, r, e.status);
      end(state, r, e.t, EndReason.Succeeded);
      return;
    }
    case 'AttemptFailed': {
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      move(state, q, e.id, r, TaskEvent.Fail);
      attemptEnded(state, q, e.id, r, e.status);
      state.tasks.eta[r] = e.retryAt;
      state.tasks.retryReason[r] = retryReasonCode(e.reason, e.error);
      return;
    }
    case 'TaskGaveUp': {
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      move(state, q, e.id, r, TaskEvent.GiveUp);
      attemptEnded(state, q, e.id, r, e.status);
      state.tasks.retryReason[r] = retryReasonCode(e.reason, e.error);
      end(state, r, e.t, EndReason.GaveUp);
      return;
    }
    case 'BackoffElapsed': {
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      move(state, q, e.id, r, TaskEvent.RetryDue);
      q.ready.push(e.id);
      return;
    }
    case 'AttemptOrphaned': {
      const r = heldRow(state, e.id);
      const q = queueOf(state, r);
      assert(state.tasks.state[r] === TaskState.Deleted, `orphaned attempt of task ${e.id}, which is not deleted`);
      attemptEnded(state, q, e.id, r, e.status);
      return;
    }
    case 'TaskDeleted':
      deleteTask(state, e.id, heldRow(state, e.id), e.t, EndReason.Deleted);
      return;
    case 'QueuePaused':
      queueNamed(state, e.queue).paused = true;
      return;
    case 'QueueResumed': {
      // Cloud Tasks' ResumeQueue sets a PAUSED or DISABLED queue RUNNING; a disabled queue runs
      // under its last configuration until a reload that still leaves it out disables it again.
      const q = queueNamed(state, e.queue);
      q.paused = false;
      q.disabled = false;
      return;
    }
    case 'QueuePurged': {
      const q = queueNamed(state, e.queue);
      const tasks = state.tasks;
      for (let id = tasks.base; id < tasks.count; id++) {
        const r = tasks.heldRow(id);
        if (r >= 0 && tasks.queue[r] === q.index && (tasks.state[r] as TaskState) < TaskState.Succeeded && (tasks.addedAt[r] as number) <= e.t) {
          deleteTask(state, id, r, e.t, EndReason.Purged);
        }
      }
      if (e.forgetNames === true) {
        // The names' tombstones go with them, released rows' included.
        for (const id of q.names.values()) tasks.releasedNamed.delete(id);
        q.names.clear();
        q.generatedNamesFrom = tasks.count;
      }
      // Full, as at a deploy: refilled to `t` first so `refilledAt` never moves backwards.
      if (e.refillBucket === true && q.bucket !== null) {
        refill(q.bucket, e.t);
        q.bucket.credit = q.bucket.capacityCredit;
      }
      return;
    }
    case 'ConfigApplied':
      if (e.settingsOnly === true) switchSettings(state, e.settings);
      else applyConfig(state, e.config, e.settings, e.t);
      return;
    case 'ServiceStarted':
      // A mark for the read models (the span pushq was not running), no change of state: the
      // buckets refilled by time meanwhile, and what the stop interrupted is ended by the events
      // after it (restart.ts).
      return;
    default:
      assertNever(e, 'event');
  }
}

/** The row of task `id`, which an event names: it must exist and be held. */
function heldRow(state: EngineState, id: number): number {
  const r = state.tasks.heldRow(id);
  if (r < 0) fail(id >= 0 && id < state.tasks.count ? `event for task ${id}, whose row was released when it ended` : `unknown task id ${id}`);
  return r;
}

function queueOf(state: EngineState, row: number): QueueRuntime {
  return state.queues[state.tasks.queue[row] as number] as QueueRuntime;
}

function queueNamed(state: EngineState, name: string): QueueRuntime {
  const q = state.queueByName.get(name);
  if (q === undefined) fail(`event names unknown queue ${name}`);
  return q;
}

function move(state: EngineState, q: QueueRuntime, id: number, row: number, event: TaskEvent): void {
  const from = state.tasks.state[row] as TaskState;
  const to = nextTaskState(from, event);
  if (to === -1) fail(`task ${id}: event ${event} is not allowed in state ${TASK_STATES[from]}`);
  state.tasks.state[row] = to;
  const counts = q.countByState;
  counts[from] = (counts[from] as number) - 1;
  counts[to] = (counts[to] as number) + 1;
}

function attemptEnded(state: EngineState, q: QueueRuntime, id: number, row: number, status: number | null): void {
  const tasks = state.tasks;
  if (tasks.attemptOpen[row] !== 1) fail(`task ${id}: an attempt ended that was not in flight`);
  tasks.attemptOpen[row] = 0;
  q.inFlight--;
  if (q.inFlight < 0) fail(`queue ${q.name}: in-flight count below zero`);
  if (status !== null) {
    tasks.executionCount[row] = (tasks.executionCount[row] as number) + 1;
    tasks.lastStatus[row] = status;
  }
}

function end(state: EngineState, row: number, t: Micros, reason: EndReason): void {
  const tasks = state.tasks;
  tasks.endedAt[row] = t;
  tasks.endReason[row] = reason;
  state.storageBytes -= tasks.size[row] as number;
}

function deleteTask(state: EngineState, id: number, row: number, t: Micros, reason: EndReason): void {
  const q = queueOf(state, row);
  const from = state.tasks.state[row] as TaskState;
  move(state, q, id, row, TaskEvent.Delete);
  if (from === TaskState.Pending) q.ready.dropStale();
  end(state, row, t, reason);
}

function addTask(state: EngineState, e: TaskAdded): void {
  const q = queueNamed(state, e.queue);
  const tasks = state.tasks;
  if (e.id !== tasks.count) fail(`TaskAdded id ${e.id} out of sequence (expected ${tasks.count})`);
  const options = e.options;
  const meta = options === undefined ? undefined : taskMeta(options);
  const id = tasks.push(TaskState.Pending, q.index, e.eta, e.t, e.size, meta);
  q.countByState[TaskState.Pending] = (q.countByState[TaskState.Pending] as number) + 1;
  q.ready.push(id);
  if (options?.name !== undefined) {
    // A name taken again (its tombstone over): the earlier holder's tombstone, if released, goes.
    const earlier = q.names.get(options.name);
    if (earlier !== undefined) tasks.releasedNamed.delete(earlier);
    q.names.set(options.name, id);
  }
  state.storageBytes += e.size;
}

/** A task's options as its table row keeps them: the event's own object, with retry parameters made a policy once. */
function taskMeta(options: TaskOptions): TaskMeta {
  return options.retry === undefined ? (options as TaskMeta) : { ...options, retry: retryPolicyFrom(options.retry) };
}

/**
 * First configuration, or a reload with deploy semantics (reference §1.4, S28, S29): changed
 * limits take effect; rate 0 pauses; a rate above 0 resumes a paused or disabled queue, unless the
 * file says `resume_paused_queues: false` (then such a queue stays as it is, as gcloud's deploy
 * leaves it); a queue missing from the file is disabled with its tasks kept, except `default`;
 * new queues appear.
 */
function applyConfig(state: EngineState, config: QueueFileConfig, settings: EngineSettings, now: Micros): void {
  const first = state.config === null;
  state.config = config;
  state.settings = settings;
  const seen = new Set<string>();
  for (const qc of config.queues) {
    seen.add(qc.name);
    const existing = state.queueByName.get(qc.name);
    const q = existing ?? createQueue(state, qc);
    configureQueue(q, qc, now, first || existing === undefined, config.resume_paused_queues !== false, settings.devServer === true);
  }
  for (const q of state.queues) {
    if (!seen.has(q.name) && q.name !== 'default') q.disabled = true;
  }
}

function createQueue(state: EngineState, qc: QueueConfig): QueueRuntime {
  const q: QueueRuntime = {
    index: state.queues.length,
    name: qc.name,
    config: qc,
    isPush: qc.mode === 'push',
    paused: false,
    disabled: false,
    bucket: null,
    maxConcurrent: 0,
    retryPolicy: DEFAULT_RETRY_POLICY,
    inFlight: 0,
    ready: new ReadyHeap(state.tasks),
    names: new Map(),
    generatedNamesFrom: 0,
    countByState: new Int32Array(TASK_STATES.length),
  };
  assert(q.index < 65536, 'too many queues for the task table');
  state.queues.push(q);
  state.queueByName.set(q.name, q);
  return q;
}

/**
 * A restart that changes only the settings (no deploy): every queue keeps its state, except what
 * `rate: 0` means, which is the mode's: production pauses such a queue, dev-server mode runs it
 * (a pause by command of a rate-0 queue cannot be told from the rate's there, and goes too).
 */
function switchSettings(state: EngineState, settings: EngineSettings): void {
  const devServer = settings.devServer === true;
  if (devServer !== (state.settings.devServer === true)) {
    for (const q of state.queues) if (configHold(q) === 'rate-zero') q.paused = !devServer;
  }
  state.settings = settings;
}

/** `devServer`: the file's `rate: 0` pauses nothing (dev-server.ts: the mode never reads the rate). */
function configureQueue(q: QueueRuntime, qc: QueueConfig, now: Micros, fresh: boolean, resumes: boolean, devServer: boolean): void {
  q.config = qc;
  q.isPush = qc.mode === 'push';
  q.retryPolicy = retryPolicyFrom(qc.retry_parameters);
  q.maxConcurrent = qc.max_concurrent_requests ?? 0;
  const rate = qc.rate_exact;
  if (!q.isPush || rate === null) {
    q.bucket = null;
  } else if (fresh || q.bucket === null) {
    q.bucket = createTokenBucket(rate, qc.bucket_size ?? 0, now);
  } else {
    // Keep what the queue has, capped to the new size, so a reload is not a free burst; and keep
    // the part of a token it has earned towards the next one, so a reload (even of an unchanged
    // file) does not delay that token: the bucket refills continuously across it (S25).
    refill(q.bucket, now);
    const next = createTokenBucket(rate, qc.bucket_size ?? 0, now);
    next.credit = Math.min(next.capacityCredit, creditIn(q.bucket, next.periodUs));
    q.bucket = next;
  }
  // Deploy semantics: the file's rate decides paused/running, and re-declaring enables; with
  // resume_paused_queues: false a paused or disabled queue keeps that state (rate 0 still pauses).
  const pausedByFile = qc.state === 'paused' && !devServer;
  if (resumes || fresh) {
    q.paused = pausedByFile;
    q.disabled = false;
  } else if (pausedByFile) q.paused = true;
}

