/**
 * A small simulation that produces every event type: retries, give-ups (both limits), deletes,
 * a purge, pause/resume, a forced run, named tasks with headers and a body, per-task retry
 * options, timed-out attempts (status null; one at a task's own dispatch deadline), an orphaned attempt,
 * and the mark of a start (ServiceStarted, as a restart of `pushq serve` logs it; a simulation never
 * restarts, so it is logged here by hand, mid-run, with tasks waiting). Used by the log tests.
 */
import { createSimulation, type Simulation } from '../../src/simulate/simulation.js';
import type { EventLog, LogHeader } from '../../src/log/event-log.js';
import { fileConfig, pushQueue } from './config.js';

export function richSimulation(seed: number, log?: (header: LogHeader) => EventLog, scale = 1): Simulation {
  const config = fileConfig(
    pushQueue('default', 20),
    pushQueue('mail', 5, { retry: { task_retry_limit: 2, task_age_limit_seconds: 1, min_backoff_seconds: 0.2, max_backoff_seconds: 1, max_doublings: 2 } }),
    pushQueue('bulk', 50, { bucket_size: 10 }),
  );
  const sim = createSimulation({
    config,
    seed,
    ...(log ? { log } : {}),
    worker: ({ request, random }) => {
      if (request.name.startsWith('slow')) return { status: null, latencyMs: 700_000 }; // past the 10 min deadline
      if (request.queue === 'mail') return { status: 503, latencyMs: 50 };
      return { status: random() < 0.3 ? 500 : 200, latencyMs: 20 + Math.floor(random() * 80) };
    },
  });
  sim.addWorkload({ queue: 'default', count: 30 * scale, ratePerSecond: 10 });
  sim.addWorkload({ queue: 'bulk', count: 40 * scale, atSeconds: 0.5 });
  sim.addWorkload({ queue: 'default', count: 3, task: { dispatchDeadlineSeconds: 30 } }); // unnamed: only this optional field
  sim.addTask({ queue: 'mail', name: 'welcome-1', headers: [['X-Kind', 'welcome']], body: 'aGVsbG8=' });
  sim.addTask({ queue: 'default', name: 'own-retry', retry: { task_retry_limit: 1, min_backoff_seconds: 0.5 }, url: '/work/own', method: 'PUT' });
  sim.addTask({ queue: 'default', name: 'slow-1' });
  sim.addTask({ queue: 'default', name: 'slow-own-deadline', dispatchDeadlineSeconds: 20.5 }); // fails at 20.5 s, not 10 min
  sim.addTask({ queue: 'default', name: 'later', countdownSeconds: 30 });
  sim.addTask({ queue: 'default', name: 'deleted-soon', countdownSeconds: 60 });
  sim.addTask({ queue: 'default', name: 'deleted-in-flight', countdownSeconds: 2 });
  sim.schedule(1, (s) => s.deleteTask('default', 'deleted-soon'));
  sim.schedule(2.01, (s) => s.deleteTask('default', 'deleted-in-flight'));
  sim.schedule(1.5, (s) => s.pauseQueue('bulk'));
  sim.schedule(3, (s) => s.resumeQueue('bulk'));
  sim.schedule(4, (s) => s.runTask('default', 'later'));
  sim.schedule(0.6, (s) => s.purgeQueue('bulk'));
  sim.schedule(1.2, (s) => s.kernel.markStarted());
  sim.schedule(0.7, (s) => {
    s.addWorkload({ queue: 'bulk', count: 10 * scale, ratePerSecond: 20 });
  });
  sim.runUntilIdle({ maxSeconds: 3600 });
  return sim;
}
