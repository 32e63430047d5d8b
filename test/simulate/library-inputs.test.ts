/**
 * What the library refuses that a scenario file refuses too. A JavaScript caller (no compiler to
 * catch a typo) met silent runs: `arrivals: 'poison'` ran as even arrivals, `arrivals: 'poisson'`
 * without `ratePerSecond` as one burst (the scenario file says arrivals-invalid and
 * arrivals-without-rate), and `runUntil(NaN)` or `runUntilIdle({ maxSeconds: NaN })` (a time
 * computed from an undefined field) returned at once with nothing run, as if the queue were idle.
 */
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import type { WorkloadSpec } from '../../src/simulate/simulation-types.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const simulation = () => createSimulation({ config: fileConfig(pushQueue('q', 5)), seed: 1 });

describe('library inputs a scenario would refuse', () => {
  it("addWorkload refuses an arrivals that is neither 'even' nor 'poisson', and arrivals without a rate", () => {
    const sim = simulation();
    expect(() => sim.addWorkload({ queue: 'q', count: 3, ratePerSecond: 1, arrivals: 'poison' } as unknown as WorkloadSpec)).toThrow(
      new RangeError("workload arrivals must be 'even' or 'poisson', got poison"),
    );
    expect(() => sim.addWorkload({ queue: 'q', count: 3, arrivals: 'poisson' })).toThrow(/arrivals 'poisson' needs ratePerSecond/);
    expect(() => sim.addWorkload({ queue: 'q', count: 3, arrivals: 'even' })).toThrow(/arrivals 'even' needs ratePerSecond/);
    sim.runUntilIdle({ maxSeconds: 60 });
    expect(sim.stats().queues.q).toBeUndefined(); // nothing was added by the refused calls
  });

  it('the arrivals a scenario allows still run', () => {
    const sim = simulation();
    sim.addWorkload({ queue: 'q', count: 3, ratePerSecond: 1, arrivals: 'even' });
    sim.addWorkload({ queue: 'q', count: 3, ratePerSecond: 1, arrivals: 'poisson' });
    sim.addWorkload({ queue: 'q', count: 3 });
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.stats().queues.q!.succeeded).toBe(9);
  });

  it('runUntil and runUntilIdle refuse a time that is not a number', () => {
    const sim = simulation();
    sim.addWorkload({ queue: 'q', count: 3 });
    expect(() => sim.runUntil(NaN)).toThrow(new RangeError('runUntil: NaN is not a time in seconds'));
    expect(() => sim.runUntilIdle({ maxSeconds: NaN })).toThrow(new RangeError('runUntilIdle: maxSeconds: NaN is not a time in seconds'));
    expect(() => sim.runUntil('10' as unknown as number)).toThrow(RangeError);
    expect(sim.now).toBe(0);
    sim.runUntil(0.05);
    expect(sim.now).toBe(0.05);
    sim.runUntilIdle({ maxSeconds: Infinity });
    expect(sim.stats().queues.q!.succeeded).toBe(3);
  });
});
