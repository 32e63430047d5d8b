/**
 * Test resets (`POST /pushq/reset`, Kernel.resetQueue) in generated runs: resets of every queue at
 * random times, amid the scenario's workloads, faults and commands. Every law of pushq/testing's
 * checkers holds (the rate law with a reset as the start of a new bucket, the concurrency law with
 * the reset's orphaned attempts still in flight), and replay rebuilds the live state exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, stateLines } from '../src/log/replay.js';
import { checkAll } from '../src/testing/invariants.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { RUNS, expectLawHolds } from './helpers/laws.js';

describe('test resets in generated runs', () => {
  it('every law holds and replay equals the live state, with resets of every queue at random times', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60 }), fc.array(fc.double({ min: 0, max: 30, noNaN: true }), { minLength: 1, maxLength: 3 }), (scenario, resetsAt) => {
        const { sim } = prepareScenario(scenario);
        for (const at of resetsAt) {
          sim.schedule(at, (s) => {
            for (const q of s.state.queues) s.kernel.resetQueue(q.name);
          });
        }
        sim.runUntilIdle({ maxSeconds: 86_400 });
        const events = sim.events;
        expect(events.some((e) => e.type === 'QueuePurged' && e.refillBucket === true)).toBe(true);
        expectLawHolds(checkAll(events), events);
        expect(stateLines(replay(events))).toEqual(stateLines(sim.state));
      }),
      RUNS,
    );
  });
});
