/**
 * Law: replay(log) rebuilds the live state exactly (DESIGN.md), for generated runs, and at any
 * cut point: replaying the events up to time T equals a live simulation run only until T (and
 * that run's log is a prefix of the full one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, stateDigest, stateLines } from '../src/log/replay.js';
import { prepareScenario, runScenario, scenarioArbitrary } from '../src/testing/scenario.js';

describe('replay', () => {
  it('stateLines(replay(events)) = stateLines(live state), for generated runs', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, reloads: true }), (scenario) => {
        const { sim } = runScenario(scenario);
        expect(stateLines(replay(sim.events))).toEqual(stateLines(sim.state));
      }),
      { numRuns: 60 },
    );
  });

  it('at any cut point T: replay(events, {until: T}) = a live run stopped at T', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (scenario, fraction) => {
        const full = runScenario(scenario).sim;
        const events = full.events;
        const lastT = events.at(-1)!.t;
        const cutUs = Math.round(lastT * fraction);
        const partial = prepareScenario(scenario).sim;
        partial.runUntil(cutUs / 1e6);
        const prefix = partial.events;
        expect(prefix).toEqual(events.slice(0, prefix.length));
        expect(events.slice(prefix.length).every((e) => e.t > cutUs)).toBe(true);
        expect(stateLines(replay(events, { until: cutUs }))).toEqual(stateLines(partial.state));
      }),
      { numRuns: 60 },
    );
  });

  it('a digest tells different histories apart (the comparison can fail)', () => {
    const sample = fc.sample(scenarioArbitrary({ maxQueues: 1, maxTasks: 30, commands: false }), { numRuns: 20, seed: 7 });
    const runs = sample.map((s) => runScenario(s).sim).filter((sim) => sim.events.some((e) => e.type === 'AttemptDispatched'));
    expect(runs.length).toBeGreaterThan(5);
    for (const sim of runs) {
      const events = sim.events;
      const lastDispatch = events.map((e) => e.type).lastIndexOf('AttemptDispatched');
      expect(stateDigest(replay(events.slice(0, lastDispatch)))).not.toBe(stateDigest(sim.state));
    }
  });
});
