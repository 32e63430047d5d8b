/**
 * The invariant checkers on a dev-server log (S39): such a log is judged by that mode's own rules
 * (one attempt at a time for the whole app, the lowest ETA of any queue next, a removal from
 * queue.yaml still holds), not by production's rate, bucket, concurrency and pause, which the mode
 * ignores by design. Real runs must pass; hand-made logs that break the mode's rules must not.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { DEFAULT_SETTINGS } from '../../src/core/state.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { checkAll, checkDevServerLaws, formatViolations } from '../../src/testing/invariants.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const DEV = { ...DEFAULT_SETTINGS, devServer: true as const };
const S = 1_000_000;
const CONFIG = fileConfig(pushQueue('a', 1, { bucket_size: 1, max_concurrent_requests: 1 }), pushQueue('b', 1, { bucket_size: 1 }));

const added = (t: number, id: number, queue: string, eta = t): EngineEvent => ({ type: 'TaskAdded', t, id, queue, eta, size: 0 });
const dispatched = (t: number, id: number): EngineEvent => ({ type: 'AttemptDispatched', t, id });
const succeeded = (t: number, id: number, latencyUs = 0): EngineEvent => ({ type: 'AttemptSucceeded', t, id, status: 200, latencyUs });

describe('a real dev-server run passes every checker', () => {
  it('rate 1/s with a bucket of 1, rate 0, a pause and a cap of 1: dispatched back to back, no violation reported', () => {
    const config = fileConfig(pushQueue('slow', 1, { bucket_size: 1 }), pushQueue('stopped', 0), pushQueue('held', 5, { max_concurrent_requests: 1 }));
    const sim = createSimulation({ config, seed: 4, devServer: true, worker: ({ random }) => ({ status: random() < 0.3 ? 500 : 200, latencyMs: 40 }) });
    sim.pauseQueue('held');
    sim.addTasks([...Array.from({ length: 20 }, (_, i) => ({ queue: 'slow', countdownSeconds: i % 3 })), ...Array.from({ length: 5 }, () => ({ queue: 'stopped' })), ...Array.from({ length: 5 }, () => ({ queue: 'held' }))]);
    sim.runUntilIdle();
    expect(sim.stats().queues.stopped?.succeeded).toBe(5);
    expect(formatViolations(checkAll(sim.events))).toBe('');
  });
});

describe("the dev-server laws catch what that mode's rules forbid", () => {
  it('one-at-a-time: a dispatch while another attempt is in flight, in another queue', () => {
    const events: EngineEvent[] = [{ type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV }, added(0, 0, 'a'), added(0, 1, 'b'), dispatched(0, 0), dispatched(0, 1), succeeded(S, 0, S), succeeded(S, 1, S)];
    expect(checkDevServerLaws(events)).toEqual([{ law: 'one-at-a-time', index: 4, message: 'task 1 (queue b) dispatched at 0 µs while 1 attempt is in flight (task 0 of queue a): dev-server mode sends one task at a time for the whole app' }]);
    expect(checkAll(events).map((v) => v.law)).toEqual(['one-at-a-time']);
  });

  it('eta-order: a later ETA sent while a task of another queue was due before it', () => {
    const events: EngineEvent[] = [{ type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV }, added(0, 0, 'a', 5 * S), added(0, 1, 'b', S), dispatched(6 * S, 0), succeeded(6 * S, 0), dispatched(6 * S, 1), succeeded(6 * S, 1)];
    expect(checkDevServerLaws(events)).toEqual([{ law: 'eta-order', index: 3, message: 'task 0 (queue a, ETA 5000000 µs) dispatched at 6000000 µs while task 1 (queue b, ETA 1000000 µs) was waiting with an earlier ETA' }]);
  });

  it('eta-order at equal ETAs: the queue made first goes first; within one queue equal ETAs are not judged', () => {
    const across: EngineEvent[] = [{ type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV }, added(0, 0, 'b', S), added(0, 1, 'a', S), dispatched(S, 0), succeeded(S, 0), dispatched(S, 1), succeeded(S, 1)];
    expect(checkDevServerLaws(across).map((v) => v.message)).toEqual(['task 0 (queue b, ETA 1000000 µs) dispatched at 1000000 µs while task 1 (queue a, ETA 1000000 µs) was waiting in a queue made before it']);
    const within: EngineEvent[] = [{ type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV }, added(0, 0, 'a', S), added(0, 1, 'a', S), dispatched(S, 1), succeeded(S, 1), dispatched(S, 0), succeeded(S, 0)];
    expect(checkDevServerLaws(within)).toEqual([]);
  });

  it('a deleted or purged task waits no more; a failed one waits again from its BackoffElapsed, at its retry time', () => {
    const events: EngineEvent[] = [
      { type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV },
      added(0, 0, 'a'),
      dispatched(0, 0),
      added(0, 1, 'b', S),
      added(0, 2, 'a', 2 * S),
      added(0, 3, 'b', 3 * S),
      { type: 'AttemptFailed', t: 0, id: 0, status: 500, reason: 'status', latencyUs: 0, retry: 1, delayUs: 5 * S, retryAt: 5 * S },
      { type: 'TaskDeleted', t: S / 2, id: 2 },
      { type: 'QueuePurged', t: S / 2, queue: 'b' },
      added(S / 2, 4, 'b', 6 * S),
      { type: 'BackoffElapsed', t: 5 * S, id: 0 },
      dispatched(5 * S, 0),
      succeeded(5 * S, 0),
      dispatched(6 * S, 4),
      succeeded(6 * S, 4),
    ];
    expect(checkDevServerLaws(events)).toEqual([]);
    // Without the delete and the purge, tasks 1 (ETA 1 s) and 2 (2 s) came before task 0 (5 s).
    const kept = events.filter((e) => e.type !== 'TaskDeleted' && e.type !== 'QueuePurged');
    expect(checkDevServerLaws(kept).map((v) => `${v.law}@${v.index}`)).toEqual(['eta-order@9', 'eta-order@11']);
  });

  it('a queue removed from queue.yaml stays held in dev-server mode, where a pause and rate 0 do not', () => {
    const reload = fileConfig(pushQueue('b', 0));
    const events: EngineEvent[] = [{ type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEV }, { type: 'QueuePaused', t: 0, queue: 'b' }, added(0, 0, 'b'), dispatched(0, 0), added(0, 1, 'a'), succeeded(S, 0, S), { type: 'ConfigApplied', t: S, config: reload, settings: DEV }, dispatched(S, 1), succeeded(S, 1)];
    expect(checkAll(events)).toEqual([{ law: 'pause', index: 7, message: 'queue a is disabled (left out of queue.yaml by a reload), yet task 1 was dispatched at 1000000 µs' }]);
  });

  it('a settings-only restart switches the laws: production dispatches are judged by production, dev-server ones by the mode', () => {
    const events: EngineEvent[] = [
      { type: 'ConfigApplied', t: 0, config: CONFIG, settings: DEFAULT_SETTINGS },
      added(0, 0, 'a'),
      added(0, 1, 'a'),
      dispatched(0, 0),
      dispatched(0, 1), // production: the cap of 1 and the bucket of 1 are both broken here
      succeeded(S, 0, S),
      succeeded(S, 1, S),
      { type: 'ConfigApplied', t: S, config: CONFIG, settings: DEV, settingsOnly: true },
      added(S, 2, 'a'),
      added(S, 3, 'a'),
      dispatched(S, 2),
      succeeded(S, 2),
      dispatched(S, 3), // dev-server: rate and cap ignored, one at a time kept
      succeeded(S, 3),
    ];
    expect(checkAll(events).map((v) => `${v.law}@${v.index}`)).toEqual(['rate@4', 'concurrency@4']);
  });
});
