/**
 * Law: a simulation that releases ended tasks' rows (task-table.ts; what `pushq simulate` and
 * experiments run) behaves exactly as one that keeps them: the same events, figures and series,
 * for generated runs with deletes, force-runs, purges, pauses and reloads. The only difference
 * allowed is the documented one: a generated name (`task<id>`) of a released task is unknown,
 * not tombstoned.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatedNameId } from '../src/core/names.js';
import { stateLines } from '../src/log/replay.js';
import { prepareScenario, scenarioArbitrary, type ScenarioRun } from '../src/testing/scenario.js';

function run(scenario: Parameters<typeof prepareScenario>[0], keepEndedTasks: boolean): ScenarioRun {
  const r = prepareScenario(scenario, { keepEndedTasks });
  r.sim.runUntilIdle({ maxSeconds: 86_400 });
  return r;
}

describe('a simulation that releases ended tasks', () => {
  it('gives the same events, figures, series and refusals as one that keeps them', () => {
    let released = 0;
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 120, maxCommands: 10, reloads: true }), (scenario) => {
        const kept = run(scenario, true);
        const freed = run(scenario, false);
        expect(freed.sim.events).toEqual(kept.sim.events);
        expect(freed.sim.stats()).toEqual(kept.sim.stats());
        expect(freed.sim.series()).toEqual(kept.sim.series());
        // The state itself: the same queues, and each task the releasing table still holds as the other has it.
        const base = freed.sim.state.tasks.base;
        const held = stateLines(kept.sim.state).filter((line) => !line.startsWith('[') || (JSON.parse(line) as number[])[0]! >= base);
        expect(stateLines(freed.sim.state)).toEqual(held);
        expect(freed.refused.length).toBe(kept.refused.length);
        freed.refused.forEach((r, i) => {
          const k = kept.refused[i]!;
          expect(r.command).toEqual(k.command);
          if (r.code !== k.code) {
            expect([k.code, r.code]).toEqual(['TOMBSTONED_TASK', 'UNKNOWN_TASK']);
            expect(generatedNameId((r.command as { name: string }).name)).toBeGreaterThanOrEqual(0);
          }
        });
        released += freed.sim.state.tasks.base;
      }),
      { numRuns: 150 },
    );
    // The law is only worth something if rows were in fact released and reused.
    expect(released).toBeGreaterThan(1000);
  });

  it('holds only the tasks alive at once: a long run with few tasks at a time stays small', async () => {
    const { createSimulation } = await import('../src/simulate/simulation.js');
    const { DiscardEventLog } = await import('../src/log/discard-log.js');
    const { parseQueueConfig } = await import('../src/config/index.js');
    const parsed = parseQueueConfig('queue:\n- name: q\n  rate: 100/s\n  bucket_size: 10\n', { file: 'q.yaml' });
    if (!parsed.valid || parsed.config === null) throw new Error('config');
    const sim = createSimulation({ config: parsed.config, seed: 3, log: (h) => new DiscardEventLog(h), worker: { errorRate: 0.2 } });
    sim.addWorkload({ queue: 'q', count: 50_000, ratePerSecond: 50 });
    sim.runUntilIdle();
    const tasks = sim.state.tasks;
    expect(sim.stats().queues.q!.succeeded + sim.stats().queues.q!.failed).toBe(50_000);
    expect(tasks.count).toBe(50_000);
    // At 50/s with 100 ms answers, a few tasks are alive at once; a task retrying for a while
    // holds back the release of the ones after it (the span from the oldest alive), hence the room.
    expect(tasks.count - tasks.base).toBeLessThan(1_000);
    expect(tasks.capacity).toBeLessThanOrEqual(8_192);
    expect(tasks.meta.length).toBeLessThanOrEqual(8_192);
    // A released task cannot be read, and says why.
    expect(() => sim.task('q', 'task0')).toThrow(expect.objectContaining({ code: 'TASK_RELEASED' }));
  });
});
