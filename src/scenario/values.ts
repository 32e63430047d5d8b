/**
 * Scenario values as text → numbers, each parser pure and total: it returns the value or the
 * reason it is refused. Durations become integer microseconds here, once (the unit the core
 * uses); nothing downstream re-reads the text.
 */
import { parseDecimal, parseWholeNumber } from '../config/numbers.js';
import { parseRate } from '../config/rate.js';
import { US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_MS, US_PER_SECOND, type Micros } from '../core/time.js';
import { errorStatusProblem, fractionProblem } from '../simulate/worker-rules.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const UNIT_US: Readonly<Record<string, number>> = { ms: US_PER_MS, s: US_PER_SECOND, m: US_PER_MINUTE, h: US_PER_HOUR, d: US_PER_DAY };
const DURATION_PATTERN = /^(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)$/;

/** Longest duration a scenario may name: a year of virtual time. */
export const DURATION_US_MAX: Micros = 365 * US_PER_DAY;

/** parseDuration's reason for a text that is not a duration at all (any other reason: it is one, but out of range). */
export const DURATION_FORM_REASON = 'expected a number and a unit ms, s, m, h or d, such as `300ms`, `1.5s` or `5m`';

/** `300ms`, `1.5s`, `5m`, `2h`, `1d`, or a bare `0`; rounded to the nearest microsecond. */
export function parseDuration(text: string): Parsed<Micros> {
  if (text === '0') return { ok: true, value: 0 };
  const match = DURATION_PATTERN.exec(text);
  if (match === null) {
    return { ok: false, reason: DURATION_FORM_REASON };
  }
  const [, number = '0', unit = 's'] = match;
  const value = Math.round(Number(number) * (UNIT_US[unit] as number));
  if (!(value <= DURATION_US_MAX)) return { ok: false, reason: 'it is longer than 365 days' };
  return { ok: true, value };
}

/** A workload arrival rate, queue.yaml syntax (`50/s`, `10/m`, `1.5/s`), above zero. */
export function parseArrivalRate(text: string): Parsed<number> {
  const parsed = parseRate(text);
  if (!parsed.ok) return { ok: false, reason: 'expected a number followed by /s, /m, /h or /d, such as `50/s` or `10/m`' };
  if (parsed.exact === null) return { ok: false, reason: 'it must be above zero (leave `rate` out to add every task at once)' };
  return { ok: true, value: parsed.per_second };
}

export function parseWhole(text: string, min: number, max: number): Parsed<number> {
  const value = parseWholeNumber(text);
  if (value === null || value < min || value > max) return { ok: false, reason: `expected a whole number from ${min} to ${max}` };
  return { ok: true, value };
}

/** A number in [0, 1]: a fraction of attempts (the rule: src/simulate/worker-rules.ts). */
export function parseFraction(text: string): Parsed<number> {
  const value = parseDecimal(text);
  const reason = value === null ? fractionProblem(NaN) : fractionProblem(value);
  return reason === null ? { ok: true, value: value as number } : { ok: false, reason };
}

/** An HTTP status that App Engine counts as a failure (the rule: src/simulate/worker-rules.ts). */
export function parseErrorStatus(text: string): Parsed<number> {
  const value = parseWholeNumber(text);
  const reason = errorStatusProblem(value ?? NaN);
  return reason === null ? { ok: true, value: value as number } : { ok: false, reason };
}

/** A number of seconds ≥ 0 (per-task backoffs). */
export function parseSeconds(text: string): Parsed<number> {
  const value = parseDecimal(text);
  if (value === null || value < 0) return { ok: false, reason: 'expected a number of seconds, 0 or more' };
  return { ok: true, value };
}
