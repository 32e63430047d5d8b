/**
 * Node's setTimeout turns a delay above 2^31 − 1 ms (about 24.8 days) into 1 ms, which would wake
 * the process every millisecond for an ETA a month ahead. Every host timer pushq sets goes through
 * timerDelayMs: a capped timer fires early, finds nothing due, and its owner re-arms for the rest.
 */

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A setTimeout delay for `ms` from now: 0 for the past, at most MAX_TIMER_DELAY_MS (the caller re-arms). */
export function timerDelayMs(ms: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(ms)));
}
