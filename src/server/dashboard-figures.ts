/**
 * The figures per queue behind the dashboard's queue table (`GET /pushq/dashboard.json`, read-api.ts):
 * what the Cloud Tasks resources do not show (tokens at the instant, attempts in flight, tasks per
 * state, attempts and retries, the recent dispatch rate), for a live service now or for any state
 * restored at an instant (time-travel.ts). Task lists: task-search.ts.
 *
 * Invariants:
 * - Reads only: nothing here changes the engine state (the token bucket is projected to `now` on a
 *   copy of its numbers, never refilled) and nothing touches the log.
 * - Attempts, retries and recent dispatches come from the DispatchCounters projection
 *   (src/projections/dispatch-counters.ts), which carries them across restarts.
 */
import type { ConfigHold } from '../core/errors.js';
import { configHold, queueStateName, type EngineState, type QueueRuntime, type QueueStateName } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import { refill, type TokenBucket } from '../core/token-bucket.js';
import { US_PER_SECOND, type Micros } from '../core/time.js';
import { RECENT_WINDOW_SECONDS, type DispatchCounters } from '../projections/dispatch-counters.js';
import { holdCausesOf, type HoldCause } from '../projections/series-types.js';
import { formatTimestamp } from './timestamps.js';

export interface QueueFigures {
  name: string;
  state: QueueStateName;
  /** Whole and fractional tokens in the bucket at `now`; null without a bucket (rate 0, pull). */
  tokens: number | null;
  /** The configuration's bucket_size (the API's maxBurstSize), also at rate 0; null for a pull queue. */
  bucketSize: number | null;
  /** What in the configuration keeps the queue from running (a resume is refused: QUEUE_NOT_RESUMABLE); null when nothing does. */
  configHold: ConfigHold | null;
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
  /**
   * Dev-server mode (S39, core/dev-server.ts) at the instant shown: rate, bucket_size and
   * max_concurrent_requests are not applied, so a queue's tokens hold nothing back (the page says
   * so rather than show a count that means nothing).
   */
  devServer: boolean;
  /**
   * The causes that can hold a ready task at the instant shown (series-types.ts holdCausesOf):
   * every one, or in dev-server mode those the mode can produce; the wait chart draws these, and
   * any other that holds seconds.
   */
  holdCauses: readonly HoldCause[];
  queues: QueueFigures[];
}

/** The bucket's tokens at `now`, as `refill` would make them, without refilling it. */
export function tokensAt(b: TokenBucket, now: Micros): number {
  const copy = { ...b };
  refill(copy, now);
  return copy.credit / copy.periodUs;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function queueFigures(q: QueueRuntime, counters: DispatchCounters, now: Micros, devServer: boolean): QueueFigures {
  const count = (s: TaskState): number => q.countByState[s] as number;
  const c = counters.of(q.index);
  const recent = c.recent(now);
  const windowSeconds = RECENT_WINDOW_SECONDS - 1 + (now % US_PER_SECOND) / US_PER_SECOND;
  return {
    name: q.name,
    state: queueStateName(q),
    tokens: q.bucket === null ? null : round2(tokensAt(q.bucket, now)),
    bucketSize: q.isPush ? q.config.bucket_size : null,
    // Dev-server mode reads no rate (core/dev-server.ts): rate 0 holds nothing there, and a resume is answered.
    configHold: devServer ? null : configHold(q),
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
  const devServer = state.settings.devServer === true;
  return { now: formatTimestamp(now), recentWindowSeconds: RECENT_WINDOW_SECONDS, devServer, holdCauses: holdCausesOf(devServer), queues: state.queues.map((q) => queueFigures(q, counters, now, devServer)) };
}
