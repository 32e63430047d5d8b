/**
 * The timeline's marks (src/projections/timeline-markers.ts): each configuration applied (the
 * start and every reload), settings changed (a settings-only ConfigApplied), pause, resume and purge of a queue, at its event's time and in order;
 * nothing for a task's own events; and where the timeline starts.
 */
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/projections/fold.js';
import { TimelineMarkers } from '../../src/projections/timeline-markers.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('TimelineMarkers', () => {
  it('marks the start\'s configuration and each reload, pause, resume and purge, in order, and nothing else', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('a', 5), pushQueue('b', 5)), seed: 1, worker: () => ({ status: 200, latencyMs: 10 }) });
    for (let i = 0; i < 20; i++) sim.addTask({ queue: 'a', name: `t${i}` });
    sim.schedule(0.5, (s) => s.pauseQueue('a'));
    sim.schedule(1.25, (s) => s.kernel.applyConfig(fileConfig(pushQueue('a', 50), pushQueue('b', 5)), s.state.settings)); // a reload
    sim.schedule(2, (s) => s.resumeQueue('a'));
    sim.schedule(2.5, (s) => s.addTask({ queue: 'b', name: 'later', etaSeconds: 100 }));
    sim.schedule(3, (s) => s.purgeQueue('b'));
    sim.runUntilIdle();
    const markers = new TimelineMarkers();
    fold(sim.events, [markers]);
    expect(markers.markers).toEqual([
      { tUs: 0, kind: 'config', queue: null },
      { tUs: 500_000, kind: 'pause', queue: 'a' },
      { tUs: 1_250_000, kind: 'config', queue: null },
      { tUs: 2_000_000, kind: 'resume', queue: 'a' },
      { tUs: 3_000_000, kind: 'purge', queue: 'b' },
    ]);
    expect(markers.firstUs).toBe(0);
    expect(sim.events.length).toBeGreaterThan(60); // the tasks' own events were there, unmarked
  });

  it('marks a settings-only ConfigApplied (a restart with new settings, queue.yaml unchanged) as settings, not as a configuration', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('a', 5)), seed: 1, worker: () => ({ status: 200, latencyMs: 10 }) });
    sim.schedule(1, (s) => s.kernel.applySettings({ ...s.state.settings, tombstoneSeconds: 60 }));
    sim.schedule(2, (s) => s.kernel.applyConfig(fileConfig(pushQueue('a', 50)), s.state.settings));
    sim.runUntilIdle();
    const settingsOnly = sim.events.filter((e) => e.type === 'ConfigApplied' && e.settingsOnly === true);
    expect(settingsOnly.map((e) => e.t)).toEqual([1_000_000]);
    const markers = new TimelineMarkers();
    fold(sim.events, [markers]);
    expect(markers.markers).toEqual([
      { tUs: 0, kind: 'config', queue: null },
      { tUs: 1_000_000, kind: 'settings', queue: null },
      { tUs: 2_000_000, kind: 'config', queue: null },
    ]);
  });
});
