/**
 * One observer interface, the same code live and on replay: each projection fed live by the
 * kernel (as the simulation's observers) ends equal to the same projection folded from the log.
 */
import { expect, it } from 'vitest';
import { createSimulation } from '../../src/index.js';
import { AttemptHistory } from '../../src/projections/attempt-history.js';
import { DispatchCounters } from '../../src/projections/dispatch-counters.js';
import { fold } from '../../src/projections/fold.js';
import { StatsCollector } from '../../src/projections/stats.js';
import { TaskStoryCollector } from '../../src/projections/task-story.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

function projections() {
  return {
    history: new AttemptHistory(),
    counters: new DispatchCounters(),
    story: new TaskStoryCollector('flaky', undefined),
    stats: new StatsCollector(),
  };
}

it('every projection fed live equals the same projection folded from the events', () => {
  const live = projections();
  const sim = createSimulation({
    config: fileConfig(pushQueue('a', 20, { bucket_size: 3, retry: { task_retry_limit: 3, min_backoff_seconds: 0.1 } }), pushQueue('b', 5)),
    seed: 9,
    worker: ({ request, random }) => ({ status: request.name === 'flaky' || random() < 0.3 ? 500 : 200, latencyMs: 10 + Math.floor(random() * 90) }),
    observers: [live.history.observe, live.counters.observe, live.story.observe, live.stats.observe],
  });
  sim.addWorkload({ queue: 'a', count: 60, ratePerSecond: 30 });
  sim.addWorkload({ queue: 'b', count: 20 });
  sim.addTask({ queue: 'a', name: 'flaky' });
  sim.schedule(1, (s) => s.purgeQueue('b'));
  sim.runUntilIdle({ maxSeconds: 600 });

  const replayed = projections();
  const { state } = fold(sim.events, [replayed.history, replayed.counters, replayed.story, replayed.stats]);
  expect(replayed.stats.report(state)).toEqual(live.stats.report(sim.state));
  // The simulation reports the same figures (beside others of its own).
  expect(sim.stats().queues).toMatchObject(replayed.stats.report(state));
  expect(replayed.story.stories).toEqual(live.story.stories);
  expect(live.story.stories[0]?.attempts.length).toBe(4); // the story was told: 1 + task_retry_limit attempts
  let answered = 0;
  for (let id = 0; id < state.tasks.count; id++) {
    const last = replayed.history.lastAttempt(id);
    expect(last, `task ${id}`).toEqual(live.history.lastAttempt(id));
    if (last?.status != null) answered++;
  }
  expect(answered).toBeGreaterThan(60);
  expect(replayed.history.purgedAt).toEqual(live.history.purgedAt);
  expect(live.history.purgedAt.has('b')).toBe(true);
  for (const q of state.queues) {
    expect(replayed.counters.of(q.index), q.name).toEqual(live.counters.of(q.index));
  }
  expect(live.counters.of(0).attempts + live.counters.of(1).attempts + live.counters.of(2).attempts).toBeGreaterThan(80);
});
