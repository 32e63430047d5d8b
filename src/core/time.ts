/**
 * Time in the core is an integer count of microseconds (virtual: since the simulation's start;
 * wall: since the Unix epoch). Integers keep the token bucket exact: with float seconds, a refill
 * time can round to `now` and the scheduler re-arms at the same instant forever (DESIGN.md).
 * 2^53 µs is 285 years, so a plain `number` holds any of these exactly.
 */
export type Micros = number;

export const US_PER_MS = 1_000;
export const US_PER_SECOND = 1_000_000;
export const US_PER_MINUTE = 60 * US_PER_SECOND;
export const US_PER_HOUR = 60 * US_PER_MINUTE;
export const US_PER_DAY = 24 * US_PER_HOUR;

/** Seconds (possibly fractional, as in queue.yaml) to whole microseconds, rounded to nearest. */
export function secondsToMicros(seconds: number): Micros {
  return Math.round(seconds * US_PER_SECOND);
}

export function microsToSeconds(us: Micros): number {
  return us / US_PER_SECOND;
}

/**
 * The digits after a timestamp's decimal point as whole µs, digits beyond the µs cut: read as
 * digits, not through a float (0.000249 × 1e6 is 248.99999999999997, a µs early when floored).
 */
export function fractionDigitsToMicros(digits: string): Micros {
  return Number(digits.padEnd(6, '0').slice(0, 6));
}
