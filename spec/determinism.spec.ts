/**
 * Law (DESIGN.md "The event-sourcing contract"): same seed and same inputs give a byte-identical
 * log; the seed is the only source of randomness, so a different seed generally gives a
 * different log when the worker model draws anything.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../src/simulate/simulation.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';

const bytes = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n');

describe('determinism', () => {
  it('same seed, same scenario → byte-identical events (and the same refused commands)', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, reloads: true }), (scenario) => {
        const a = runScenario(scenario);
        const b = runScenario(structuredClone(scenario));
        expect(bytes(b.sim.events)).toBe(bytes(a.sim.events));
        expect(b.refused).toEqual(a.refused);
      }),
      { numRuns: 60 },
    );
  });

  it('different seeds generally differ: a random-latency worker gives distinct logs for distinct seeds', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 1, maxTasks: 30, commands: false }), fc.integer({ min: 1, max: 1000 }), (scenario, delta) => {
        const random = { ...scenario, worker: { ...scenario.worker, latency: { distribution: 'exponential' as const, meanUs: 200_000 }, outages: [] } };
        const a = runScenario(random);
        fc.pre(a.sim.events.some((e) => e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed'));
        const b = runScenario({ ...random, seed: (random.seed + delta) % 2 ** 31 });
        expect(bytes(b.sim.events)).not.toBe(bytes(a.sim.events));
      }),
      { numRuns: 40 },
    );
  });

  it('ten seeds, ten different logs; the header carries the seed', () => {
    const logs = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)), seed, worker: { latency: { distribution: 'uniform', minUs: 1000, maxUs: 900_000 }, errorRate: 0.3 } });
      sim.addWorkload({ queue: 'q', count: 20, ratePerSecond: 5, arrivals: 'poisson' });
      sim.runUntilIdle();
      expect(sim.header.seed).toBe(seed);
      logs.add(bytes(sim.events));
    }
    expect(logs.size).toBe(10);
  });
});
