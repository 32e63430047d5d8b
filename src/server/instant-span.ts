/**
 * An instant asked of a log is seconds since its first event, and must fall within the log's
 * span: from 0 to its last event (a recorded file log), or to now (a live service, a cluster, and
 * a store's log read by `pushq replay postgres://...`, which a service may be writing still).
 * Beyond it the log has no state to show. One check and one wording for every place that takes
 * one: `pushq replay --at` and `--ui --at` (cli/replay-at.ts), the dashboard's `?at=` on one node
 * (read-source.ts, also the page `--ui` serves) and on a cluster (cluster/cluster-instant.ts).
 *
 * Pure and small, so that `pushq replay` without `--ui` loads nothing else of the server.
 */
import { fractionDigitsToMicros } from '../core/time.js';
import { isCalendarDateTime } from './timestamps.js';

/** null when `seconds` lies within 0..`spanSeconds`; else why not: `outside this log's span, 0 to S seconds since its first event`. */
export function outsideSpan(seconds: number, spanSeconds: number, whose = "this log's"): string | null {
  return seconds >= 0 && seconds <= spanSeconds ? null : `outside ${whose} span, 0 to ${spanSeconds} seconds since its first event`;
}

/**
 * Where a log's span ends, µs in its clock: its last event, or `nowUs` when given (a log a service
 * may be writing still: a store's). One rule for `pushq replay STORE --at`, `--ui --at` and the
 * page `--ui` serves, so the three accept the same instants.
 */
export function spanEndUs(lastUs: number, nowUs: number | undefined): number {
  return nowUs ?? lastUs;
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Does `text` have the form of an ISO 8601 instant with its zone (whether or not it names a real one)? */
export function looksLikeIsoInstant(text: string): boolean {
  return ISO_INSTANT.test(text);
}

/**
 * An ISO 8601 instant with its zone (`2026-11-23T12:00:00Z`, `...:00.000249+01:00`: RFC 3339, its
 * seconds optional) as µs since 1970, every digit of its fraction to the µs read exactly; null when
 * it has not that form or names no instant: a day its month does not have (`2026-02-30`, which
 * Date.parse rolls over to March 2), hour 24, a zone beyond ±23:59 (the calendar rule of the API's
 * timestamps, timestamps.ts). One reading for `pushq replay --at` and the dashboard's `?at=`.
 */
export function isoInstantUs(text: string): number | null {
  const m = ISO_INSTANT.exec(text.toUpperCase()); // `t` and `z` as RFC 3339 allows
  if (m === null) return null;
  const dateTime = `${m[1]}${m[2] ?? ':00'}`;
  const ms = isCalendarDateTime(dateTime) ? Date.parse(`${dateTime}${m[4]}`) : NaN;
  return Number.isNaN(ms) ? null : ms * 1000 + fractionDigitsToMicros(m[3] ?? '');
}
