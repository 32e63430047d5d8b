/**
 * Queue configurations sized for simulation: a handful of push queues whose runs finish in a
 * few thousand events. Rates include fractional ones (`10/m`, `1.5/s`), bucket sizes span App
 * Engine's whole range 0..500, `max_concurrent_requests` is small (1..50) so the cap binds, and
 * the retry parameters are short enough that a failing task settles quickly in virtual time.
 *
 * Every value is a valid, normalised `QueueFileConfig` (what `parseQueueConfig` would return),
 * built from its own parts: the rate's exact fraction is computed here, not by pushq's parser.
 */
import fc from 'fast-check';
import type { ExactRate, QueueConfig, QueueFileConfig, RetryParameters } from '../../config/types.js';
import { decimalArbitrary } from './decimal.js';
import { checkKitOptions } from './options.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;
type RateUnit = keyof typeof UNIT_SECONDS;

export interface SimRate {
  /** As written in queue.yaml, e.g. `10/m`, `1.5/s`, `0`. */
  text: string;
  /** null for `0` (a paused queue). */
  exact: ExactRate | null;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** `<whole>[.<tenths>]/<unit>` as an exact fraction of tokens per microsecond period. */
export function exactRateOf(whole: number, tenths: number | null, unit: RateUnit): ExactRate | null {
  const tokens = tenths === null ? whole : whole * 10 + tenths;
  if (tokens === 0) return null;
  const period = (tenths === null ? 1 : 10) * UNIT_SECONDS[unit] * 1_000_000;
  const g = gcd(tokens, period);
  return { tokens: tokens / g, period_us: period / g };
}

/** Rates from 1/h up to 500/s, weighted towards ones that make a busy queue in a short run. */
export function simRateArbitrary(options: { allowZero?: boolean } = {}): fc.Arbitrary<SimRate> {
  const written = fc.oneof(
    { weight: 4, arbitrary: fc.record({ whole: fc.integer({ min: 1, max: 50 }), tenths: fc.constant(null), unit: fc.constant<RateUnit>('s') }) },
    { weight: 2, arbitrary: fc.record({ whole: fc.integer({ min: 0, max: 20 }), tenths: fc.integer({ min: 1, max: 9 }), unit: fc.constant<RateUnit>('s') }) },
    { weight: 2, arbitrary: fc.record({ whole: fc.integer({ min: 1, max: 600 }), tenths: fc.constant(null), unit: fc.constant<RateUnit>('m') }) },
    { weight: 1, arbitrary: fc.record({ whole: fc.integer({ min: 1, max: 3600 }), tenths: fc.constant(null), unit: fc.constant<RateUnit>('h') }) },
    { weight: 1, arbitrary: fc.record({ whole: fc.integer({ min: 100, max: 500 }), tenths: fc.constant(null), unit: fc.constant<RateUnit>('s') }) },
  );
  const rates = written.map(({ whole, tenths, unit }): SimRate => {
    const exact = exactRateOf(whole, tenths, unit);
    return { text: exact === null ? '0' : `${whole}${tenths === null ? '' : `.${tenths}`}/${unit}`, exact };
  });
  if (!options.allowZero) return rates.filter((r) => r.exact !== null);
  return fc.oneof({ weight: 9, arbitrary: rates }, { weight: 1, arbitrary: fc.constant<SimRate>({ text: '0', exact: null }) });
}

/** Retry parameters that settle fast: backoffs of at most minutes, small limits or none. */
export function simRetryParametersArbitrary(): fc.Arbitrary<RetryParameters> {
  return fc
    .record({
      task_retry_limit: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 3 }),
      task_age_limit_seconds: fc.option(fc.integer({ min: 1, max: 600 }), { nil: null, freq: 2 }),
      backoff: fc.tuple(
        fc.oneof(fc.constant(0), fc.constant(0.1), fc.integer({ min: 1, max: 10 }), decimalArbitrary(0.001, 5)),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), decimalArbitrary(0.001, 60)),
      ),
      max_doublings: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(16)),
    })
    .map(({ backoff: [a, b], ...rest }) => ({ ...rest, min_backoff_seconds: Math.min(a, b), max_backoff_seconds: Math.max(a, b) }));
}

export interface SimQueueConfigOptions {
  /** Queues besides `default` (0..maxQueues), at most 100 (App Engine's limit). Default 2. */
  maxQueues?: number;
  /** Whether `rate: 0` (a paused queue) may be drawn. Default true. */
  allowZeroRate?: boolean;
}

function simQueueArbitrary(name: string, allowZeroRate: boolean): fc.Arbitrary<QueueConfig> {
  return fc
    .record({
      rate: simRateArbitrary({ allowZero: allowZeroRate }),
      bucket_size: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 500 }) }),
      max_concurrent_requests: fc.integer({ min: 1, max: 50 }),
      retry_parameters: simRetryParametersArbitrary(),
    })
    .map(({ rate, ...rest }) => ({
      name,
      mode: 'push' as const,
      state: rate.exact === null ? ('paused' as const) : ('running' as const),
      rate_per_second: rate.exact === null ? 0 : (rate.exact.tokens * 1_000_000) / rate.exact.period_us,
      rate_exact: rate.exact,
      target: null,
      ...rest,
    }));
}

/** `default` plus up to `maxQueues` push queues named `q1`, `q2`, ... */
export function simQueueFileConfigArbitrary(options: SimQueueConfigOptions = {}): fc.Arbitrary<QueueFileConfig> {
  checkKitOptions('simQueueFileConfigArbitrary', options);
  const maxQueues = options.maxQueues ?? 2;
  const allowZero = options.allowZeroRate ?? true;
  // Every queue drawn and the count cut, not the queues chained on the count: a chain's source
  // stops shrinking once its chained part has, so a counterexample kept queues it did not need.
  return fc
    .tuple(fc.integer({ min: 0, max: maxQueues }), simQueueArbitrary('default', allowZero), ...Array.from({ length: maxQueues }, (_, i) => simQueueArbitrary(`q${i + 1}`, allowZero)))
    .map(([n, ...queues]): QueueFileConfig => ({ total_storage_limit_bytes: null, queues: queues.slice(0, n + 1) }));
}
