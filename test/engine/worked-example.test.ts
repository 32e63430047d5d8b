import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

// Reference §5: rate 20/s, bucket 40, with and without max_concurrent_requests 10.
describe("App Engine's worked example", () => {
  const run = (latencyMs: number, maxConcurrent: number) => {
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 20, { bucket_size: 40, max_concurrent_requests: maxConcurrent })),
      worker: { latency: { distribution: 'constant', valueUs: latencyMs * 1000 } },
    });
    sim.addWorkload({ queue: 'q', count: 2000 });
    sim.runUntilIdle();
    return sim.stats().queues.q!;
  };

  it('runs about 20 tasks/s at 0.3 s latency with the cap of 10', () => {
    const s = run(300, 10);
    expect(s.succeeded).toBe(2000);
    expect(s.dispatch_rate_mean_per_second).toBeGreaterThan(19.5);
    expect(s.dispatch_rate_mean_per_second).toBeLessThan(20.5);
    expect(s.in_flight_max).toBeLessThanOrEqual(10);
  });

  it('has over 100 in flight at 5 s latency without the cap', () => {
    const s = run(5000, 1000);
    expect(s.in_flight_max).toBeGreaterThan(100);
    expect(s.dispatches_max_in_any_1s).toBeLessThanOrEqual(40 + 20);
  });

  it('never has more than 10 in flight at 5 s latency with the cap, so throughput is 2/s', () => {
    const s = run(5000, 10);
    expect(s.in_flight_max).toBe(10);
    expect(s.dispatch_rate_mean_per_second).toBeCloseTo(2, 1);
  });

  it('counts the mean dispatch rate over the gaps: 3 tasks at 1/s, bucket 1, are 1/s (not 3 over 2 s)', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 1, { bucket_size: 1 })), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
    sim.addWorkload({ queue: 'q', count: 3 });
    sim.runUntilIdle();
    const s = sim.stats().queues.q!;
    expect([s.first_dispatch_at_seconds, s.last_dispatch_at_seconds, s.dispatch_rate_mean_per_second]).toEqual([0, 2, 1]);
  });
});
