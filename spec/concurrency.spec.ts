/**
 * Law: in flight ≤ max_concurrent_requests at every instant (S27), folding the events: +1 on
 * AttemptDispatched, −1 on AttemptSucceeded / AttemptFailed / TaskGaveUp / AttemptOrphaned. A
 * deleted task's attempt keeps its slot until it ends (AttemptOrphaned). Force-runs are not
 * limited (Cloud Tasks RunTask), so the checker judges each non-forced dispatch; without
 * force-runs that is exactly "at every instant".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/core/events.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { checkConcurrency } from '../src/testing/invariants.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS, copyEvents, expectLawHolds } from './helpers/laws.js';

/** The largest in-flight count of `queue` over the run, by the brief's own fold. */
function maxInFlight(events: readonly EngineEvent[], queue: string): number {
  const queueOf = new Map<number, string>();
  let n = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'TaskAdded') queueOf.set(e.id, e.queue);
    else if ('id' in e && queueOf.get(e.id) === queue) {
      if (e.type === 'AttemptDispatched') n++;
      if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp' || e.type === 'AttemptOrphaned') n--;
      max = Math.max(max, n);
    }
  }
  return max;
}

describe('concurrency law', () => {
  it('holds for generated configs, workloads, workers and commands', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 80, reloads: true }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        expectLawHolds(checkConcurrency(events), events);
      }),
      RUNS,
    );
  });

  it('in flight never exceeds the cap at any instant when nothing is force-run', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 100, commands: false }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        for (const q of scenario.config.queues) expect(maxInFlight(events, q.name)).toBeLessThanOrEqual(q.max_concurrent_requests!);
      }),
      { numRuns: 60 },
    );
  });

  it('S27: cap 10, rate 20/s, 1 s latency: exactly 10 in flight at the peak, throughput ≤ 10/s', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 20, { bucket_size: 40, max_concurrent_requests: 10 })), worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } } });
    sim.addWorkload({ queue: 'q', count: 100 });
    sim.runUntilIdle();
    expect(maxInFlight(sim.events, 'q')).toBe(10);
    const dispatches = sim.events.filter((e) => e.type === 'AttemptDispatched');
    expect(dispatches).toHaveLength(100);
    expect(dispatches.at(-1)!.t).toBeGreaterThanOrEqual(9 * 1_000_000);
  });

  describe('the checker can fail', () => {
    const run = () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 100, { bucket_size: 50, max_concurrent_requests: 3 })), worker: { latency: { distribution: 'constant', valueUs: 500_000 } } });
      sim.addWorkload({ queue: 'q', count: 9 });
      sim.runUntilIdle();
      return sim.events;
    };

    it('accepts the real run', () => {
      expect(checkConcurrency(run())).toEqual([]);
    });

    it('catches a run whose first answers were dropped (more than 3 in flight)', () => {
      const events = copyEvents(run()).filter((e, i, all) => !(e.type === 'AttemptSucceeded' && all.indexOf(e) === all.findIndex((x) => x.type === 'AttemptSucceeded')));
      const violations = checkConcurrency(events);
      expect(violations.length).toBeGreaterThan(0);
      expect(violations[0]!.law).toBe('concurrency');
      expect(events[violations[0]!.index]!.type).toBe('AttemptDispatched');
    });

    it('catches an attempt that ends without having been dispatched', () => {
      const events = copyEvents(run());
      const first = events.findIndex((e) => e.type === 'AttemptDispatched');
      events.splice(first, 1);
      expect(checkConcurrency(events).some((v) => v.message.includes('never dispatched'))).toBe(true);
    });
  });
});
