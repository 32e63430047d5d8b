/**
 * A queue's token bucket (reference §5, S25), exact in integers.
 *
 * A rate is `tokens` per `period_us`. Credit is kept in units of 1/period_us of a token:
 * one token = `period_us` credit, and each microsecond adds `tokens` credit. The bucket holds at
 * most `capacity * period_us`. No float ever enters, so "a hair below one token" cannot happen:
 * the time until the next token is an exact integer ceiling.
 *
 *   credit ──(+tokens per µs, capped)──▶ take(): credit -= period_us   when credit ≥ period_us
 *
 * Invariant: 0 ≤ credit ≤ capacity·period_us, and `refilledAt` never moves backwards.
 */
import type { ExactRate } from './queue-config.js';
import type { Micros } from './time.js';

export interface TokenBucket {
  tokensPerPeriod: number;
  periodUs: number;
  capacityCredit: number;
  credit: number;
  refilledAt: Micros;
}

/** A bucket starts full (the token-bucket model; reference §5 marks the initial fill UNCONFIRMED). */
export function createTokenBucket(rate: ExactRate, capacity: number, now: Micros): TokenBucket {
  const capacityCredit = capacity * rate.period_us;
  return { tokensPerPeriod: rate.tokens, periodUs: rate.period_us, capacityCredit, credit: capacityCredit, refilledAt: now };
}

export function refill(bucket: TokenBucket, now: Micros): void {
  const elapsed = now - bucket.refilledAt;
  if (elapsed <= 0) return;
  bucket.refilledAt = now;
  const missing = bucket.capacityCredit - bucket.credit;
  if (missing <= 0) return;
  // Compare before multiplying so a long idle gap cannot overflow 2^53.
  if (elapsed >= Math.ceil(missing / bucket.tokensPerPeriod)) bucket.credit = bucket.capacityCredit;
  else bucket.credit += elapsed * bucket.tokensPerPeriod;
}

export function hasToken(bucket: TokenBucket): boolean {
  return bucket.credit >= bucket.periodUs;
}

export function takeToken(bucket: TokenBucket): void {
  bucket.credit -= bucket.periodUs;
}

/**
 * The earliest time at which a whole token is available (== refilledAt when one already is);
 * Infinity for a bucket too small to ever hold one (`bucket_size: 0`).
 */
export function nextTokenAt(bucket: TokenBucket): Micros {
  const short = bucket.periodUs - bucket.credit;
  if (short <= 0) return bucket.refilledAt;
  if (bucket.capacityCredit < bucket.periodUs) return Infinity;
  return bucket.refilledAt + Math.ceil(short / bucket.tokensPerPeriod);
}

/**
 * The bucket's credit in units of 1/`periodUs` of a token (another rate's units), rounded down:
 * exact, in integers (a day's period squared passes 2^53, hence BigInt; a reload is rare).
 */
export function creditIn(bucket: TokenBucket, periodUs: number): number {
  if (periodUs === bucket.periodUs) return bucket.credit;
  return Number((BigInt(bucket.credit) * BigInt(periodUs)) / BigInt(bucket.periodUs));
}

/** Whole tokens currently in the bucket, for display. */
export function wholeTokens(bucket: TokenBucket): number {
  return Math.floor(bucket.credit / bucket.periodUs);
}

/** Whether a token is available at `now`, without changing the bucket (for pure decisions). */
export function hasTokenAt(bucket: TokenBucket, now: Micros): boolean {
  return nextTokenAt(bucket) <= now;
}
