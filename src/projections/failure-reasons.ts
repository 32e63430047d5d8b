/**
 * Failed attempts by reason, over time: each AttemptFailed and TaskGaveUp (the last attempt of a
 * task that gave up is a failed attempt too) kept as (time, queue, reason) in typed arrays, then
 * counted into the intervals of a run's series on demand (`binned`), so the dashboard's chart
 * "failures by reason" shares the x axis of the other charts whatever the series' resolution.
 *
 * Reasons: the HTTP status class for an answer outside 200–299 (`http_5xx`, `http_4xx`,
 * `http_other`), `deadline` (no answer within the handler deadline), `connection` (no answer at
 * all). 13 bytes per failed attempt.
 */
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import type { Micros } from '../core/time.js';
import type { Projection } from './projection.js';

const FAILURE_REASONS = ['http_5xx', 'http_4xx', 'http_other', 'deadline', 'connection'] as const;
export type FailureReasonKey = (typeof FAILURE_REASONS)[number];

const HTTP_5XX = 0;
const HTTP_4XX = 1;
const HTTP_OTHER = 2;
const DEADLINE = 3;
const CONNECTION = 4;

/** The reason index (into FAILURE_REASONS) of a failed attempt. */
function failureReasonIndex(reason: 'status' | 'deadline' | 'connection', status: number | null): number {
  if (reason === 'deadline') return DEADLINE;
  if (reason === 'connection' || status === null) return CONNECTION;
  if (status >= 500 && status <= 599) return HTTP_5XX;
  if (status >= 400 && status <= 499) return HTTP_4XX;
  return HTTP_OTHER;
}

export class FailureReasons implements Projection {
  private times = new Float64Array(1024);
  private queues = new Uint16Array(1024);
  private reasons = new Uint8Array(1024);
  /** Failed attempts recorded. */
  count = 0;

  readonly observe = (e: EngineEvent, state: EngineState): void => {
    if (e.type !== 'AttemptFailed' && e.type !== 'TaskGaveUp') return;
    if (this.count === this.times.length) this.grow();
    const i = this.count++;
    this.times[i] = e.t;
    this.queues[i] = state.tasks.queue[state.tasks.row(e.id)] as number;
    this.reasons[i] = failureReasonIndex(e.reason, e.status);
  };

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    const queues = new Uint16Array(n);
    const reasons = new Uint8Array(n);
    times.set(this.times);
    queues.set(this.queues);
    reasons.set(this.reasons);
    this.times = times;
    this.queues = queues;
    this.reasons = reasons;
  }

  /** Totals per reason up to `untilUs` (included), of queue `queueIndex` or of all (null). */
  totals(queueIndex: number | null, untilUs: Micros = Infinity): Record<FailureReasonKey, number> {
    const out = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReasonKey, number>;
    for (let i = 0; i < this.count && (this.times[i] as number) <= untilUs; i++) {
      if (queueIndex !== null && this.queues[i] !== queueIndex) continue;
      const key = FAILURE_REASONS[this.reasons[i] as number] as FailureReasonKey;
      out[key]++;
    }
    return out;
  }

  /**
   * Counts per reason in each interval of a series: interval i is [start + t[i−1], start + t[i])
   * (t[−1] = 0), as SeriesRecorder counts; `tSeconds` are the series' interval ends since `startUs`.
   */
  binned(queueIndex: number | null, startUs: Micros, tSeconds: readonly number[]): Record<FailureReasonKey, number[]> {
    const n = tSeconds.length;
    const out = Object.fromEntries(FAILURE_REASONS.map((r) => [r, new Array<number>(n).fill(0)])) as Record<FailureReasonKey, number[]>;
    const columns = FAILURE_REASONS.map((r) => out[r]);
    for (let i = 0; i < this.count; i++) {
      if (queueIndex !== null && this.queues[i] !== queueIndex) continue;
      const rel = ((this.times[i] as number) - startUs) / 1e6;
      // The first interval whose end is after the failure.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((tSeconds[mid] as number) > rel) hi = mid;
        else lo = mid + 1;
      }
      if (lo === n) continue;
      const column = columns[this.reasons[i] as number] as number[];
      column[lo] = (column[lo] as number) + 1;
    }
    return out;
  }
}
