/**
 * Liveness (DESIGN.md/STYLE.md §10: "safety then liveness"): when the simulation has nothing
 * left to do, nothing is stuck. Every attempt has ended, and every queue that can dispatch
 * (running, rate > 0, a bucket that holds a token) has no task waiting, in backoff or in flight:
 * a lost wake-up (a task that is due, with a token and a free slot, but no timer to dispatch it)
 * would leave one behind. Runs go to idle with no time limit, past ETAs up to 30 days ahead;
 * workers always eventually answer 2xx (error share < 1), so every run ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queueStateName } from '../src/core/state.js';
import { TASK_STATES } from '../src/core/task-machine.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS } from './helpers/laws.js';

type Sim = ReturnType<typeof createSimulation>;

/** Queues that could still dispatch but hold unfinished tasks, with their counts by state. */
function stuck(sim: Sim): string[] {
  const out: string[] = [];
  for (const q of sim.state.queues) {
    const counts = Object.fromEntries(TASK_STATES.map((s, i) => [s, q.countByState[i]!]));
    if (q.inFlight !== 0) out.push(`${q.name}: ${q.inFlight} attempts still in flight`);
    const canDispatch = queueStateName(q) === 'running' && q.bucket !== null && q.bucket.capacityCredit >= q.bucket.periodUs;
    if (canDispatch && counts.pending! + counts.backoff! + counts.dispatching! > 0) out.push(`${q.name}: ${JSON.stringify(counts)} at ${sim.now} s with nothing left to happen`);
  }
  return out;
}

describe('liveness', () => {
  it('a simulation that has gone idle has left no task behind on a queue that can dispatch', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, maxCommands: 8, reloads: true, errorRateMax: 0.6, farEtas: true }), (scenario) => {
        const { sim } = prepareScenario(scenario);
        sim.runUntilIdle();
        expect(sim.kernel.nextTimerAt()).toBe(Infinity);
        expect(stuck(sim)).toEqual([]);
      }),
      RUNS,
    );
  });

  describe('the check can fail', () => {
    it('reports a task left waiting on a running queue', () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
      sim.pauseQueue('q');
      sim.addTask({ queue: 'q' });
      sim.runUntilIdle();
      expect(stuck(sim)).toEqual([]); // paused: waiting is right
      // Resume without the kernel's pump (a lost wake-up, simulated by applying the event alone).
      sim.state.queues[1]!.paused = false;
      expect(stuck(sim)).toHaveLength(1);
    });
  });
});
