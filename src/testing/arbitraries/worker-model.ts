/**
 * Modelled workers for simulations: latency drawn from any of the four distributions, a share of
 * error answers and of no answers (deadline), and short outages (or none: `outages: false`). Latencies stay well under the
 * 10-minute deadline except for the no-answer share, so runs stay short in events.
 *
 * A healthy worker (both shares 0, no outages) is promised to answer every attempt with success,
 * so its latency is drawn from the bounded distributions only (constant, uniform: at most 5 s,
 * under the shortest deadline a task may have, 15 s): an exponential or lognormal tail passes any
 * deadline now and then (a lognormal with p99 2.6 s once took more than 15 s in a property run).
 */
import fc from 'fast-check';
import { TASK_LIMITS } from '../../core/task-spec.js';
import type { LatencyModel, Outage, WorkerModel } from '../../dispatch/worker-model.js';
import { decimalArbitrary } from './decimal.js';
import { checkKitOptions } from './options.js';

/** The longest latency a bounded model draws: under every deadline a task may have. */
const BOUNDED_LATENCY_MAX_US = 5_000_000;
if (BOUNDED_LATENCY_MAX_US >= TASK_LIMITS.dispatch_deadline_us_min) throw new Error('bounded latencies must stay under the shortest dispatch deadline');

/** `bounded`: only models whose every draw is at most BOUNDED_LATENCY_MAX_US (constant, uniform). */
export function latencyModelArbitrary(options: { bounded?: boolean } = {}): fc.Arbitrary<LatencyModel> {
  const bounded: fc.Arbitrary<LatencyModel>[] = [
    fc.record({ distribution: fc.constant('constant' as const), valueUs: fc.integer({ min: 0, max: BOUNDED_LATENCY_MAX_US }) }),
    fc
      .tuple(fc.integer({ min: 0, max: 3_000_000 }), fc.integer({ min: 0, max: 3_000_000 }))
      .map(([a, b]) => ({ distribution: 'uniform' as const, minUs: Math.min(a, b), maxUs: Math.max(a, b) })),
  ];
  if (options.bounded === true) return fc.oneof(...bounded);
  return fc.oneof(
    ...bounded,
    fc.record({ distribution: fc.constant('exponential' as const), meanUs: fc.integer({ min: 1_000, max: 2_000_000 }) }),
    fc
      .tuple(fc.integer({ min: 1_000, max: 500_000 }), fc.integer({ min: 1, max: 20 }))
      .map(([p50Us, factor]) => ({ distribution: 'lognormal' as const, p50Us, p99Us: p50Us * factor })),
  );
}

function outageArbitrary(): fc.Arbitrary<Outage> {
  return fc
    .record({ fromUs: fc.integer({ min: 0, max: 60_000_000 }), lengthUs: fc.integer({ min: 1, max: 30_000_000 }), status: fc.constantFrom(503, 500, null) })
    .map(({ fromUs, lengthUs, status }) => ({ fromUs, toUs: fromUs + lengthUs, status }));
}

export interface WorkerModelArbitraryOptions {
  /** Upper bound of the error share, 0 to 1. Default 0.5. */
  errorRateMax?: number;
  /** Upper bound of the no-answer share, 0 to 1. Default 0.05. */
  timeoutRateMax?: number;
  /**
   * Draw outages at all. Default true; with false (and both rates 0) the worker is healthy: every
   * attempt succeeds, its latency from the bounded distributions (constant, uniform; at most 5 s).
   */
  outages?: boolean;
}

export function workerModelArbitrary(options: WorkerModelArbitraryOptions = {}): fc.Arbitrary<WorkerModel> {
  checkKitOptions('workerModelArbitrary', options);
  const healthy = options.outages === false && options.errorRateMax === 0 && options.timeoutRateMax === 0;
  return fc.record({
    latency: latencyModelArbitrary({ bounded: healthy }),
    errorRate: fc.oneof(fc.constant(0), decimalArbitrary(0, options.errorRateMax ?? 0.5)),
    errorStatus: fc.constantFrom(500, 503, 404, 429),
    timeoutRate: fc.oneof(fc.constant(0), decimalArbitrary(0, options.timeoutRateMax ?? 0.05)),
    outages: options.outages === false ? fc.constant([]) : fc.array(outageArbitrary(), { maxLength: 2 }),
    routes: fc.constant([]),
  });
}
