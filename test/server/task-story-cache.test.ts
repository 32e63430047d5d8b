/**
 * The story cache: a task's story is read from the log again only when events were applied
 * since, and concurrent requests share one read (each read is a pass over the whole log).
 */
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/engine/simulation.js';
import { TaskStoryCache } from '../../src/server/task-story-view.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('TaskStoryCache', () => {
  it('reads again only after new events, and shares a read in progress', async () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)), worker: { errorRate: 1 } });
    sim.addTask({ queue: 'q', name: 'a' });
    sim.runUntil(1);
    const cache = new TaskStoryCache(sim.eventLog);
    const first = cache.read(sim.state, 'q', 'a');
    expect(cache.read(sim.state, 'q', 'a')).toBe(first); // shared, not read twice
    const before = await first;
    expect(cache.read(sim.state, 'q', 'a')).toBe(first); // nothing happened since: the same story
    sim.runUntil(3); // more failed attempts
    const after = cache.read(sim.state, 'q', 'a');
    expect(after).not.toBe(first);
    expect((await after).attempts.length).toBeGreaterThan(before.attempts.length);
    await expect(cache.read(sim.state, 'q', 'nope')).rejects.toThrow(/not found/);
  });

  it('keeps a bounded number of stories', async () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
    for (let i = 0; i < 5; i++) sim.addTask({ queue: 'q', name: `t${i}` });
    sim.runUntil(2);
    const cache = new TaskStoryCache(sim.eventLog, 2);
    const t0 = cache.read(sim.state, 'q', 't0');
    await t0;
    cache.read(sim.state, 'q', 't1');
    cache.read(sim.state, 'q', 't2'); // t0 is the oldest: dropped
    expect(cache.read(sim.state, 'q', 't0')).not.toBe(t0);
  });
});
