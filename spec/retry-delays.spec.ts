/**
 * Law (reference §2.1, S8–S11): every AttemptFailed has
 *   delayUs = min(max_backoff, min_backoff · 2^e · k), e = min(n−1, max_doublings), k = n − e,
 *   n = `retry` = attempts made so far, and retryAt = t + delayUs (t = failure observed).
 * The retry parameters are the task's own if it has any (S15), else its queue's.
 *
 * The formula is written here again, on purpose naively (a doubling loop in plain numbers), from
 * the reference: neither the engine's `backoffDelayUs` nor the kit's BigInt version is imported
 * for the comparison. Seconds are converted to µs once, rounded, as the config boundary does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetryParameters } from '../src/config/types.js';
import type { EngineEvent } from '../src/core/events.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { checkRetryDelays } from '../src/testing/invariants.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS, copyEvents, expectLawHolds } from './helpers/laws.js';

function specDelayUs(n: number, p: RetryParameters): number {
  const min = Math.round(p.min_backoff_seconds * 1e6);
  const max = Math.round(p.max_backoff_seconds * 1e6);
  const doublings = Math.min(n - 1, p.max_doublings);
  let d = min;
  for (let i = 0; i < doublings && d < max; i++) d *= 2;
  return Math.min(max, d * (n - doublings));
}

/** [retry, delayUs, expectedUs, retryAt − t] per AttemptFailed, folded here from the events. */
function delays(events: readonly EngineEvent[]): { n: number; retry: number; delayUs: number; expectedUs: number; gapUs: number }[] {
  let queues = new Map<string, RetryParameters>();
  const tasks = new Map<number, { params: RetryParameters | undefined; queue: string; attempts: number }>();
  const out: { n: number; retry: number; delayUs: number; expectedUs: number; gapUs: number }[] = [];
  for (const e of events) {
    // A queue left out of a reload is disabled but keeps its parameters (its attempts still settle).
    if (e.type === 'ConfigApplied') queues = new Map([...queues, ...e.config.queues.map((q) => [q.name, q.retry_parameters] as const)]);
    if (e.type === 'TaskAdded') tasks.set(e.id, { params: e.options?.retry, queue: e.queue, attempts: 0 });
    if (e.type === 'AttemptDispatched') tasks.get(e.id)!.attempts++;
    if (e.type === 'AttemptFailed') {
      const t = tasks.get(e.id)!;
      const p = t.params ?? queues.get(t.queue)!;
      out.push({ n: t.attempts, retry: e.retry, delayUs: e.delayUs, expectedUs: specDelayUs(t.attempts, p), gapUs: e.retryAt - e.t });
    }
  }
  return out;
}

/** One task on a queue whose worker always answers 500 after `latencyMs`; returns the delays in seconds. */
function failingDelaysSeconds(retry: Partial<RetryParameters>, latencyMs = 250): number[] {
  const sim = createSimulation({ config: fileConfig(pushQueue('q', 500, { retry })), worker: () => ({ status: 500, latencyMs }) });
  sim.addTask({ queue: 'q' });
  sim.runUntilIdle();
  const failed = sim.events.filter((e) => e.type === 'AttemptFailed');
  const dispatched = sim.events.filter((e) => e.type === 'AttemptDispatched');
  // S11: each retry is dispatched at failure time + delay (the queue has tokens to spare).
  failed.forEach((f, i) => {
    expect(f.retryAt).toBe(f.t + f.delayUs);
    expect(f.t).toBe(dispatched[i]!.t + latencyMs * 1000);
    expect(dispatched[i + 1]!.t).toBe(f.retryAt);
  });
  return failed.map((e) => e.delayUs / 1e6);
}

describe('retry delays', () => {
  it('every AttemptFailed follows §2.1, for generated queues, per-task options and faulty workers', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, errorRateMax: 0.9, timeoutRateMax: 0.1, reloads: true }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        for (const d of delays(events)) {
          expect(d.retry).toBe(d.n);
          expect(d.delayUs).toBe(d.expectedUs);
          expect(d.gapUs).toBe(d.delayUs);
        }
        expectLawHolds(checkRetryDelays(events), events);
      }),
      RUNS,
    );
  });

  it('S8: min 10, max 200, doublings 0 → 10, 20, 30, …, 190, 200, 200', () => {
    expect(failingDelaysSeconds({ min_backoff_seconds: 10, max_backoff_seconds: 200, max_doublings: 0, task_retry_limit: 21 })).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 200,
    ]);
  });

  it('S9: min 10, max 300, doublings 3 → 10, 20, 40, 80, 160, 240, 300, 300', () => {
    expect(failingDelaysSeconds({ min_backoff_seconds: 10, max_backoff_seconds: 300, max_doublings: 3, task_retry_limit: 8 })).toEqual([10, 20, 40, 80, 160, 240, 300, 300]);
  });

  it('S10: defaults → 0.1·2^(n−1) s for n ≤ 16, then 3600 s', () => {
    // Exactly, in µs: 100 000 · 2^(n−1) for n ≤ 16 (the 16th is 3276.8 s), then the 3600 s cap.
    const expectedUs = [...Array.from({ length: 16 }, (_, i) => 100_000 * 2 ** i), 3_600_000_000, 3_600_000_000];
    const got = failingDelaysSeconds({ task_retry_limit: 18 });
    expect(got.map((s) => Math.round(s * 1e6))).toEqual(expectedUs);
    expect(got[15]).toBe(3276.8);
  });

  describe('the checker can fail', () => {
    const run = () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5, { retry: { min_backoff_seconds: 1, max_doublings: 2, task_retry_limit: 5 } })), worker: () => ({ status: 503, latencyMs: 5 }) });
      sim.addTask({ queue: 'q' });
      sim.runUntilIdle();
      return sim.events;
    };

    it('accepts the real run, whose delays are 1, 2, 4, 8, 12 s', () => {
      const events = run();
      expect(events.filter((e) => e.type === 'AttemptFailed').map((e) => e.delayUs)).toEqual([1e6, 2e6, 4e6, 8e6, 12e6]);
      expect(checkRetryDelays(events)).toEqual([]);
    });

    it('catches a delay off by 1 µs, a wrong retryAt and a wrong retry number', () => {
      const events = copyEvents(run());
      const failed = events.filter((e) => e.type === 'AttemptFailed');
      failed[1]!.delayUs += 1;
      failed[2]!.retryAt += 1;
      failed[3]!.retry = 3;
      const v = checkRetryDelays(events);
      expect(v.map((x) => x.index)).toEqual([events.indexOf(failed[1]!), events.indexOf(failed[1]!), events.indexOf(failed[2]!), events.indexOf(failed[3]!)]);
    });

    it('catches a task whose own retry options were ignored (S15: they replace the queue\'s)', () => {
      const events = copyEvents(run());
      const added = events.find((e) => e.type === 'TaskAdded')!;
      if (added.type !== 'TaskAdded') throw new Error('unreachable');
      added.options = { ...added.options, retry: { task_retry_limit: 5, task_age_limit_seconds: null, min_backoff_seconds: 2, max_backoff_seconds: 3600, max_doublings: 16 } };
      expect(checkRetryDelays(events).length).toBe(5);
    });
  });
});
