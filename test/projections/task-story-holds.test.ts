/**
 * A task's story says, for each attempt, how long it waited from when it could go and what held
 * its queue meanwhile: the same accounting as the queue's wait-by-cause figures, for one task.
 */
import { describe, expect, it } from 'vitest';
import { fold } from '../../src/projections/fold.js';
import { DEV_SERVER_CONCURRENCY_TEXT } from '../../src/projections/series-types.js';
import { TaskStoryCollector, heldByParts, type AttemptStory } from '../../src/projections/task-story.js';
import { TaskWaits } from '../../src/projections/task-waits.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

function storyOf(sim: ReturnType<typeof createSimulation>, name: string) {
  const story = new TaskStoryCollector(name, 'q');
  fold(sim.events, [story]);
  return story.stories.at(-1)!;
}

describe('what held each attempt', () => {
  it('the 101st of 1,000 tasks behind a cap of 10 with 5 s handlers waits 50 s, all of it held by concurrency', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 20, { bucket_size: 40, max_concurrent_requests: 10 })), worker: { latency: { distribution: 'constant', valueUs: 5_000_000 } } });
    sim.addWorkload({ queue: 'q', count: 1000, namePrefix: 't' });
    sim.runUntilIdle();
    const a = storyOf(sim, 't100').attempts[0]!;
    expect(a.waitedUs).toBe(50_000_000);
    expect(a.heldByUs).toEqual({ concurrency: 50_000_000 });
  });

  it('a paused queue holds by `paused`, then the bucket by `tokens`; a retry waits from its backoff end', () => {
    let n = 0;
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 1, { bucket_size: 1, retry: { min_backoff_seconds: 2, max_backoff_seconds: 2 } })),
      worker: () => ({ status: n++ === 0 ? 500 : 200, latencyMs: 1 }),
    });
    sim.pauseQueue('q');
    sim.addTasks([{ queue: 'q', name: 'first' }, { queue: 'q', name: 'second' }]);
    sim.schedule(3, (s) => s.resumeQueue('q'));
    sim.runUntilIdle();
    // second: ready at 0, paused until 3 s, then behind first for a token until 4 s.
    const second = storyOf(sim, 'second').attempts[0]!;
    expect(second.waitedUs).toBe(4_000_000);
    expect(second.heldByUs).toEqual({ paused: 3_000_000, tokens: 1_000_000 });
    // first failed at 3.001 s, its backoff ended at 5.001 s; the next token came at 5 s: no wait.
    const first = storyOf(sim, 'first').attempts;
    expect(first).toHaveLength(2);
    expect(first[1]!.waitedUs).toBe(0);
    expect(first[1]!.heldByUs).toEqual({});
  });

  it('a forced run is not a wait (as for the queue\'s wait figures and `--tasks longest-wait`), whatever held the task before it', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 1, { bucket_size: 1 })), worker: () => ({ status: 200, latencyMs: 10 }) });
    sim.addTasks([{ queue: 'q', name: 'a' }, { queue: 'q', name: 'b' }, { queue: 'q', name: 'c' }]);
    sim.schedule(0.5, (s) => s.runTask('q', 'c'));
    sim.schedule(0.6, (s) => s.pauseQueue('q'));
    sim.schedule(2, (s) => s.runTask('q', 'b'));
    sim.schedule(3, (s) => s.resumeQueue('q'));
    sim.runUntilIdle();
    const waits = new TaskWaits();
    fold(sim.events, [waits]);
    for (const name of ['b', 'c']) {
      const a = storyOf(sim, name).attempts[0]!;
      expect(a.forced, name).toBe(true);
      expect(a.waitedUs, name).toBe(0);
      expect(a.heldByUs, name).toEqual({});
      expect(waits.waitedUs(sim.task('q', name).id), name).toBe(0);
    }
    expect(sim.stats().queues.q!.wait_seconds.max).toBe(0);
  });

  it("in dev-server mode the app's one task at a time holds a task, told as such, though its queue has nothing in flight", () => {
    const sim = createSimulation({
      config: fileConfig(pushQueue('other', 10), pushQueue('q', 10, { max_concurrent_requests: 5 })),
      devServer: true,
      worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } },
    });
    sim.addTasks([{ queue: 'other', name: 'o1' }, { queue: 'other', name: 'o2' }, { queue: 'q', name: 'mine' }]);
    sim.runUntilIdle();
    const a = storyOf(sim, 'mine').attempts[0]!;
    expect(a.waitedUs).toBe(2_000_000);
    expect(a.heldByUs).toEqual({ concurrency: 2_000_000 });
    expect(a.devServerHeldUs).toBe(2_000_000);
    expect(heldByParts(a)).toEqual([{ cause: 'concurrency', text: DEV_SERVER_CONCURRENCY_TEXT, us: 2_000_000 }]);
  });

  it('a wait held partly by max_concurrent_requests and partly by the mode (a switch to it) tells both, in HOLD_CAUSES order', () => {
    const a = { heldByUs: { tokens: 1, concurrency: 5, not_running: 2 }, devServerHeldUs: 3 } as unknown as AttemptStory;
    expect(heldByParts(a)).toEqual([
      { cause: 'tokens', text: 'tokens', us: 1 },
      { cause: 'concurrency', text: 'concurrency', us: 2 },
      { cause: 'concurrency', text: DEV_SERVER_CONCURRENCY_TEXT, us: 3 },
      { cause: 'not_running', text: 'pushq not running', us: 2 },
    ]);
  });
});
