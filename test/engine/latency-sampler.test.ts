/**
 * The modelled worker's per-model latency samplers give exactly the values of `sampleLatency`
 * for the same generator state (a run's log must not change with how the sampler is built).
 */
import { describe, expect, it } from 'vitest';
import { latencySampler, sampleLatency, type LatencyModel } from '../../src/dispatch/worker-model.js';
import { createPrng } from '../../src/engine/prng.js';

const MODELS: LatencyModel[] = [
  { distribution: 'constant', valueUs: 300_000 },
  { distribution: 'uniform', minUs: 1_000, maxUs: 90_000 },
  { distribution: 'exponential', meanUs: 40_000 },
  { distribution: 'lognormal', p50Us: 50_000, p99Us: 500_000 },
];

describe('latencySampler', () => {
  for (const model of MODELS) {
    it(`equals sampleLatency for ${model.distribution}`, () => {
      const a = createPrng(7);
      const b = createPrng(7);
      const sample = latencySampler(model);
      const fast = Array.from({ length: 2000 }, () => sample(a));
      const reference = Array.from({ length: 2000 }, () => sampleLatency(model, b));
      expect(fast).toEqual(reference);
      if (model.distribution !== 'constant') expect(new Set(fast).size).toBeGreaterThan(100);
    });
  }
});
