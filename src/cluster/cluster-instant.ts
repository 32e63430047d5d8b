/**
 * One instant of the cluster, as each queue's log states it (docs/cluster.md, "Time travel").
 *
 * Each queue's log is its own stream with its own first event, and its owner reads `?at=S` as
 * seconds since that first event. The cluster's axis starts at the earliest first event of all
 * queues, F. A cluster instant `at=S` is the absolute instant A = F + S (µs, rounded as one node
 * rounds it: read-source.ts `instantUs`); for a queue whose first event is F_q it is
 * S_q = A − F_q seconds of its own, written as an exact decimal of whole µs, so its owner reads
 * back exactly A (F_q + round(S_q · 1e6) = A), as `pushq replay STORE --queue Q --at S_q` does.
 * A queue whose stream starts after A (S_q < 0) had not begun then: it has no state at A.
 *
 * All pure; µs are integers (the wall clock and the events' times are whole µs).
 */
import { ApiError } from '../server/errors.js';
import { outsideSpan } from '../server/instant-span.js';
import { atInstantSeconds, instantUs, parseAtText, type AtInstant } from '../server/read-source.js';

/** Where a cluster instant is passed between nodes (`/pushq/cluster/parts`): whole µs since the epoch, never rounded. */
export const AT_US_PARAM = 'atUs';

/** The earliest first event (µs) of the queues, NaN when none has one. */
export function clusterFirstUs(parts: readonly { firstUs: number }[]): number {
  let first = NaN;
  for (const p of parts) if (!Number.isNaN(p.firstUs) && !(p.firstUs >= first)) first = p.firstUs;
  return first;
}

/** `?at=` present (not empty): a cluster read at an instant. */
export function hasAt(query: URLSearchParams): boolean {
  const raw = query.get('at');
  return raw !== null && raw !== '';
}

/** `?at=` parsed as one node parses it (seconds, or an RFC 3339 instant: read-source.ts parseAtText), or a 400 naming `at`. */
export function atInstant(query: URLSearchParams): AtInstant {
  return parseAtText(query.get('at') ?? '', 'wall', "the cluster's");
}

/**
 * `?at=` (seconds on the cluster's axis, or an RFC 3339 instant) → the absolute instant (µs).
 * `firstUs` is the cluster's first event, `nowUs` this node's clock: outside 0..(now − first), a
 * 400 naming `at`, as one node.
 */
export function clusterInstantUs(query: URLSearchParams, firstUs: number, nowUs: number): number {
  const at = atInstant(query);
  if (Number.isNaN(firstUs)) throw new ApiError('INVALID_FIELD', 'at: no queue of this cluster has an event yet (or no owner answered), so no instant to show', 'at');
  const seconds = atInstantSeconds(at, firstUs);
  const outside = outsideSpan(seconds, (nowUs - firstUs) / 1e6, "the cluster's");
  if (outside !== null) throw new ApiError('INVALID_FIELD', `at: ${(query.get('at') ?? '').slice(0, 40)} is ${outside} (the earliest of every queue's)`, 'at');
  return 'epochUs' in at ? at.epochUs : instantUs(firstUs, seconds);
}

/**
 * The instant `atUs` in the seconds of a log whose first event is `firstUs`, as an exact decimal
 * (whole µs: no float in between); null when that log had not begun then (or has no event).
 */
export function ownSeconds(atUs: number, firstUs: number): string | null {
  if (Number.isNaN(firstUs) || !Number.isSafeInteger(atUs) || !Number.isSafeInteger(firstUs)) return null;
  const d = atUs - firstUs;
  if (d < 0) return null;
  const frac = d % 1_000_000;
  const whole = (d - frac) / 1_000_000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
}

/** `atUs` from a parts call: whole µs, or a 400 naming it. */
export function parseAtUs(query: URLSearchParams): number | null {
  const raw = query.get(AT_US_PARAM);
  if (raw === null || raw === '') return null;
  const us = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(us)) throw new ApiError('INVALID_FIELD', `${AT_US_PARAM}: "${raw.slice(0, 40)}" is not whole microseconds since the epoch`, AT_US_PARAM);
  return us;
}

/**
 * A log's first event (µs) from its service's `dashboard.json` now: `now` is the instant shown to
 * the µs and `atSeconds` is (now − first) / 1e6, so first = now − round(atSeconds · 1e6), exactly
 * (the error of one division is far below half a µs for any span under a century). Its
 * `timeline.json` gives `first` only to the ms. NaN while the log has no event.
 */
export function firstUsFromFigures(now: string, atSecondsShown: number | null): number {
  if (atSecondsShown === null) return NaN;
  return timestampUs(now) - Math.round(atSecondsShown * 1e6);
}

/** An RFC 3339 time as formatTimestamp writes it (UTC, 0 to 6 fraction digits) → µs since the epoch; strings alone do not sort ("…00Z" after "…00.5Z"). */
export function timestampUs(iso: string): number {
  const m = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (m === null) return Date.parse(iso) * 1000;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}
