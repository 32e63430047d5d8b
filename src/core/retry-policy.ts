/**
 * App Engine's retry rule (reference §2), in integer microseconds.
 *
 *   n        = index of the retry being scheduled (1 = first retry) = attempts made so far
 *   e        = min(n - 1, max_doublings)
 *   k        = n - e                     (1 while still doubling, then grows linearly)
 *   delay(n) = min(max_backoff, min_backoff * 2^e * k)
 *   next_eta = time the failure was observed + delay(n)
 *
 * Give-up (§2.2), evaluated after each failed attempt, age measured from the first attempt:
 * with both limits set, a task is given up only when BOTH are exceeded.
 */
import type { RetryParameters } from './queue-config.js';
import { RETRY_DEFAULTS } from './queue-config.js';
import { secondsToMicros, type Micros } from './time.js';

export interface RetryPolicy {
  /** Retries allowed after the first attempt; null = unlimited. */
  retryLimit: number | null;
  ageLimitUs: Micros | null;
  minBackoffUs: Micros;
  maxBackoffUs: Micros;
  maxDoublings: number;
}

export function retryPolicyFrom(p: RetryParameters): RetryPolicy {
  return {
    retryLimit: p.task_retry_limit,
    ageLimitUs: p.task_age_limit_seconds === null ? null : secondsToMicros(p.task_age_limit_seconds),
    minBackoffUs: secondsToMicros(p.min_backoff_seconds),
    maxBackoffUs: secondsToMicros(p.max_backoff_seconds),
    maxDoublings: p.max_doublings,
  };
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze(retryPolicyFrom(RETRY_DEFAULTS));

/** Delay before retry number `n` (1-based). */
export function backoffDelayUs(n: number, policy: RetryPolicy): Micros {
  if (policy.minBackoffUs === 0) return 0;
  const doublings = Math.min(n - 1, policy.maxDoublings);
  const linear = n - doublings;
  // 2^doublings may be Infinity for absurd max_doublings; min() with the cap keeps it finite.
  return Math.min(policy.maxBackoffUs, policy.minBackoffUs * 2 ** doublings * linear);
}

/**
 * Whether a task that has just failed its `attemptsMade`-th attempt is retried.
 * `ageUs` is the time since its first attempt.
 */
export function shouldRetry(policy: RetryPolicy, attemptsMade: number, ageUs: Micros): boolean {
  const n = attemptsMade;
  const withinRetries = policy.retryLimit === null ? null : policy.retryLimit >= n;
  const withinAge = policy.ageLimitUs === null ? null : policy.ageLimitUs >= ageUs;
  if (withinRetries === null && withinAge === null) return true;
  if (withinRetries === null) return withinAge as boolean;
  if (withinAge === null) return withinRetries;
  return withinRetries || withinAge;
}
