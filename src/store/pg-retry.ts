/**
 * Retrying a whole PostgreSQL transaction that the server aborted to keep transactions
 * serializable (SQLSTATE 40001, serialization_failure) or to break a deadlock (40P01,
 * deadlock_detected). Both mean "rolled back, nothing of it was applied, run it again":
 * CockroachDB runs every transaction SERIALIZABLE and answers 40001 on conflicts with exactly that
 * contract, YugabyteDB likewise, and PostgreSQL gives either under contention.
 *
 * Invariants:
 * - only those two SQLSTATEs are retried, and only as a whole transaction (the caller's `attempt`
 *   opens, runs and commits one; a retry never continues a transaction the server aborted);
 * - anything else is thrown at once: a fence refusal (STORE_FENCED) is an answer, not a conflict,
 *   and is never retried; an unreachable store is the caller's outage path, not a tight loop here;
 * - attempts are bounded (`attemptsMax`); when they run out the caller gets STORE_CONFLICT and
 *   nothing was written (every attempt was rolled back);
 * - the wait before retry n is "full jitter": uniform in [0, min(backoffMsMax, backoffMsFirst·2^(n−1))),
 *   drawn from an injectable source (a seeded generator by default), so nodes that collided do
 *   not collide again in step, and tests are deterministic.
 */
import { randomInt } from 'node:crypto';
import { StoreError } from './store.js';

/** The SQLSTATEs after which the whole transaction is run again. */
const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

export interface ConflictRetryOptions {
  /** Attempts in all, the first included (default 8; 1: never retry). */
  attemptsMax?: number;
  /** The jitter's ceiling before the first retry (default 2 ms); it doubles at each retry. */
  backoffMsFirst?: number;
  /** The jitter's ceiling never grows past this (default 200 ms). */
  backoffMsMax?: number;
  /** Seed of the default jitter source (default: a random one per store, so nodes decorrelate). */
  seed?: number;
  /** The jitter source, uniform in [0, 1): replaces the seeded generator. */
  random?: () => number;
  /** How to wait (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

const CONFLICT_ATTEMPTS_MAX = 8;
const BACKOFF_MS_FIRST = 2;
const BACKOFF_MS_MAX = 200;

/** The SQLSTATE of a driver error, or '' (a socket error's code is not one: it has no digit-led class). */
export function sqlstateOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** A small seeded generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ConflictRetry {
  /**
   * Runs `attempt` (one whole transaction) until it does not fail with a retryable SQLSTATE, at
   * most `attemptsMax` times. `stats` counts each conflict, retried or not. Throws the attempt's
   * own error when it is not retryable, STORE_CONFLICT when the attempts ran out.
   */
  run<T>(attempt: () => Promise<T>, what: string): Promise<T>;
  readonly stats: ConflictStats;
}

export interface ConflictStats {
  /** Aborted attempts run again. */
  retries: number;
  /** Operations that ran out of attempts (STORE_CONFLICT). */
  exhausted: number;
  /** Aborts seen (retried or not) with 40001, and with 40P01. */
  serializationFailures: number;
  deadlocks: number;
}

export function conflictRetry(shownUrl: string, options: ConflictRetryOptions = {}): ConflictRetry {
  const attemptsMax = Math.max(1, Math.floor(options.attemptsMax ?? CONFLICT_ATTEMPTS_MAX));
  const first = options.backoffMsFirst ?? BACKOFF_MS_FIRST;
  const max = options.backoffMsMax ?? BACKOFF_MS_MAX;
  const random = options.random ?? seededRandom(options.seed ?? randomInt(2 ** 32));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stats: ConflictStats = { retries: 0, exhausted: 0, serializationFailures: 0, deadlocks: 0 };
  return {
    stats,
    async run<T>(attempt: () => Promise<T>, what: string): Promise<T> {
      for (let n = 1; ; n++) {
        try {
          return await attempt();
        } catch (err) {
          const state = sqlstateOf(err);
          if (!RETRYABLE_SQLSTATES.has(state)) throw err;
          if (state === '40P01') stats.deadlocks++;
          else stats.serializationFailures++;
          if (n >= attemptsMax) {
            stats.exhausted++;
            const why = state === '40P01' ? 'deadlock_detected' : 'serialization_failure';
            throw new StoreError('STORE_CONFLICT', `${shownUrl}: ${what}: aborted by the database ${n} time(s) in a row (last: ${state} ${why}: ${(err as Error).message}); each attempt was rolled back, nothing of it was written`);
          }
          stats.retries++;
          await sleep(random() * Math.min(max, first * 2 ** (n - 1)));
        }
      }
    },
  };
}
