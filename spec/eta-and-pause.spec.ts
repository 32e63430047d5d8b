/**
 * Laws: no non-forced dispatch before the task's ETA (its TaskAdded eta, or after a failure its
 * AttemptFailed retryAt) (S11, S33); no non-forced dispatch while its queue is paused
 * (QueuePaused..QueueResumed), disabled, or at rate 0 (S28).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../src/simulate/simulation.js';
import { checkEtaRespected, checkNoDispatchWhilePaused } from '../src/testing/invariants.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS, copyEvents, expectLawHolds } from './helpers/laws.js';

describe('ETA law', () => {
  it('holds for generated configs, workloads (countdowns, ETAs, past ETAs), workers and commands', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 80, errorRateMax: 0.7 }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        expectLawHolds(checkEtaRespected(events), events);
      }),
      RUNS,
    );
  });

  it('holds for countdowns and ETAs up to 30 days ahead, the limit itself included, run until they come due (S20, S33)', () => {
    const DAY_US = 86_400_000_000;
    let farDispatches = 0;
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 80, errorRateMax: 0.7, farEtas: true }), (scenario) => {
        const events = runScenario(scenario, { maxSeconds: 31 * 86_400 }).sim.events;
        expectLawHolds(checkEtaRespected(events), events);
        const far = new Set(events.flatMap((e) => (e.type === 'TaskAdded' && e.eta - e.t > DAY_US ? [e.id] : [])));
        farDispatches += events.filter((e) => e.type === 'AttemptDispatched' && far.has(e.id)).length;
      }),
      { numRuns: 40 },
    );
    // Not vacuous: tasks added more than a day ahead were held, then dispatched.
    expect(farDispatches).toBeGreaterThan(0);
  });

  describe('the checker can fail', () => {
    const run = () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5, { retry: { min_backoff_seconds: 2, task_retry_limit: 1 } })), worker: () => ({ status: 500, latencyMs: 10 }) });
      sim.addTask({ queue: 'q', countdownSeconds: 3 });
      sim.runUntilIdle();
      return sim.events;
    };

    it('accepts the real run', () => {
      expect(checkEtaRespected(run())).toEqual([]);
    });

    it('catches a first dispatch 1 µs before the countdown ends', () => {
      const events = copyEvents(run());
      const i = events.findIndex((e) => e.type === 'AttemptDispatched');
      expect(events[i]!.t).toBe(3_000_000);
      events[i]!.t = 2_999_999;
      expect(checkEtaRespected(events).map((v) => [v.law, v.index])).toEqual([['eta', i]]);
    });

    it('catches a retry dispatched before its retryAt', () => {
      const events = copyEvents(run());
      const retry = events.filter((e) => e.type === 'AttemptDispatched')[1]!;
      expect(retry.t).toBe(3_000_000 + 10_000 + 2_000_000);
      retry.t -= 1;
      expect(checkEtaRespected(events).map((v) => v.index)).toEqual([events.indexOf(retry)]);
    });
  });
});

describe('pause law', () => {
  it('holds for generated configs (rate 0 included), workloads and pause/resume/purge/delete/run commands', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 80, maxCommands: 10, reloads: true }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        expectLawHolds(checkNoDispatchWhilePaused(events), events);
      }),
      RUNS,
    );
  });

  it('a paused queue dispatches nothing until resumed, then everything', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 50, { bucket_size: 50 })) });
    sim.pauseQueue('q');
    sim.addWorkload({ queue: 'q', count: 20 });
    sim.schedule(30, (s) => s.resumeQueue('q'));
    sim.runUntilIdle();
    const dispatches = sim.events.filter((e) => e.type === 'AttemptDispatched');
    expect(dispatches).toHaveLength(20);
    expect(Math.min(...dispatches.map((e) => e.t))).toBe(30_000_000);
  });

  describe('the checker can fail', () => {
    const run = () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5), pushQueue('zero', 0)) });
      sim.addTask({ queue: 'q' });
      sim.addTask({ queue: 'zero' });
      sim.runUntilIdle();
      return sim.events;
    };

    it('accepts the real run', () => {
      expect(checkNoDispatchWhilePaused(run())).toEqual([]);
    });

    it('catches a dispatch between QueuePaused and QueueResumed', () => {
      const events = copyEvents(run());
      const i = events.findIndex((e) => e.type === 'AttemptDispatched');
      events.splice(i, 0, { type: 'QueuePaused', t: events[i]!.t, queue: 'q' });
      expect(checkNoDispatchWhilePaused(events).map((v) => [v.law, v.index])).toEqual([['pause', i + 1]]);
      events.splice(i + 1, 0, { type: 'QueueResumed', t: events[i]!.t, queue: 'q' });
      expect(checkNoDispatchWhilePaused(events)).toEqual([]);
    });

    it('catches a dispatch from a rate-0 queue', () => {
      const events = copyEvents(run());
      const added = events.find((e) => e.type === 'TaskAdded' && e.queue === 'zero')!;
      if (added.type !== 'TaskAdded') throw new Error('unreachable');
      events.push({ type: 'AttemptDispatched', t: 1, id: added.id });
      expect(checkNoDispatchWhilePaused(events).map((v) => v.law)).toEqual(['pause']);
    });
  });
});
