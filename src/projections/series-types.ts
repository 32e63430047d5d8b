/**
 * The shapes of a run's time series and of the figures that explain it (issue "Simulations that
 * answer questions"): what `sim.series()`, `pushq simulate --series/--json/--report` and the
 * HTML report read. Field names are a contract (docs/simulate.md documents each).
 */

/** Why ready tasks waited: ready-task-seconds while the queue was held by each cause. */
export interface WaitByCause {
  /** No whole token in the bucket (rate, bucket_size). */
  tokens: number;
  /** max_concurrent_requests attempts in flight. */
  concurrency: number;
  /** The queue was paused (a command, or `rate: 0` in queue.yaml). */
  paused: number;
  /** The queue cannot dispatch at all: disabled, or a bucket that holds no whole token. */
  disabled: number;
  /** The transport had no room (pushq serve's back-pressure to a full worker). */
  transport: number;
  /**
   * pushq was not running (`pushq serve` stopped or killed, then started again on its log: from the
   * last event before the start to the start, a ServiceStarted's span), unless the queue was paused
   * or disabled then, which held its tasks whatever pushq did. Always 0 in a simulation.
   */
  not_running: number;
}

export type HoldCause = keyof WaitByCause;
export const HOLD_CAUSES: readonly HoldCause[] = ['tokens', 'concurrency', 'paused', 'disabled', 'transport', 'not_running'];

/**
 * The causes that can hold a ready task in dev-server mode (ready-tracker.ts holdCause and
 * downtimeHoldCause): the app's one task at a time (core/dev-server.ts), counted as `concurrency`;
 * a queue disabled (left out of queue.yaml by a reload, or a pull queue); pushq not running. The
 * mode reads no token, no pause and no transport room, so those never hold a task there. The one
 * list of them: the dashboard reads it from dashboard.json (`holdCauses`), the HTML report through
 * holdCausesShown.
 */
export const DEV_SERVER_HOLD_CAUSES: readonly HoldCause[] = ['concurrency', 'disabled', 'not_running'];

/** The causes the mode can hold a ready task by: every one, or in dev-server mode DEV_SERVER_HOLD_CAUSES. */
export function holdCausesOf(devServer: boolean): readonly HoldCause[] {
  return devServer ? DEV_SERVER_HOLD_CAUSES : HOLD_CAUSES;
}

/**
 * The causes a wait chart draws, in HOLD_CAUSES order: those the mode can hold a task by, and any
 * other that holds seconds in `held` (a log switched to dev-server mode after a wait in the
 * default mode), so that no second of a wait is left out. The dashboard's charts.js applies the
 * same rule to dashboard.json's `holdCauses`.
 */
export function holdCausesShown(devServer: boolean, held: readonly Partial<WaitByCause>[]): HoldCause[] {
  const mode = holdCausesOf(devServer);
  return HOLD_CAUSES.filter((c) => mode.includes(c) || held.some((h) => (h[c] ?? 0) > 0));
}

/**
 * How `concurrency` reads in a task's story for the time dev-server mode held it: the app's one
 * task at a time, not the queue's max_concurrent_requests, which the mode does not apply (a user
 * reading "concurrency" would look for the wrong limit).
 */
export const DEV_SERVER_CONCURRENCY_TEXT = "the app's one task at a time (dev-server mode)";

/** How a cause reads in a sentence (a task's story: "held by tokens 0.4s, pushq not running 20s"). */
export const HOLD_CAUSE_TEXT: Readonly<Record<HoldCause, string>> = {
  tokens: 'tokens',
  concurrency: 'concurrency',
  paused: 'paused',
  disabled: 'disabled',
  transport: 'transport',
  not_running: 'pushq not running',
};

/** The first-order figures a queue's configuration implies, beside the simulated ones. */
export interface QueueBound {
  rate_per_second: number | null;
  bucket_size: number | null;
  max_concurrent_requests: number | null;
  /** Mean handler latency the bound assumes (the worker model's, else the run's measured mean). */
  mean_latency_seconds: number | null;
  /** min(rate, max_concurrent_requests / mean latency). */
  throughput_per_second: number | null;
  /** The term that wins the min: `rate` or `max_concurrent_requests`. */
  /** `bucket_size`: a bucket of 0 never holds the whole token a dispatch takes, so the queue sends nothing. */
  binding: 'rate' | 'max_concurrent_requests' | 'bucket_size' | null;
  /** Lower bound on the time from the first add to the end, for the tasks added, all at once, each succeeding at its first attempt. */
  drain_lower_bound_seconds: number | null;
}

/** A run's series, one column per field (uPlot's layout): index i is the interval ending at t_seconds[i]. */
export interface SeriesColumns {
  /** End of each interval [t − Δ, t), seconds since the start. */
  t_seconds: number[];
  // counts in the interval
  added: number[];
  dispatched: number[];
  succeeded: number[];
  /** Attempts that failed: retried (AttemptFailed) or the last one (TaskGaveUp). */
  failed_attempts: number[];
  gave_up: number[];
  // gauges at the end of the interval
  /** Pending, ETA come: dispatchable as far as the task is concerned. */
  ready: number[];
  /** Pending, ETA in the future. */
  delayed: number[];
  backoff: number[];
  in_flight: number[];
  /** Whole tokens in the bucket; null for a queue without one (pull, rate 0). */
  tokens: (number | null)[];
}

export const SERIES_COUNT_FIELDS = ['added', 'dispatched', 'succeeded', 'failed_attempts', 'gave_up'] as const;
export const SERIES_GAUGE_FIELDS = ['ready', 'delayed', 'backoff', 'in_flight', 'tokens'] as const;

export interface SeriesData {
  /** Δ, seconds. */
  resolution_seconds: number;
  /** Per queue name, and `*` for all queues together. */
  queues: Record<string, SeriesColumns>;
}

/**
 * A run's series as it crosses from a worker thread to the experiment: every column of every
 * queue in one Float64Array, null as NaN. It is transferred, not copied (the structured clone of
 * a SeriesData's plain arrays cost about as much as recording them).
 */
export interface PackedSeries {
  /** Δ, seconds (as SeriesData's). */
  resolution_seconds: number;
  /** The queues in SeriesData's key order (`*` among them). */
  queues: string[];
  /** Each queue's rows. */
  rows: number[];
  /** Queue q's field f (SERIES_COUNT_FIELDS, then SERIES_GAUGE_FIELDS) is `rows[q]` values from `offsets[q] + f · rows[q]`. */
  offsets: number[];
  data: Float64Array<ArrayBuffer>;
}

/** The series key of all queues together, beside each queue's name (never a queue name: those are [A-Za-z0-9-]). */
export const ALL_QUEUES = '*';

/** The CSV header of `pushq simulate --series FILE.csv` (one row per interval per queue, `*` for all). */
export const SERIES_CSV_HEADER = ['t_seconds', 'queue', ...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS].join(',');
