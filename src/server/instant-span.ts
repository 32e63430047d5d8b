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
