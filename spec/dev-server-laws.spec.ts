/**
 * Dev-server mode's laws (S39, src/testing/dev-server-laws.ts) hold for generated scenarios run
 * under it: configs with rate 0 and fractional rates, workloads, failing workers, pauses, purges,
 * deletes, forced runs and reloads. checkAll judges those dispatches by the mode's rules (one at a
 * time for the whole app, lowest ETA first), the ETA, retry and give-up laws as in production.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAll } from '../src/testing/invariants.js';
import { ScenarioBudgetError } from '../src/testing/event-budget.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { RUNS, expectLawHolds } from './helpers/laws.js';

describe('dev-server laws', () => {
  it('hold for generated configs (rate 0 included), workloads, workers, commands and reloads', () => {
    let dispatches = 0;
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 3, maxTasks: 60, errorRateMax: 0.6, allowZeroRate: true, reloads: true }), (scenario) => {
        const run = prepareScenario(scenario, { devServer: true });
        try {
          run.sim.runUntilIdle({ maxSeconds: 86_400 });
        } catch (error) {
          // No rate spaces the attempts out in this mode: a task that fails at once with no backoff
          // retries at one instant until the budget stops it. The laws hold over what was logged.
          if (!(error instanceof ScenarioBudgetError)) throw error;
        }
        const events = run.sim.events;
        dispatches += events.filter((e) => e.type === 'AttemptDispatched').length;
        expectLawHolds(checkAll(events), events);
      }),
      RUNS,
    );
    expect(dispatches).toBeGreaterThan(0);
  });
});
