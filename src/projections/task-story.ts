/**
 * A task's whole story, rebuilt from the log: when it was added, each attempt as the worker saw
 * it (retry and execution counts), each backoff with the formula's inputs, and how it ended.
 * A projection: it reads the state right after each event is applied, so the retry policy and
 * counters it records are exactly the ones `decide` used live.
 *
 * It follows every task whose name matches (in any queue, or in `queue`); a name may be reused
 * after its tombstone expires, so the caller picks (the latest, by default).
 */
import { attemptDurationUs } from '../core/attempt.js';
import type { EngineEvent, FailureReason } from '../core/events.js';
import { generatedTaskName, taskRetryPolicy, type EngineState, type QueueRuntime } from '../core/state.js';
import { TASK_STATES, TaskState } from '../core/task-machine.js';
import { EndReason } from '../core/task-table.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { Projection } from './projection.js';
import { downtimeHoldCause, holdCause } from './ready-tracker.js';
import { readyAtUs } from './task-waits.js';
import { DEV_SERVER_CONCURRENCY_TEXT, HOLD_CAUSES, HOLD_CAUSE_TEXT, type HoldCause } from './series-types.js';

export interface BackoffStory {
  /** The formula's n: the retry being scheduled (1 = first retry). */
  retry: number;
  minBackoffUs: number;
  maxBackoffUs: number;
  maxDoublings: number;
  /** min(n − 1, max_doublings). */
  doublings: number;
  delayUs: number;
  nextEtaUs: number;
}

export interface AttemptStory {
  dispatchedAtUs: number;
  forced: boolean;
  /** X-AppEngine-TaskRetryCount the worker saw. */
  retryCount: number;
  /** X-AppEngine-TaskExecutionCount the worker saw. */
  executionCount: number;
  /** X-AppEngine-TaskPreviousResponse the worker saw: the latest answered status before this attempt; null when none. */
  previousStatus: number | null;
  /** null while in flight or when no response came. */
  status: number | null;
  timedOut: boolean;
  reason: FailureReason | null;
  error: string | null;
  endedAtUs: number | null;
  /** Dispatch to end, µs; null while in flight, or when a restart ended the attempt (no event says how long it ran). */
  latencyUs: number | null;
  backoff: BackoffStory | null;
  /** The attempt ended after its task was deleted or purged. */
  orphaned: boolean;
  /** From when the task could go (its ETA, or its backoff's end) to this dispatch, µs; 0 for a forced run, which is not a wait. */
  waitedUs: number;
  /** What held the task's queue during that wait, µs per cause (ready-tracker.ts); only causes that held it. */
  heldByUs: Partial<Record<HoldCause, number>>;
  /**
   * Of heldByUs.concurrency, the µs dev-server mode held it: the app's one task at a time, not the
   * queue's max_concurrent_requests (the series count both as `concurrency`); 0 outside the mode.
   */
  devServerHeldUs: number;
}

/** One cause of an attempt's wait as a story tells it: `text` names what held it, in the mode it held it. */
export interface HeldByPart {
  cause: HoldCause;
  text: string;
  us: number;
}

/**
 * What held an attempt's wait, in HOLD_CAUSES order, as the stories say it (`pushq replay --task`,
 * the dashboard's story panel): `concurrency` held in dev-server mode reads as the app's one task
 * at a time (the rest of it, from before a switch to the mode, as concurrency).
 */
export function heldByParts(a: AttemptStory): HeldByPart[] {
  const parts: HeldByPart[] = [];
  for (const cause of HOLD_CAUSES) {
    const us = a.heldByUs[cause];
    if (us === undefined || us <= 0) continue;
    const devServerUs = cause === 'concurrency' ? Math.min(us, a.devServerHeldUs) : 0;
    if (us > devServerUs) parts.push({ cause, text: HOLD_CAUSE_TEXT[cause], us: us - devServerUs });
    if (devServerUs > 0) parts.push({ cause, text: DEV_SERVER_CONCURRENCY_TEXT, us: devServerUs });
  }
  return parts;
}

export type EndReasonName = 'succeeded' | 'gave_up' | 'deleted' | 'purged';

export interface GiveUpStory {
  attemptsMade: number;
  /** task_retry_limit, null = unlimited. */
  retryLimit: number | null;
  ageUs: number;
  ageLimitUs: number | null;
}

export interface TaskStory {
  id: number;
  name: string;
  queue: string;
  addedAtUs: number;
  etaUs: number;
  ownRetry: boolean;
  attempts: AttemptStory[];
  ended: { reason: EndReasonName; atUs: number; giveUp: GiveUpStory | null } | null;
  /** The task's state after the last event replayed. */
  state: string;
}

/** The latest span pushq was not running (a ServiceStarted), and what held each queue meanwhile (downtimeHoldCause). */
interface Downtime {
  fromUs: number;
  toUs: number;
  causeByQueue: number[];
}

/** A followed task while it waits: since when, and the µs per cause so far. */
interface Waiting {
  readyAtUs: number;
  lastUs: number;
  cause: number;
  /** Whether dev-server mode was on when `cause` was read (its `concurrency` is then the app's one task at a time). */
  devServer: boolean;
  byCause: number[];
  /** Of byCause's concurrency, the µs held in dev-server mode. */
  devServerUs: number;
}

const CAUSE_CONCURRENCY = HOLD_CAUSES.indexOf('concurrency');

/** Adds `us` to what held `w` by `cause`, read in dev-server mode or not. */
function hold(w: Waiting, cause: number, us: number, devServer: boolean): void {
  w.byCause[cause] = (w.byCause[cause] as number) + us;
  if (devServer && cause === CAUSE_CONCURRENCY) w.devServerUs += us;
}

export class TaskStoryCollector implements Projection {
  readonly stories: TaskStory[] = [];
  private readonly byId = new Map<number, TaskStory>();
  private readonly waiting = new Map<number, Waiting>();
  private down: Downtime | null = null;

  constructor(
    private readonly name: string,
    private readonly queue: string | undefined,
  ) {}

  readonly observe = (e: EngineEvent, state: EngineState): void => {
    if (e.type === 'ServiceStarted') {
      this.restarted(e.stoppedAfter, e.t, state);
      return;
    }
    if (this.waiting.size > 0) this.followHolds(e, state);
    switch (e.type) {
      case 'TaskAdded': {
        const name = e.options?.name ?? generatedTaskName(e.id);
        if (name !== this.name || (this.queue !== undefined && e.queue !== this.queue)) return;
        const s: TaskStory = { id: e.id, name, queue: e.queue, addedAtUs: e.t, etaUs: e.eta, ownRetry: e.options?.retry !== undefined, attempts: [], ended: null, state: 'pending' };
        this.stories.push(s);
        this.byId.set(e.id, s);
        this.startWaiting(e.id, Math.max(e.eta, e.t), e.t, state);
        return;
      }
      case 'QueuePurged':
      case 'QueuePaused':
      case 'QueueResumed':
      case 'ConfigApplied':
        for (const s of this.byId.values()) this.refresh(s, state);
        return;
      default:
        break;
    }
    const s = this.byId.get(e.id);
    if (s === undefined) return;
    const last = s.attempts[s.attempts.length - 1];
    switch (e.type) {
      case 'AttemptDispatched': {
        const w = this.waiting.get(e.id);
        this.waiting.delete(e.id);
        const heldByUs: Partial<Record<HoldCause, number>> = {};
        const r = state.tasks.row(e.id);
        // A forced run (`:run`) is not a wait, as for the queue's wait figures and the task lists
        // (insight.ts, task-waits.ts): it went whatever held the queue.
        const forced = e.forced === true;
        if (w !== undefined && !forced) HOLD_CAUSES.forEach((c, i) => w.byCause[i]! > 0 && (heldByUs[c] = w.byCause[i]!));
        s.attempts.push({
          dispatchedAtUs: e.t,
          forced: e.forced === true,
          retryCount: (state.tasks.dispatchCount[r] as number) - 1,
          executionCount: state.tasks.executionCount[r] as number,
          previousStatus: (state.tasks.lastStatus[r] as number) === 0 ? null : (state.tasks.lastStatus[r] as number),
          status: null, timedOut: false, reason: null, error: null, endedAtUs: null, latencyUs: null, backoff: null, orphaned: false,
          waitedUs: w === undefined || forced ? 0 : Math.max(0, e.t - w.readyAtUs),
          heldByUs,
          devServerHeldUs: w === undefined || forced ? 0 : w.devServerUs,
        });
        break;
      }
      case 'AttemptSucceeded':
        if (last) Object.assign(last, { status: e.status, endedAtUs: e.t, latencyUs: e.latencyUs });
        break;
      case 'AttemptFailed': {
        const p = taskRetryPolicy(state, e.id);
        if (last) {
          Object.assign(last, { status: e.status, timedOut: e.reason === 'deadline', reason: e.reason, error: e.error ?? null, endedAtUs: e.t, latencyUs: attemptDurationUs(e) });
          last.backoff = backoffStory(p, e.retry, e.delayUs, e.retryAt);
        }
        break;
      }
      case 'TaskGaveUp': {
        const p = taskRetryPolicy(state, e.id);
        if (last) Object.assign(last, { status: e.status, timedOut: e.reason === 'deadline', reason: e.reason, error: e.error ?? null, endedAtUs: e.t, latencyUs: attemptDurationUs(e) });
        const r = state.tasks.row(e.id);
        const first = state.tasks.firstAttemptAt[r] as number;
        s.ended = { reason: 'gave_up', atUs: e.t, giveUp: { attemptsMade: state.tasks.dispatchCount[r] as number, retryLimit: p.retryLimit, ageUs: e.t - first, ageLimitUs: p.ageLimitUs } };
        break;
      }
      case 'AttemptOrphaned':
        if (last) Object.assign(last, { status: e.status, error: e.error ?? null, endedAtUs: e.t, latencyUs: attemptDurationUs(e), orphaned: true });
        break;
      case 'BackoffElapsed':
        // It could go at its backoff's end (its ETA), which is the event's time in a simulation but
        // may be earlier in a `pushq serve` log: a late timer, or a restart while it was in backoff.
        // The wait counts from there, as the queue's wait figures and the task lists count it, and
        // so does what held it (what the queue's state shows then), or the causes would not add up
        // to the wait.
        const readyAt = readyAtUs(state.tasks, e.id);
        this.startWaiting(e.id, readyAt, Math.min(readyAt, e.t), state);
        break;
      case 'TaskDeleted':
        this.waiting.delete(e.id);
        break;
      default:
        return;
    }
    this.refresh(s, state);
  };

  private startWaiting(id: number, readyAtUs: number, t: number, state: EngineState): void {
    const qi = state.tasks.queue[state.tasks.row(id)] as number;
    const q = state.queues[qi] as QueueRuntime;
    const devServer = state.settings.devServer === true;
    const w: Waiting = { readyAtUs, lastUs: t, cause: holdCause(q, t, devServer), devServer, byCause: HOLD_CAUSES.map(() => 0), devServerUs: 0 };
    const down = this.down;
    if (down !== null && readyAtUs < down.toUs) {
      // It could go before the latest start: its backoff ended while pushq was not running, and
      // the start's timer logged that at once. Up to the span, what held it as before (a late
      // timer); in the span, the span's cause; from the start on, the queue's now.
      if (readyAtUs < down.fromUs) hold(w, w.cause, down.fromUs - readyAtUs, devServer);
      hold(w, down.causeByQueue[qi] as number, down.toUs - Math.max(readyAtUs, down.fromUs), false);
      w.lastUs = down.toUs;
      w.cause = holdCause(q, state.lastEventAt, devServer);
    }
    this.waiting.set(id, w);
  }

  /**
   * pushq started again at `t` after its last event at `stoppedAfterUs` (ServiceStarted): each
   * waiting task adds the time up to then to what held it, and the span to what held its queue
   * while nothing ran (downtimeHoldCause); from the start on, the queue's state says again.
   */
  private restarted(stoppedAfterUs: number, t: number, state: EngineState): void {
    const devServer = state.settings.devServer === true;
    const causeByQueue = state.queues.map((q) => downtimeHoldCause(q, t, devServer));
    this.down = { fromUs: stoppedAfterUs, toUs: t, causeByQueue };
    for (const [id, w] of this.waiting) {
      const r = state.tasks.heldRow(id);
      if (r < 0) {
        this.waiting.delete(id);
        continue;
      }
      const qi = state.tasks.queue[r] as number;
      const before = Math.max(w.lastUs, w.readyAtUs);
      if (stoppedAfterUs > before) hold(w, w.cause, stoppedAfterUs - before, w.devServer);
      const from = Math.max(stoppedAfterUs, before);
      // The span's cause is never concurrency (downtimeHoldCause).
      if (t > from) hold(w, causeByQueue[qi] as number, t - from, false);
      w.lastUs = t;
      w.cause = holdCause(state.queues[qi] as QueueRuntime, t, devServer);
      w.devServer = devServer;
    }
  }

  /**
   * Before the event's own handling: every followed waiting task of the event's queue adds the time
   * since the queue's last event to the cause that held it then, and takes the cause the state
   * shows now (the same bookkeeping as ready-tracker.ts, for a few tasks).
   */
  private followHolds(e: EngineEvent, state: EngineState): void {
    const tasks = state.tasks;
    const queueIndex = 'id' in e ? (tasks.queue[tasks.row(e.id)] as number) : 'queue' in e ? (state.queueByName.get(e.queue)?.index ?? -1) : -2;
    for (const [id, w] of this.waiting) {
      // A waiting task purged and then released (a simulation that releases ended tasks) waits no more.
      const r = tasks.heldRow(id);
      if (r < 0) {
        this.waiting.delete(id);
        continue;
      }
      const qi = tasks.queue[r] as number;
      if (queueIndex !== -2 && queueIndex !== qi) continue;
      const from = Math.max(w.lastUs, w.readyAtUs);
      if (e.t > from) hold(w, w.cause, e.t - from, w.devServer);
      w.lastUs = e.t;
      w.devServer = state.settings.devServer === true;
      w.cause = holdCause(state.queues[qi] as QueueRuntime, e.t, w.devServer);
      if (tasks.state[r] === TaskState.Deleted) this.waiting.delete(id);
    }
  }

  private refresh(s: TaskStory, state: EngineState): void {
    const t = state.tasks;
    // A released task's story was told to its end while its row was held.
    const r = t.heldRow(s.id);
    if (r < 0) return;
    s.state = TASK_STATES[t.state[r] as number] as string;
    if (s.ended === null) {
      const reason = t.endReason[r] as EndReason;
      if (reason === EndReason.Succeeded) s.ended = { reason: 'succeeded', atUs: t.endedAt[r] as number, giveUp: null };
      else if (reason === EndReason.Deleted) s.ended = { reason: 'deleted', atUs: t.endedAt[r] as number, giveUp: null };
      else if (reason === EndReason.Purged) s.ended = { reason: 'purged', atUs: t.endedAt[r] as number, giveUp: null };
    }
  }
}

function backoffStory(p: RetryPolicy, n: number, delayUs: number, retryAt: number): BackoffStory {
  return { retry: n, minBackoffUs: p.minBackoffUs, maxBackoffUs: p.maxBackoffUs, maxDoublings: p.maxDoublings, doublings: Math.min(n - 1, p.maxDoublings), delayUs, nextEtaUs: retryAt };
}
