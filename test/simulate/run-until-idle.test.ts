/**
 * `runUntilIdle({ maxSeconds })` stops where the run went idle, not at `maxSeconds`. The clock
 * used to jump to the limit whatever happened: a library user who gave the limit the docs ask for
 * (tasks with default retry parameters may retry forever) read `sim.now` 3600 for a run that was
 * over at 1.1 s, paused tasks counted an hour of `paused` wait, the series ran on for an hour of
 * empty rows, and `pushq/testing`'s `runScenario` always ended at its one-day limit, so the
 * liveness check docs/testing.md gives (compare `sim.now` with the limit) could never pass.
 */
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { runScenario } from '../../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('runUntilIdle with a limit', () => {
  it('ends at the last event when the run goes idle before the limit', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)), seed: 1 });
    sim.addWorkload({ queue: 'q', count: 10 }); // 5 from the bucket, then 5/s; 0.1 s handlers
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.now).toBe(1.1);
    expect(sim.stats().queues.q!.drained_at_seconds).toBe(1.1);
  });

  it('a queue paused by rate 0 counts its tasks paused until the last event, not until the limit', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5), pushQueue('stopped', 0)), seed: 1 });
    sim.addWorkload({ queue: 'q', count: 1, atSeconds: 2 });
    sim.addWorkload({ queue: 'stopped', count: 3 });
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.now).toBe(2.1);
    expect(sim.stats().queues.stopped!.wait_by_cause_task_seconds.paused).toBeCloseTo(3 * 2.1, 9);
  });

  it('ends at the limit when something is still to happen after it', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)), seed: 1 });
    sim.addWorkload({ queue: 'q', count: 1, atSeconds: 100 });
    sim.runUntilIdle({ maxSeconds: 60 });
    expect(sim.now).toBe(60);
    expect(sim.queue('q').tasks.pending).toBe(0); // not added yet: its arrival is after the limit
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.now).toBe(100.1);
  });

  it("pushq/testing's runScenario: sim.now tells a settled run from one its day limit stopped", () => {
    const config = fileConfig(pushQueue('q', 5));
    const healthy = { latency: { distribution: 'constant' as const, valueUs: 100_000 }, errorRate: 0, errorStatus: 500, timeoutRate: 0, outages: [], routes: [] };
    const settled = runScenario({ seed: 1, config, workloads: [{ queue: 'q', count: 10 }], worker: healthy, commands: [] });
    expect(settled.sim.now).toBe(1.1);
    const failing = { ...healthy, errorRate: 1 }; // default retry parameters: retried for ever
    const cut = runScenario({ seed: 1, config, workloads: [{ queue: 'q', count: 1 }], worker: failing, commands: [] }, { maxSeconds: 20_000 });
    expect(cut.sim.now).toBe(20_000);
  });
});
