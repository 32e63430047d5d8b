/**
 * A scenario run has an event budget set by the scenario (src/testing/event-budget.ts): a run
 * whose tasks never settle fails with SCENARIO_EVENT_BUDGET_EXCEEDED, naming its seed, once it
 * has logged that many events, instead of growing until the virtual day is over (a mutant in a
 * mutation audit made one law run take 23 GB). The runaway here is a worker that fails every
 * attempt on a queue with no retry or age limit and no backoff, at 500/s: a correct engine
 * retries it forever, as App Engine does, so only the budget can stop it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueueFileConfig } from '../../src/config/types.js';
import type { WorkerModel } from '../../src/dispatch/worker-model.js';
import { ATTEMPTS_PER_TASK_MAX, ScenarioBudgetError, scenarioEventBudget } from '../../src/testing/event-budget.js';
import { prepareScenario, runScenario, scenarioArbitrary, type Scenario } from '../../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const NEVER_GIVES_UP = { task_retry_limit: null, task_age_limit_seconds: null, min_backoff_seconds: 0, max_backoff_seconds: 0 };
const ALWAYS_FAILS: WorkerModel = { latency: { distribution: 'constant', valueUs: 0 }, errorRate: 1, errorStatus: 503, timeoutRate: 0, outages: [], routes: [] };

function runaway(tasks: number): Scenario {
  const config: QueueFileConfig = fileConfig(pushQueue('q', 500, { bucket_size: 500, retry: NEVER_GIVES_UP }));
  return { seed: 4242, config, workloads: [{ queue: 'q', count: tasks }], worker: ALWAYS_FAILS, commands: [] };
}

/** A task template without its own retry options (the queue's, which never give up, apply). */
function withoutRetry<T extends { retry?: unknown }>({ retry: _, ...rest }: T): Omit<T, 'retry'> {
  return rest;
}

/** Plays the scenario as runScenario does, and returns what it threw and how many events it had logged. */
function playToFailure(scenario: Scenario, maxSeconds: number): { error: unknown; events: number } {
  const { sim } = prepareScenario(scenario);
  try {
    sim.runUntilIdle({ maxSeconds });
  } catch (error) {
    return { error, events: sim.eventLog.length };
  }
  return { error: null, events: sim.eventLog.length };
}

describe('a scenario run has an event budget', () => {
  it('a task retried forever fails the run at its budget, not after an hour of 500 attempts a second', () => {
    const scenario = runaway(2);
    const budget = scenarioEventBudget(scenario);
    // Two tasks of a worker that never succeeds: each budgeted its most attempts, three events each.
    expect(budget).toBe(Math.max(10_000, 2 * (1 + 2 * 2 + 3 * 2 * ATTEMPTS_PER_TASK_MAX)));
    // An hour of it would be 1.8 million attempts, 5.4 million events; the run stops at the budget.
    const { error, events } = playToFailure(scenario, 3600);
    expect(error).toBeInstanceOf(ScenarioBudgetError);
    expect(events).toBe(budget);
    const e = error as ScenarioBudgetError;
    expect(e.code).toBe('SCENARIO_EVENT_BUDGET_EXCEEDED');
    expect([e.seed, e.budget]).toEqual([4242, budget]);
    expect(e.atSeconds).toBeLessThan(3600);
    expect(e.message).toMatch(/^scenario with seed 4242 logged more than its budget of 12,010 events \(at [\d.]+ s of virtual time; the last: Attempt\w+ of task task\d in queue q, after \d+ attempts\): its tasks are not settling\./);
    expect(e.message).toContain('runScenario(scenario, { maxEvents })');
  });

  it('runScenario throws it; maxEvents sets another budget, or none (Infinity)', () => {
    expect(() => runScenario(runaway(1))).toThrow(ScenarioBudgetError);
    expect(() => runScenario(runaway(1), { maxEvents: 100 })).toThrow(/logged more than its budget of 100 events/);
    // With no budget the same run goes on to its time limit: 60 s at 500/s.
    const { sim } = runScenario(runaway(1), { maxEvents: Infinity, maxSeconds: 60 });
    expect(sim.eventLog.length).toBeGreaterThan(60 * 500 * 3);
    for (const maxEvents of [0, -1, 1.5, NaN]) expect(() => runScenario(runaway(1), { maxEvents })).toThrow(RangeError);
  });

  it('a property over runaway scenarios fails with the seed, path and counterexample, each run bounded', () => {
    // Generated scenarios, every queue's retry parameters never giving up and the worker failing every attempt.
    const runaways = scenarioArbitrary({ maxQueues: 1, maxTasks: 5, commands: false }).map((s) => ({
      ...s,
      config: { ...s.config, queues: s.config.queues.map((q) => ({ ...q, state: 'running' as const, rate_per_second: 500, rate_exact: { tokens: 1, period_us: 2000 }, retry_parameters: { ...q.retry_parameters, ...NEVER_GIVES_UP } })) },
      workloads: s.workloads.map(({ task, ...w }) => ({ ...w, ...(task ? { task: withoutRetry(task) } : {}) })),
      worker: { ...s.worker, errorRate: 1, outages: [] },
    }));
    let largest = 0;
    let failure: Error | null = null;
    try {
      fc.assert(
        fc.property(runaways, (scenario) => {
          const { error, events } = playToFailure(scenario, 86_400);
          largest = Math.max(largest, events);
          expect(events).toBeLessThanOrEqual(scenarioEventBudget(scenario));
          if (error !== null) throw error;
        }),
        { seed: 7, numRuns: 20 },
      );
    } catch (err) {
      failure = err as Error;
    }
    // fast-check's report, with the budget's error as its cause (vitest prints both).
    expect(failure?.message).toMatch(/Property failed after \d+ tests\n\{ seed: 7, path: "[\d:]+", endOnFailure: true \}\nCounterexample: \[\{"seed":\d+/);
    expect(failure?.cause).toBeInstanceOf(ScenarioBudgetError);
    expect((failure?.cause as Error).message).toMatch(/^scenario with seed \d+ logged more than its budget of [\d,]+ events/);
    // Every run, shrinking included, stopped at its budget: at most 5 tasks of at most 1,000 attempts each.
    expect(largest).toBeLessThanOrEqual(2 * (1 + 5 * (2 + 3 * ATTEMPTS_PER_TASK_MAX)));
  });
});
