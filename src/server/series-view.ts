/**
 * What the dashboard's charts draw (`GET /pushq/series.json`, and pushed by
 * `GET /pushq/series/stream` as Server-Sent Events): the run's series (insight.ts) for all queues
 * (`*`, the timeline) and for one queue, with the failed attempts by reason counted into the same
 * intervals and the limits to draw against (rate, bucket_size, max_concurrent_requests).
 *
 * Over the whole log for a recorded one; up to now for a live service, read as often as the page
 * asks (its interval), never more than once per STREAM_INTERVAL_MIN_SECONDS per connection.
 */
import type { ServerResponse } from 'node:http';
import type { QueueRuntime } from '../core/state.js';
import type { FailureReasonKey } from '../projections/failure-reasons.js';
import { ALL_QUEUES, type SeriesColumns } from '../projections/series-types.js';
import { ApiError } from './errors.js';
import type { FoldView } from './read-models.js';

export { ALL_QUEUES };
export const STREAM_INTERVAL_MIN_SECONDS = 0.5;
export const STREAM_INTERVAL_MAX_SECONDS = 60;
export const STREAM_INTERVAL_DEFAULT_SECONDS = 2;

export interface ChartLimits {
  /** rate (summed over the push queues for `*`); null when no queue has one. */
  ratePerSecond: number | null;
  bucketSize: number | null;
  maxConcurrent: number | null;
}

export interface ChartSeries {
  queue: string;
  columns: SeriesColumns;
  /** Failed attempts per interval, by reason (failure-reasons.ts). */
  failures: Record<FailureReasonKey, number[]>;
  limits: ChartLimits;
}

export interface SeriesPayload {
  /** Δ, seconds. */
  resolutionSeconds: number;
  /** The series run to this many seconds after the log's first event (now, for a live service). */
  endSeconds: number;
  series: ChartSeries[];
}

function limitsOf(queues: readonly QueueRuntime[]): ChartLimits {
  const push = queues.filter((q) => q.isPush);
  const sum = (pick: (q: QueueRuntime) => number | null): number | null => {
    const values = push.map(pick).filter((v): v is number => v !== null);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
  };
  return {
    ratePerSecond: sum((q) => (q.config.rate_per_second === null || q.config.rate_per_second === 0 ? null : q.config.rate_per_second)),
    bucketSize: sum((q) => (q.bucket === null ? null : q.bucket.capacityCredit / q.bucket.periodUs)),
    maxConcurrent: sum((q) => q.maxConcurrent),
  };
}

/** The series of `*` and of `queue` (when it is another), up to `endUs`; an unknown queue is NOT_FOUND. */
export function seriesPayload(view: FoldView, firstUs: number, endUs: number, queue: string): SeriesPayload {
  const state = view.state;
  const runtime = queue === ALL_QUEUES ? null : state.queueByName.get(queue);
  if (runtime === undefined) throw new ApiError('UNKNOWN_QUEUE', `queue "${queue}" not found`, 'queue');
  if (Number.isNaN(firstUs)) return { resolutionSeconds: 0, endSeconds: 0, series: [] };
  const data = view.insight.seriesData(state, Math.max(endUs, state.lastEventAt));
  const one = (name: string, index: number | null, queues: readonly QueueRuntime[]): ChartSeries => {
    const columns = data.queues[name] as SeriesColumns;
    return { queue: name, columns, failures: view.failures.binned(index, firstUs, columns.t_seconds), limits: limitsOf(queues) };
  };
  const series = [one(ALL_QUEUES, null, state.queues)];
  if (runtime !== null && data.queues[runtime.name] !== undefined) series.push(one(runtime.name, runtime.index, [runtime]));
  return { resolutionSeconds: data.resolution_seconds, endSeconds: (endUs - firstUs) / 1e6, series };
}

/** `interval=` of the stream, seconds; a bad one is a 400 naming it. */
export function parseInterval(query: URLSearchParams): number {
  const raw = query.get('interval');
  if (raw === null || raw === '') return STREAM_INTERVAL_DEFAULT_SECONDS;
  const s = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(s >= STREAM_INTERVAL_MIN_SECONDS && s <= STREAM_INTERVAL_MAX_SECONDS)) {
    throw new ApiError('INVALID_FIELD', `interval: "${raw.slice(0, 40)}" is not a number of seconds from ${STREAM_INTERVAL_MIN_SECONDS} to ${STREAM_INTERVAL_MAX_SECONDS}`, 'interval');
  }
  return s;
}

/**
 * Answers with a stream of `series` events, one now and one every `intervalSeconds`, until the
 * client goes away or `stopped()` says the server is stopping.
 */
export function streamSeries(res: ServerResponse, intervalSeconds: number, next: () => Promise<SeriesPayload>, stopped: () => boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  let busy = false;
  const send = (): void => {
    if (busy) return; // a slow read is not piled up behind itself
    if (stopped()) {
      stop();
      res.end();
      return;
    }
    busy = true;
    next().then(
      (payload) => {
        busy = false;
        if (!res.destroyed) res.write(`event: series\ndata: ${JSON.stringify(payload)}\n\n`);
      },
      (err: unknown) => {
        busy = false;
        if (!res.destroyed) res.write(`event: failure\ndata: ${JSON.stringify({ message: (err as Error)?.message ?? String(err) })}\n\n`);
      },
    );
  };
  const timer = setInterval(send, intervalSeconds * 1000);
  const stop = (): void => clearInterval(timer);
  res.on('close', stop);
  res.write(`retry: 3000\n\n`);
  send();
}
