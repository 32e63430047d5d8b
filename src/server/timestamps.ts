/**
 * Cloud Tasks timestamps (RFC 3339 strings, up to nanoseconds) and durations (`"3.5s"`) ⇄ the
 * engine's integer epoch microseconds. Sub-microsecond digits are truncated.
 */
import { US_PER_SECOND, fractionDigitsToMicros, type Micros } from '../core/time.js';
import type { PushqErrorCode } from '../core/errors.js';
import { ApiError, type ApiErrorCode } from './errors.js';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const TIMESTAMP_MIN_US = -62_135_596_800 * US_PER_SECOND;
const TIMESTAMP_MAX_US = 253_402_300_800 * US_PER_SECOND - 1;

/**
 * A timestamp outside Timestamp's range is refused: it could not be shown again (a Date that far
 * out has no ISO form), and a task holding one would break every read of its queue.
 */
export function parseTimestamp(value: unknown, field: string, code: ApiErrorCode | PushqErrorCode = 'INVALID_FIELD'): Micros {
  const us = parseTimestampUs(value, field, code);
  if (!(us >= TIMESTAMP_MIN_US && us <= TIMESTAMP_MAX_US)) {
    throw new ApiError(code, `${field}: outside the range of a timestamp, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z`, field);
  }
  return us;
}

function parseTimestampUs(value: unknown, field: string, code: ApiErrorCode | PushqErrorCode): Micros {
  if (typeof value === 'object' && value !== null && 'seconds' in value) {
    // Timestamp's JSON object form: seconds an int64 (a number, or a string as proto3 JSON writes
    // int64), nanos an int32 in [0, 999999999].
    const { seconds, nanos } = value as { seconds: unknown; nanos?: unknown };
    const s = typeof seconds === 'number' ? seconds : typeof seconds === 'string' && /^-?\d{1,19}$/.test(seconds) ? Number(seconds) : NaN;
    const n = nanos === undefined ? 0 : typeof nanos === 'number' ? nanos : NaN;
    if (!Number.isInteger(s) || !Number.isInteger(n) || n < 0 || n > 999_999_999) {
      throw new ApiError(code, `${field}: not a timestamp: seconds must be a whole number and nanos a whole number from 0 to 999999999`, field);
    }
    // A whole int64 past the last instant: seconds given in milliseconds, most likely.
    if (s > TIMESTAMP_MAX_US / US_PER_SECOND) throw afterLastInstant(`${String(seconds)} seconds`, field, code);
    return s * US_PER_SECOND + Math.floor(n / 1000);
  }
  if (typeof value !== 'string') throw new ApiError(code, `${field}: expected an RFC 3339 timestamp string`, field);
  // The same slip through a REST client: the official ones write a Timestamp as its Date's
  // toISOString(), which gives a year past 9999 in ISO 8601's expanded form (`+058906-07-29T...`).
  if (/^\+\d{6}-\d{2}-\d{2}T/.test(value) && Number(value.slice(1, 7)) > 9999) throw afterLastInstant(JSON.stringify(value.slice(0, 40)), field, code);
  const m = RFC3339.exec(value);
  const ms = m && isCalendarDateTime(m[1] as string) ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new ApiError(code, `${field}: "${value.slice(0, 40)}" is not an RFC 3339 timestamp`, field);
  return ms * 1000 + fractionDigitsToMicros(m[2] ?? '');
}

/**
 * A whole instant past the last a Timestamp holds: no malformed timestamp but, most likely, a Unix
 * time in milliseconds or nanoseconds given as seconds (Go's UnixMilli where Unix was meant). Said
 * so, with the value (`what`), rather than "not a timestamp", which pointed away from the mistake.
 */
function afterLastInstant(what: string, field: string, code: ApiErrorCode | PushqErrorCode): ApiError {
  return new ApiError(code, `${field}: ${what} is after 9999-12-31T23:59:59.999999999Z, the last instant of a timestamp (milliseconds or nanoseconds given as seconds?)`, field);
}

/** `YYYY-MM-DDThh:mm:ss` names a real instant: no February 30th, no hour 24 (Date.parse rolls them over). */
export function isCalendarDateTime(text: string): boolean {
  const [y, mo, d, h, mi, sec] = text.split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return false;
  const days = new Date(Date.UTC(2000, mo, 0)).getUTCDate(); // 2000 is a leap year: 29 for February
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && !leap ? 28 : days);
}

/**
 * An instant as a human message says it (a tombstoned name "reserved until 2026-12-14T10:00:00Z"):
 * RFC 3339 in whole seconds, a fraction rounded up, so "until T" stays true (nothing is allowed
 * before T). Resources keep formatTimestamp's full precision; only messages use this.
 */
export function formatMessageTime(us: Micros): string {
  return formatTimestamp(Math.ceil(us / US_PER_SECOND) * US_PER_SECOND);
}

/** An instant in a resource (`scheduleTime`, ...): RFC 3339 to the microsecond, trailing zeros kept. */
export function formatTimestamp(us: Micros): string {
  const whole = Math.floor(us / US_PER_SECOND);
  const frac = Math.round(us - whole * US_PER_SECOND);
  const base = new Date(whole * 1000).toISOString().slice(0, 19);
  return frac === 0 ? `${base}Z` : `${base}.${String(frac).padStart(6, '0')}Z`;
}

/** The most whole seconds parseDuration reads: its microseconds stay a safe integer. */
const DURATION_SECONDS_READ_MAX = 999_999_999;

/**
 * A google.protobuf.Duration in its JSON form (`"15s"`, `"1.5s"`, `"600.000001s"`: whole seconds,
 * up to nine fractional digits, then `s`) or as `{ seconds, nanos }` → whole microseconds (like
 * timestamps, sub-microsecond digits are truncated), or null when it is not one. Negative
 * durations are refused: no field of the API takes one.
 */
export function parseDuration(value: unknown): Micros | null {
  let seconds: number;
  let nanos: number;
  if (typeof value === 'string') {
    const m = /^(\d{1,9})(?:\.(\d{1,9}))?s$/.exec(value);
    if (!m) return null;
    seconds = Number(m[1]);
    nanos = Number((m[2] ?? '').padEnd(9, '0'));
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as { seconds?: unknown; nanos?: unknown };
    seconds = typeof o.seconds === 'string' && /^\d{1,9}$/.test(o.seconds) ? Number(o.seconds) : typeof o.seconds === 'number' ? o.seconds : o.seconds === undefined ? 0 : NaN;
    nanos = o.nanos === undefined ? 0 : typeof o.nanos === 'number' ? o.nanos : NaN;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > DURATION_SECONDS_READ_MAX || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return null;
  } else {
    return null;
  }
  return seconds * US_PER_SECOND + Math.floor(nanos / 1000);
}

/**
 * The whole seconds of a Duration that is well formed but beyond what parseDuration reads (more
 * than 999,999,999 s), as given; null for anything else. Its JSON string form (`"30000000000s"`,
 * what the REST clients send) and its object form (`{seconds: "30000000000"}`, gRPC's) alike: such
 * a value is out of range, not malformed, most likely nanoseconds given as seconds (Go's
 * `int64(30 * time.Second)`), and a refusal should say so rather than "not a duration".
 */
export function durationSecondsBeyondRead(value: unknown): string | null {
  let seconds: unknown;
  if (typeof value === 'string') {
    const m = /^(\d+)(?:\.\d{1,9})?s$/.exec(value);
    if (m === null) return null;
    seconds = m[1];
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    seconds = (value as { seconds?: unknown }).seconds;
  }
  if (typeof seconds === 'string' && /^\d{1,19}$/.test(seconds) && Number(seconds) > DURATION_SECONDS_READ_MAX) return seconds;
  if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds > DURATION_SECONDS_READ_MAX) return String(seconds);
  return null;
}

/** Whole microseconds as a protobuf Duration JSON string: `"15s"`, `"1.500s"`, `"15.000001s"`. */
export function formatDurationUs(us: Micros): string {
  const whole = Math.floor(us / US_PER_SECOND);
  const frac = us - whole * US_PER_SECOND;
  if (frac === 0) return `${whole}s`;
  if (frac % 1000 === 0) return `${whole}.${String(frac / 1000).padStart(3, '0')}s`;
  return `${whole}.${String(frac).padStart(6, '0')}s`;
}

/** `"600s"`, `"0.100s"`. */
export function formatDuration(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3)}s`;
}
