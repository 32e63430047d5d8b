/**
 * The live figures behind the dashboard (`GET /pushq/dashboard.json`, `GET /pushq/queues/Q/tasks`):
 * what the Cloud Tasks resources do not show (tokens now, attempts in flight, tasks per state,
 * attempts and retries, the recent dispatch rate, a task's engine state and HTTP status).
 *
 * Invariants:
 * - Reads only: nothing here changes the engine state (the token bucket is projected to `now` on a
 *   copy of its numbers, never refilled) and nothing touches the log.
 * - Attempts, retries and recent dispatches come from the DispatchCounters projection
 *   (src/projections/dispatch-counters.ts), which carries them across restarts.
 */
import { queueStateName, taskName, type EngineState, type QueueRuntime, type QueueStateName } from '../core/state.js';
import { TASK_STATES, TaskState, isFinal } from '../core/task-machine.js';
import { refill, type TokenBucket } from '../core/token-bucket.js';
import { defaultTaskUrl } from '../core/task-spec.js';
import { US_PER_SECOND, type Micros } from '../core/time.js';
import type { AttemptHistory } from '../projections/attempt-history.js';
import { RECENT_WINDOW_SECONDS, type DispatchCounters } from '../projections/dispatch-counters.js';
import { formatTimestamp } from './timestamps.js';

export interface QueueFigures {
  name: string;
  state: QueueStateName;
  /** Whole and fractional tokens in the bucket at `now`; null without a bucket (rate 0, pull). */
  tokens: number | null;
  bucketSize: number | null;
  ratePerSecond: number;
  inFlight: number;
  maxConcurrent: number;
  tasks: { pending: number; dispatching: number; backoff: number; succeeded: number; gaveUp: number; deleted: number };
  attempts: number;
  retries: number;
  dispatchesRecent: number;
  /** dispatchesRecent over the seconds it covers (the current one counted as far as it went). */
  dispatchRatePerSecond: number;
}

export interface DashboardFigures {
  now: string;
  recentWindowSeconds: number;
  queues: QueueFigures[];
}

/** The bucket's tokens at `now`, as `refill` would make them, without refilling it. */
export function tokensAt(b: TokenBucket, now: Micros): number {
  const copy = { ...b };
  refill(copy, now);
  return copy.credit / copy.periodUs;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function queueFigures(q: QueueRuntime, counters: DispatchCounters, now: Micros): QueueFigures {
  const count = (s: TaskState): number => q.countByState[s] as number;
  const c = counters.of(q.index);
  const recent = c.recent(now);
  const windowSeconds = RECENT_WINDOW_SECONDS - 1 + (now % US_PER_SECOND) / US_PER_SECOND;
  return {
    name: q.name,
    state: queueStateName(q),
    tokens: q.bucket === null ? null : round2(tokensAt(q.bucket, now)),
    bucketSize: q.bucket === null ? null : q.bucket.capacityCredit / q.bucket.periodUs,
    ratePerSecond: q.config.rate_per_second ?? 0,
    inFlight: q.inFlight,
    maxConcurrent: q.maxConcurrent,
    tasks: {
      pending: count(TaskState.Pending),
      dispatching: count(TaskState.Dispatching),
      backoff: count(TaskState.Backoff),
      succeeded: count(TaskState.Succeeded),
      gaveUp: count(TaskState.Failed),
      deleted: count(TaskState.Deleted),
    },
    attempts: c.attempts,
    retries: c.retries,
    dispatchesRecent: recent,
    dispatchRatePerSecond: round2(recent / windowSeconds),
  };
}

export function dashboardFigures(state: EngineState, counters: DispatchCounters, now: Micros): DashboardFigures {
  return { now: formatTimestamp(now), recentWindowSeconds: RECENT_WINDOW_SECONDS, queues: state.queues.map((q) => queueFigures(q, counters, now)) };
}

// ---- tasks of one queue ---------------------------------------------------------------------------

export const TASK_LIST_LIMIT_MAX = 1000;

export interface TaskFigures {
  name: string;
  state: string;
  method: string;
  url: string;
  scheduleTime: string;
  dispatchCount: number;
  responseCount: number;
  /** HTTP status of the last response; null if none came (see lastError) or none yet. */
  lastStatus: number | null;
  /** Why the last attempt got no response (deadline, connection ...), if it did not. */
  lastError: string | null;
}

export interface TaskList {
  queue: string;
  /** Live tasks (pending, dispatching, in backoff) in the queue; `tasks` holds the first `limit`. */
  total: number;
  tasks: TaskFigures[];
}

/** The queue's live tasks in id (creation) order, at most `limit`. */
export function taskList(state: EngineState, history: AttemptHistory, q: QueueRuntime, limit: number): TaskList {
  const t = state.tasks;
  const live = (q.countByState[TaskState.Pending] as number) + (q.countByState[TaskState.Dispatching] as number) + (q.countByState[TaskState.Backoff] as number);
  const tasks: TaskFigures[] = [];
  const wanted = Math.min(limit, live);
  for (let id = 0; id < t.count && tasks.length < wanted; id++) {
    if (t.queue[id] !== q.index) continue;
    const s = t.state[id] as TaskState;
    if (isFinal(s)) continue;
    const meta = t.meta[id];
    const last = history.lastAttempt(id);
    const inFlight = last !== null && Number.isNaN(last.responseTimeUs);
    tasks.push({
      name: taskName(state, id),
      state: TASK_STATES[s] as string,
      method: meta?.method ?? 'POST',
      url: meta?.url ?? defaultTaskUrl(q.name),
      scheduleTime: formatTimestamp(t.eta[id] as number),
      dispatchCount: t.dispatchCount[id] as number,
      responseCount: t.executionCount[id] as number,
      lastStatus: last === null || inFlight ? null : last.status,
      lastError: last === null || inFlight || last.status !== null ? null : (last.error ?? last.reason ?? 'no response'),
    });
  }
  return { queue: q.name, total: live, tasks };
}
