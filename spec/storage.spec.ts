/**
 * Storage law (S5, state.ts's invariant): the bytes a state counts against total_storage_limit are
 * the summed sizes of its tasks not in a final state, at any moment: an add counts its task, and
 * every way a task ends (success, give-up, delete, purge) frees its bytes. A count that drifts
 * refuses adds the limit should admit (or admits what it should refuse).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineState } from '../src/core/state.js';
import { TaskState } from '../src/core/task-machine.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS } from './helpers/laws.js';

/** Σ size of the tasks the table holds in a non-final state (ended tasks may be released; they count 0 anyway). */
function liveBytes(state: EngineState): number {
  const t = state.tasks;
  let bytes = 0;
  for (let id = t.base; id < t.count; id++) {
    const r = t.heldRow(id);
    if (r >= 0 && (t.state[r] as TaskState) < TaskState.Succeeded) bytes += t.size[r] as number;
  }
  return bytes;
}

describe('storage law', () => {
  it('storageBytes = summed size of the unfinished tasks, at any cut of generated runs with deletes and purges', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 50, maxCommands: 10, errorRateMax: 0.5 }), fc.integer({ min: 0, max: 120 }), (scenario, cutSeconds) => {
        const { sim } = prepareScenario(scenario);
        sim.runUntilIdle({ maxSeconds: cutSeconds });
        expect(sim.state.storageBytes).toBe(liveBytes(sim.state));
        sim.runUntilIdle({ maxSeconds: 86_400 });
        expect(sim.state.storageBytes).toBe(liveBytes(sim.state));
      }),
      RUNS,
    );
  });

  it('a deleted task and a purged queue free their bytes: the limit admits again', () => {
    const config = { ...fileConfig(pushQueue('q', 5)), total_storage_limit_bytes: 1000 };
    const sim = createSimulation({ config });
    sim.pauseQueue('q');
    const names = sim.addTasks(Array.from({ length: 4 }, () => ({ queue: 'q', bodyBytes: 200 })));
    const each = sim.state.storageBytes / 4;
    expect(liveBytes(sim.state)).toBe(4 * each);
    sim.deleteTask('q', names[0]!);
    expect(sim.state.storageBytes).toBe(3 * each);
    sim.purgeQueue('q');
    expect(sim.state.storageBytes).toBe(0);
    // The limit counts only what is left: 4 more fit again.
    sim.addTasks(Array.from({ length: 4 }, () => ({ queue: 'q', bodyBytes: 200 })));
    expect(sim.state.storageBytes).toBe(4 * each);
  });
});
