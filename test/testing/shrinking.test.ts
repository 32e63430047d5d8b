/**
 * A failing property's counterexample, as fast-check prints it after shrinking, is small and
 * readable: the scenario draws its queues, workloads and commands together (no `chain`: a chain's
 * source stops shrinking as soon as what it chained to shrinks, and shrinking it draws that part
 * afresh), and its times, rates and backoffs are rounded to 10⁻⁶ (whole microseconds), so a value that does not matter
 * shrinks to its least, and one that does reads as a decimal (not 1.068004491803799e-240 or
 * 29.999999999999947 seconds).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { requireValidConfig } from '../../src/config/issues.js';
import { runScenario, scenarioArbitrary, type Scenario } from '../../src/testing/index.js';

/** fast-check's shrunk counterexample of `predicate` over `arbitrary` (it must fail). */
function shrunk(arbitrary: fc.Arbitrary<Scenario>, predicate: (s: Scenario) => boolean, seed: number): Scenario {
  const details = fc.check(fc.property(arbitrary, predicate), { seed, numRuns: 200 });
  expect(details.failed, 'the property should fail').toBe(true);
  return details.counterexample![0];
}

/** The numbers drawn in the value (not `rate_per_second`, worked out from the exact rate) with more than 6 decimals, as fast-check prints them. */
function noisyNumbers(value: unknown): string[] {
  return [...JSON.stringify(value, (key, v: unknown) => (key === 'rate_per_second' ? 0 : v)).matchAll(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi)].map((m) => m[0]).filter((n) => /e/i.test(n) || (n.split('.')[1]?.length ?? 0) > 6);
}

const tasks = (s: Scenario): number => s.workloads.reduce((n, w) => n + w.count, 0);

describe('scenarioArbitrary shrinks to a readable counterexample', () => {
  for (const seed of [1, 2, 3]) {
    it(`"at most 3 tasks" fails with one queue, 4 tasks, no commands (seed ${seed})`, () => {
      const s = shrunk(scenarioArbitrary({ maxQueues: 3, maxTasks: 40 }), (s) => tasks(s) <= 3, seed);
      expect(s.config.queues.map((q) => q.name)).toEqual(['default']);
      expect(tasks(s)).toBe(4);
      expect(s.commands).toEqual([]);
      expect(noisyNumbers(s)).toEqual([]);
    });

    it(`"no command is refused" fails with two commands and one task at most (seed ${seed})`, () => {
      const s = shrunk(scenarioArbitrary({ maxQueues: 2, maxTasks: 40, maxCommands: 6 }), (s) => runScenario(s).refused.length === 0, seed);
      expect(s.commands.length).toBeLessThanOrEqual(2);
      expect(tasks(s)).toBeLessThanOrEqual(1);
      expect(noisyNumbers(s)).toEqual([]);
    });
  }

  it('a time that matters shrinks to a short decimal: "no task has an ETA after 0" fails with an ETA of 0.000001 s (not 5e-324)', () => {
    const s = shrunk(scenarioArbitrary({ maxTasks: 10 }), (s) => s.workloads.every((w) => !((w.task?.etaSeconds ?? 0) > 0)), 1);
    expect(s.workloads.map((w) => w.task?.etaSeconds)).toEqual([0.000001]);
  });

  it('with your own configuration (`config`), a rate property shrinks to the fewest tasks that break it', () => {
    const config = requireValidConfig(parseQueueConfig('queue:\n- name: emails\n  rate: 1/s\n  bucket_size: 3\n', { file: 'queue.yaml' }));
    const s = shrunk(
      scenarioArbitrary({ config, maxTasks: 40 }),
      (s) => {
        const { sim } = runScenario(s);
        // Deliberately wrong: forgets the bucket (3 may go at once).
        return (sim.stats().queues['emails']?.dispatches_max_in_any_1s ?? 0) <= 1;
      },
      7,
    );
    expect(s.config).toBe(config);
    expect(tasks(s)).toBe(2);
    expect(noisyNumbers(s)).toEqual([]);
  });
});
