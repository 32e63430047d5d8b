/**
 * Dev-server mode (S39, src/core/dev-server.ts), rule by rule, through the simulation API: each
 * test runs the same tasks under production's rules and under dev_appserver's, so it shows the
 * rule and that the mode (not the setup) makes the difference.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptDispatched, EngineEvent } from '../../src/core/events.js';
import { DEFAULT_SETTINGS, createEngineState, evolve, queueStateName } from '../../src/core/state.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { createSimulation, type SimulationOptions } from '../../src/simulate/simulation.js';
import { checkEtaRespected, checkGiveUp, checkRetryDelays } from '../../src/testing/invariants.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

/** A simulation whose worker answers 200 after `latencyMs` (or as `answer` says). */
function sim(devServer: boolean, config = fileConfig(pushQueue('a', 1, { bucket_size: 1 }), pushQueue('b', 1, { bucket_size: 1 })), extra: Partial<SimulationOptions> = {}) {
  return createSimulation({ config, seed: 3, worker: () => ({ status: 200, latencyMs: 100 }), ...(devServer ? { devServer: true } : {}), ...extra });
}

const dispatches = (events: readonly EngineEvent[]): AttemptDispatched[] => events.filter((e): e is AttemptDispatched => e.type === 'AttemptDispatched');

/** The most attempts in flight at once across the whole app. */
function maxInFlight(events: readonly EngineEvent[]): number {
  let now = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'AttemptDispatched') max = Math.max(max, ++now);
    else if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp' || e.type === 'AttemptOrphaned') now--;
  }
  return max;
}

describe('dev-server mode ignores rate and bucket_size', () => {
  it('ten tasks on a 1/s queue with a bucket of 1 go back to back, one per handler latency, not one a second', () => {
    const run = (dev: boolean) => {
      const s = sim(dev);
      s.addTasks(Array.from({ length: 10 }, () => ({ queue: 'a' })));
      s.runUntilIdle();
      return dispatches(s.events).map((e) => e.t / 1e6);
    };
    expect(run(false)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(run(true)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });

  it('a rate: 0 queue and a bucket_size: 0 queue dispatch too', () => {
    const config = fileConfig(pushQueue('stopped', 0), pushQueue('empty', 5, { bucket_size: 0 }));
    const run = (dev: boolean) => {
      const s = sim(dev, config);
      s.addTasks([{ queue: 'stopped' }, { queue: 'empty' }]);
      s.runUntilIdle();
      return s.stats().queues;
    };
    expect([run(false).stopped?.succeeded, run(false).empty?.succeeded]).toEqual([0, 0]);
    expect([run(true).stopped?.succeeded, run(true).empty?.succeeded]).toEqual([1, 1]);
  });
});

describe('dev-server mode ignores max_concurrent_requests: one attempt at a time for the whole app', () => {
  it('two queues allowing 1000 at once each, 500/s: never more than one attempt in flight app-wide', () => {
    const config = fileConfig(pushQueue('a', 500, { bucket_size: 500 }), pushQueue('b', 500, { bucket_size: 500 }));
    const run = (dev: boolean) => {
      const s = sim(dev, config);
      s.addTasks([...Array.from({ length: 20 }, () => ({ queue: 'a' })), ...Array.from({ length: 20 }, () => ({ queue: 'b' }))]);
      s.runUntilIdle();
      expect(s.stats().queues.a?.succeeded).toBe(20);
      return { max: maxInFlight(s.events), end: s.now };
    };
    expect(run(false).max).toBe(40);
    const dev = run(true);
    expect(dev.max).toBe(1);
    expect(dev.end).toBeCloseTo(4, 6); // 40 handlers of 100 ms, one after another
  });
});

describe('dev-server mode ignores a pause', () => {
  it('a queue paused by command still dispatches; the pause is kept (resume still answers)', () => {
    const run = (dev: boolean) => {
      const s = sim(dev);
      s.pauseQueue('a');
      s.addTasks([{ queue: 'a' }, { queue: 'a' }]);
      s.runUntilIdle();
      return { succeeded: s.stats().queues.a?.succeeded, state: s.queue('a').state };
    };
    expect(run(false)).toEqual({ succeeded: 0, state: 'paused' });
    expect(run(true)).toEqual({ succeeded: 2, state: 'paused' });
  });
});

describe('dev-server mode answers a resume of a rate: 0 queue', () => {
  it('resume after a pause is answered, as of any queue (the rate is not read); production refuses it, rate 0 holding the queue', () => {
    const config = fileConfig(pushQueue('stopped', 0));
    const run = (dev: boolean): string => {
      const s = sim(dev, config);
      s.pauseQueue('stopped');
      try {
        s.resumeQueue('stopped');
      } catch (err) {
        return (err as { code: string }).code;
      }
      s.addTask({ queue: 'stopped' });
      s.runUntilIdle();
      return `resumed; ${s.stats().queues.stopped?.succeeded} succeeded`;
    };
    expect(run(false)).toBe('QUEUE_NOT_RESUMABLE');
    expect(run(true)).toBe('resumed; 1 succeeded');
  });
});

describe('a rate: 0 queue reads as what the engine does with it', () => {
  it('running in dev-server mode (it dispatches), paused in production; a pause by command reads paused in both', () => {
    const config = fileConfig(pushQueue('stopped', 0));
    const states = (dev: boolean) => {
      const s = sim(dev, config);
      const first = s.queue('stopped').state;
      s.pauseQueue('stopped');
      return [first, s.queue('stopped').state];
    };
    expect(states(false)).toEqual(['paused', 'paused']);
    expect(states(true)).toEqual(['running', 'paused']);
  });

  it('a reload to rate 0 leaves a dev-server queue running, with resume_paused_queues: false too', () => {
    const dev = { ...DEFAULT_SETTINGS, devServer: true as const };
    for (const [settings, expected] of [[dev, 'running'], [DEFAULT_SETTINGS, 'paused']] as const) {
      for (const resumes of [true, false]) {
        const state = createEngineState();
        evolve(state, { type: 'ConfigApplied', t: 0, config: fileConfig(pushQueue('q', 5)), settings });
        evolve(state, { type: 'ConfigApplied', t: 1, config: { ...fileConfig(pushQueue('q', 0)), ...(resumes ? {} : { resume_paused_queues: false }) }, settings });
        expect(queueStateName(state.queueByName.get('q')!), `devServer ${settings.devServer === true}, resume_paused_queues ${resumes}`).toBe(expected);
      }
    }
  });

  it('a restart that switches the mode (a settings-only ConfigApplied) re-reads what rate 0 means: paused under production, running under dev_appserver', () => {
    const config = fileConfig(pushQueue('stopped', 0));
    const dev = { ...DEFAULT_SETTINGS, devServer: true as const };
    const state = createEngineState();
    evolve(state, { type: 'ConfigApplied', t: 0, config, settings: dev });
    const stopped = state.queueByName.get('stopped')!;
    expect(queueStateName(stopped)).toBe('running');
    evolve(state, { type: 'ConfigApplied', t: 1, config, settings: DEFAULT_SETTINGS, settingsOnly: true });
    expect(queueStateName(stopped)).toBe('paused');
    evolve(state, { type: 'ConfigApplied', t: 2, config, settings: dev, settingsOnly: true });
    expect(queueStateName(stopped)).toBe('running');
    // A queue with a rate keeps a pause given by command across the switch.
    const a = state.queueByName.get('default')!;
    evolve(state, { type: 'QueuePaused', t: 3, queue: 'default' });
    evolve(state, { type: 'ConfigApplied', t: 4, config, settings: DEFAULT_SETTINGS, settingsOnly: true });
    expect(queueStateName(a)).toBe('paused');
  });
});

describe('dev-server mode runs tasks in ETA order across queues', () => {
  it('the lowest ETA of any queue goes next, whatever queue it is in', () => {
    const s = sim(true, fileConfig(pushQueue('a', 500), pushQueue('b', 500)), { worker: () => ({ status: 200, latencyMs: 10_000 }) });
    // Added in this order; all due while the first (10 s) handler runs, so the order is the ETAs'.
    s.addTasks([
      { queue: 'a', name: 'a-at-4', countdownSeconds: 4 },
      { queue: 'b', name: 'b-at-0' },
      { queue: 'a', name: 'a-at-1', countdownSeconds: 1 },
      { queue: 'b', name: 'b-at-3', countdownSeconds: 3 },
      { queue: 'b', name: 'b-at-2', countdownSeconds: 2 },
    ]);
    s.runUntilIdle();
    const order = dispatches(s.events).map((e) => [s.state.tasks.meta[e.id]?.name, e.t / 1e6]);
    // One after another, each when the one before it has answered (production would start each at its ETA).
    expect(order).toEqual([['b-at-0', 0], ['a-at-1', 10], ['b-at-2', 20], ['b-at-3', 30], ['a-at-4', 40]]);
  });

  it('equal ETAs across queues: the queue declared first goes first (the stub scans its queues in the order it made them)', () => {
    const s = sim(true, fileConfig(pushQueue('z-first', 5), pushQueue('a-second', 5)));
    s.addTasks([{ queue: 'a-second', name: 'late-queue', etaSeconds: 1 }, { queue: 'z-first', name: 'early-queue', etaSeconds: 1 }]);
    s.runUntilIdle();
    expect(dispatches(s.events).map((e) => s.state.tasks.meta[e.id]?.name)).toEqual(['early-queue', 'late-queue']);
  });

  it('a retry keeps its backoff and its place by ETA; the retry laws of production still hold', () => {
    const config = fileConfig(pushQueue('a', 1, { retry: { task_retry_limit: 2, min_backoff_seconds: 1, max_backoff_seconds: 4 } }), pushQueue('b', 1));
    const s = sim(true, config, { worker: ({ request }) => ({ status: request.queue === 'a' ? 500 : 200, latencyMs: 100 }) });
    s.addTasks([{ queue: 'a', name: 'fails' }, { queue: 'b', name: 'later', countdownSeconds: 0.05 }]);
    s.runUntilIdle();
    const order = dispatches(s.events).map((e) => [s.state.tasks.meta[e.id]?.name, e.t / 1e6]);
    // fails at 0 (answers at 0.1, retry at 1.1); later, due at 0.05, waits for that answer; fails at
    // 1.1 (answers at 1.2, retry 2 s on), at 3.2, then gives up.
    expect(order).toEqual([['fails', 0], ['later', 0.1], ['fails', 1.1], ['fails', 3.2]]);
    expect([...checkRetryDelays(s.events), ...checkGiveUp(s.events), ...checkEtaRespected(s.events)]).toEqual([]);
  });
});

describe('dev-server mode keeps task names for ever', () => {
  it('a name that ran is TOMBSTONED_TASK a year later, after a purge too, where production frees it after 9 days', () => {
    const run = (dev: boolean): string => {
      const s = sim(dev);
      s.addTask({ queue: 'a', name: 'once' });
      s.runUntil(10);
      s.purgeQueue('a');
      s.runUntil(365 * 24 * 3600);
      try {
        s.addTask({ queue: 'a', name: 'once' });
        return 'added';
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
    };
    expect(run(false)).toBe('added');
    expect(run(true)).toBe('TOMBSTONED_TASK: task name "once" was used by a task that ended; dev-server mode reserves every name for as long as the engine runs, as dev_appserver does');
  });

  it('deleting the ended task says TOMBSTONED_TASK too, with the same message', () => {
    const s = sim(true);
    s.addTask({ queue: 'a', name: 'gone' });
    s.runUntil(30 * 24 * 3600);
    expect(() => s.deleteTask('a', 'gone')).toThrow(/reserves every name/);
  });
});

describe('dev-server mode is in the log', () => {
  it('ConfigApplied carries settings.devServer, and replaying the log gives the live state', () => {
    const s = sim(true, fileConfig(pushQueue('a', 1, { retry: { task_retry_limit: 1 } }), pushQueue('b', 0)), { worker: ({ random }) => ({ status: random() < 0.5 ? 500 : 200, latencyMs: 50 }) });
    s.pauseQueue('a');
    s.addTasks([...Array.from({ length: 15 }, (_, i) => ({ queue: 'a', countdownSeconds: i % 4 })), ...Array.from({ length: 15 }, () => ({ queue: 'b' }))]);
    s.runUntilIdle();
    const first = s.events[0];
    expect(first?.type === 'ConfigApplied' && first.settings.devServer).toBe(true);
    expect(maxInFlight(s.events)).toBe(1);
    expect(stateDigest(replay(s.events))).toBe(stateDigest(s.state));
  });

  it('off, the settings carry no devServer key at all (so default logs keep their bytes)', () => {
    const s = sim(false);
    expect(JSON.stringify(s.events[0])).not.toContain('devServer');
  });
});
