/**
 * Cloud Tasks timestamps (RFC 3339 strings, up to nanoseconds) and durations (`"3.5s"`) ⇄ the
 * engine's integer epoch microseconds. Sub-microsecond digits are truncated.
 */
import { US_PER_SECOND, type Micros } from '../core/time.js';
import { ApiError } from './errors.js';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

export function parseTimestamp(value: unknown, field: string): Micros {
  if (typeof value === 'object' && value !== null && 'seconds' in value) {
    const { seconds, nanos } = value as { seconds: unknown; nanos?: unknown };
    const s = Number(seconds);
    const n = Number(nanos ?? 0);
    if (!Number.isFinite(s) || !Number.isFinite(n)) throw new ApiError('INVALID_ARGUMENT', `${field}: not a timestamp`, field);
    return s * US_PER_SECOND + Math.floor(n / 1000);
  }
  if (typeof value !== 'string') throw new ApiError('INVALID_ARGUMENT', `${field}: expected an RFC 3339 timestamp string`, field);
  const m = RFC3339.exec(value);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new ApiError('INVALID_ARGUMENT', `${field}: "${value.slice(0, 40)}" is not an RFC 3339 timestamp`, field);
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

export function formatTimestamp(us: Micros): string {
  const whole = Math.floor(us / US_PER_SECOND);
  const frac = Math.round(us - whole * US_PER_SECOND);
  const base = new Date(whole * 1000).toISOString().slice(0, 19);
  return frac === 0 ? `${base}Z` : `${base}.${String(frac).padStart(6, '0')}Z`;
}

/** `"600s"`, `"0.100s"`. */
export function formatDuration(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3)}s`;
}
