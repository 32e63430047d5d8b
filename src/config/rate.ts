/**
 * Queue rates: `0` or `N[.N]/unit`, unit one of s m h d (reference §1.2, PY-QI `_RATE_REGEX`).
 *
 * The value is kept as an exact fraction (tokens per period in microseconds, reduced), computed
 * with BigInt from the digits as written, so `10/m` is exactly 1 per 6 s and `1.5/s` exactly
 * 3 per 2 s. Floating point appears only in `per_second`, for display and limits messages.
 */
import type { ExactRate } from './types.js';

export type RateUnit = 's' | 'm' | 'h' | 'd';
export const RATE_UNIT_SECONDS: Readonly<Record<RateUnit, number>> = Object.freeze({ s: 1, m: 60, h: 3600, d: 86_400 });
const RATE_UNITS: readonly RateUnit[] = ['s', 'm', 'h', 'd'];

const RATE_PATTERN = /^(?:0|(\d+)(?:\.(\d*))?\/([smhd]))$/;
const MICROS_PER_SECOND = 1_000_000n;

export type RateParse =
  | { ok: true; per_second: number; /** null when the rate is zero (a paused queue). */ exact: ExactRate | null }
  | { ok: false; reason: string };

export function parseRate(text: string): RateParse {
  const match = RATE_PATTERN.exec(text);
  if (match === null) {
    return { ok: false, reason: 'expected `0` or a number followed by /s, /m, /h or /d, such as `5/s` or `1.5/m`' };
  }
  const [, whole, fraction = '', unit] = match;
  if (whole === undefined || unit === undefined) return { ok: true, per_second: 0, exact: null }; // the bare `0`
  const numerator = BigInt(whole + fraction);
  if (numerator === 0n) return { ok: true, per_second: 0, exact: null };
  const denominator = 10n ** BigInt(fraction.length) * BigInt(RATE_UNIT_SECONDS[unit as RateUnit]) * MICROS_PER_SECOND;
  const exact = reduce(numerator, denominator);
  if (exact === null) return { ok: false, reason: 'it has more digits than pushq can represent exactly' };
  return { ok: true, per_second: ratePerSecond(exact), exact };
}

/** Tasks per second as a float (for display): `tokens / period`. */
export function ratePerSecond(rate: ExactRate): number {
  return (rate.tokens * 1_000_000) / rate.period_us;
}

/** Whether `rate` is strictly above `limit` tasks per second, compared exactly. */
export function rateExceeds(rate: ExactRate, limit_per_second: number): boolean {
  return BigInt(rate.tokens) * MICROS_PER_SECOND > BigInt(limit_per_second) * BigInt(rate.period_us);
}

/**
 * The rate as queue.yaml text that parses back to exactly the same fraction: a whole number in
 * the first unit (s, m, h, d) where it is one, else the shortest terminating decimal. Throws for a fraction
 * no decimal in any unit can express (impossible for a rate that came from parsing).
 */
export function formatRate(rate: ExactRate): string {
  const decimals: string[] = [];
  for (const unit of RATE_UNITS) {
    const perUnit = reduceBig(BigInt(rate.tokens) * BigInt(RATE_UNIT_SECONDS[unit]) * MICROS_PER_SECOND, BigInt(rate.period_us));
    if (perUnit.den === 1n) return `${perUnit.num}/${unit}`;
    const decimal = terminatingDecimal(perUnit.num, perUnit.den);
    if (decimal !== null) decimals.push(`${decimal}/${unit}`);
  }
  const shortest = decimals.reduce<string | undefined>((best, text) => (best === undefined || text.length < best.length ? text : best), undefined);
  if (shortest === undefined) throw new Error(`rate ${rate.tokens}/${rate.period_us}µs has no exact decimal form`);
  return shortest;
}

/** The reduced fraction, or null when it does not fit in safe integers. */
function reduce(numerator: bigint, denominator: bigint): ExactRate | null {
  const { num, den } = reduceBig(numerator, denominator);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (num > max || den > max) return null;
  return { tokens: Number(num), period_us: Number(den) };
}

function reduceBig(num: bigint, den: bigint): { num: bigint; den: bigint } {
  const divisor = gcd(num, den);
  return { num: num / divisor, den: den / divisor };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function terminatingDecimal(num: bigint, den: bigint): string | null {
  let twos = 0;
  let fives = 0;
  let rest = den;
  while (rest % 2n === 0n) { rest /= 2n; twos++; }
  while (rest % 5n === 0n) { rest /= 5n; fives++; }
  if (rest !== 1n) return null;
  const digits = Math.max(twos, fives);
  const scaled = (num * 10n ** BigInt(digits)) / den;
  const text = scaled.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
