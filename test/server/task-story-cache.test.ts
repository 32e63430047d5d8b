/**
 * The story cache: a task's story is read from the log again only when events were applied
 * since, and concurrent requests share one read (each read is a pass over the whole log).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evolve } from '../../src/core/state.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
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

  it('does not keep a story read while a batch was open: the next read has the events it missed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pushq-story-cache-')), 'log.jsonl');
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 0)), log: (h) => createFileEventLogSync(path, h, { durable: false }) });
    sim.addTask({ queue: 'q', name: 'a' });
    // An event the state has applied but the log has not committed yet (as real settles are
    // until the end of their event-loop turn): a flush does not write it.
    const deleted = { type: 'TaskDeleted' as const, t: 0, id: sim.task('q', 'a').id };
    sim.kernel.log.append(deleted);
    evolve(sim.state, deleted);
    const cache = new TaskStoryCache(sim.kernel.log);
    expect((await cache.read(sim.state, 'q', 'a')).ended).toBeNull();
    sim.kernel.log.commit();
    expect((await cache.read(sim.state, 'q', 'a')).ended).toMatchObject({ reason: 'deleted' });
    await sim.kernel.log.close();
  });
});
