/**
 * Modelled workers for simulations: latency drawn from any of the four distributions, a share of
 * error answers and of no answers (deadline), and short outages (or none: `outages: false`). Latencies stay well under the
 * 10-minute deadline except for the no-answer share, so runs stay short in events.
 */
import fc from 'fast-check';
import type { LatencyModel, Outage, WorkerModel } from '../../dispatch/worker-model.js';
import { checkKitOptions } from './options.js';

export function latencyModelArbitrary(): fc.Arbitrary<LatencyModel> {
  return fc.oneof(
    fc.record({ distribution: fc.constant('constant' as const), valueUs: fc.integer({ min: 0, max: 5_000_000 }) }),
    fc
      .tuple(fc.integer({ min: 0, max: 3_000_000 }), fc.integer({ min: 0, max: 3_000_000 }))
      .map(([a, b]) => ({ distribution: 'uniform' as const, minUs: Math.min(a, b), maxUs: Math.max(a, b) })),
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
  /** Draw outages at all. Default true; with false (and both rates 0) the worker is healthy: every attempt succeeds. */
  outages?: boolean;
}

export function workerModelArbitrary(options: WorkerModelArbitraryOptions = {}): fc.Arbitrary<WorkerModel> {
  checkKitOptions('workerModelArbitrary', options);
  return fc.record({
    latency: latencyModelArbitrary(),
    errorRate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: options.errorRateMax ?? 0.5, noNaN: true })),
    errorStatus: fc.constantFrom(500, 503, 404, 429),
    timeoutRate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: options.timeoutRateMax ?? 0.05, noNaN: true })),
    outages: options.outages === false ? fc.constant([]) : fc.array(outageArbitrary(), { maxLength: 2 }),
    routes: fc.constant([]),
  });
}
