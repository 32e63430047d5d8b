/**
 * Law (reference §2.2, S12–S14): after each failed attempt, with n = attempts so far and age =
 * time since the first attempt, the task is retried iff
 *   both limits set:   task_retry_limit ≥ n  OR  task_age_limit ≥ age   (give up only when BOTH are exceeded)
 *   only retry limit:  task_retry_limit ≥ n
 *   only age limit:    task_age_limit ≥ age
 *   neither:           always
 * and otherwise gives up (TaskGaveUp). A 2xx answer is a success, anything else a failure (S7).
 * `retriedBySpec` below is this spec's own implementation; the kit's checker is tested too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetryParameters } from '../src/config/types.js';
import type { EngineEvent } from '../src/core/events.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { checkGiveUp } from '../src/testing/invariants.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS, copyEvents, expectLawHolds } from './helpers/laws.js';

const DAY_S = 86_400;

function retriedBySpec(p: RetryParameters, n: number, ageUs: number): boolean {
  const limits: boolean[] = [];
  if (p.task_retry_limit !== null) limits.push(p.task_retry_limit >= n);
  if (p.task_age_limit_seconds !== null) limits.push(p.task_age_limit_seconds * 1e6 >= ageUs);
  return limits.length === 0 || limits.some(Boolean);
}

/** Each settled failure with the verdict the spec expects and the one the engine logged. */
function verdicts(events: readonly EngineEvent[]): { expected: boolean; retried: boolean }[] {
  let queues = new Map<string, RetryParameters>();
  const tasks = new Map<number, { params: RetryParameters | undefined; queue: string; attempts: number; first: number | null }>();
  const out: { expected: boolean; retried: boolean }[] = [];
  for (const e of events) {
    // A queue left out of a reload is disabled but keeps its parameters (its attempts still settle).
    if (e.type === 'ConfigApplied') queues = new Map([...queues, ...e.config.queues.map((q) => [q.name, q.retry_parameters] as const)]);
    if (e.type === 'TaskAdded') tasks.set(e.id, { params: e.options?.retry, queue: e.queue, attempts: 0, first: null });
    if (e.type === 'AttemptDispatched') {
      const t = tasks.get(e.id)!;
      t.attempts++;
      t.first ??= e.t;
    }
    if (e.type === 'AttemptFailed' || e.type === 'TaskGaveUp') {
      const t = tasks.get(e.id)!;
      out.push({ expected: retriedBySpec(t.params ?? queues.get(t.queue)!, t.attempts, e.t - t.first!), retried: e.type === 'AttemptFailed' });
    }
  }
  return out;
}

function alwaysFailing(retry: Partial<RetryParameters>, latencyMs: number, maxSeconds = 30 * DAY_S) {
  const sim = createSimulation({ config: fileConfig(pushQueue('q', 500, { retry })), worker: () => ({ status: 500, latencyMs }) });
  const name = sim.addTask({ queue: 'q' });
  sim.runUntilIdle({ maxSeconds });
  const attempts = sim.events.filter((e) => e.type === 'AttemptDispatched');
  const gaveUp = sim.events.filter((e) => e.type === 'TaskGaveUp');
  return { sim, name, attempts, gaveUp, first: attempts[0]!.t };
}

describe('give-up rule', () => {
  it('every failure is retried or given up exactly as §2.2 says, for generated limits and workers', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 50, errorRateMax: 0.9, timeoutRateMax: 0.1, reloads: true }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        for (const v of verdicts(events)) expect(v.retried).toBe(v.expected);
        expectLawHolds(checkGiveUp(events), events);
      }),
      RUNS,
    );
  });

  it('S12: task_retry_limit N (no age limit) → exactly N+1 attempts, then the task is gone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), (n) => {
        const r = alwaysFailing({ task_retry_limit: n, min_backoff_seconds: 1, max_backoff_seconds: 10 }, 20);
        expect(r.attempts).toHaveLength(n + 1);
        expect(r.gaveUp).toHaveLength(1);
        expect(r.sim.task('q', r.name).state).toBe('failed');
      }),
      { numRuns: 9 },
    );
  });

  it('S13: limit 7 and 2 days, fast backoff: keeps retrying past 7 retries until older than 2 days', () => {
    const r = alwaysFailing({ task_retry_limit: 7, task_age_limit_seconds: 2 * DAY_S, min_backoff_seconds: 0.1, max_backoff_seconds: 3600 }, 100);
    const settled = r.sim.events.filter((e) => e.type === 'AttemptFailed' || e.type === 'TaskGaveUp');
    const last = settled.at(-1)!;
    expect(last.type).toBe('TaskGaveUp');
    expect(r.attempts.length).toBeGreaterThan(8);
    expect(last.t - r.first).toBeGreaterThan(2 * DAY_S * 1e6);
    expect(settled.at(-2)!.t - r.first).toBeLessThanOrEqual(2 * DAY_S * 1e6);
  });

  it('S13: limit 7 and 2 days, 1-day backoff: past 2 days after 3 attempts, but retried until 8 attempts', () => {
    const r = alwaysFailing({ task_retry_limit: 7, task_age_limit_seconds: 2 * DAY_S, min_backoff_seconds: DAY_S, max_backoff_seconds: DAY_S }, 100);
    expect(r.attempts).toHaveLength(8);
    expect(r.gaveUp).toHaveLength(1);
    expect(r.attempts[3]!.t - r.first).toBeGreaterThan(2 * DAY_S * 1e6);
  });

  it('S14: only an age limit: a failure at age = limit is retried, the next one (age > limit) gives up', () => {
    // Attempt 1 at 0 fails at age 10 s exactly (latency 10 s); attempt 2 fails later.
    const r = alwaysFailing({ task_age_limit_seconds: 10, min_backoff_seconds: 1, max_backoff_seconds: 1 }, 10_000);
    const settled = r.sim.events.filter((e) => e.type === 'AttemptFailed' || e.type === 'TaskGaveUp');
    expect(settled.map((e) => [e.type, e.t])).toEqual([
      ['AttemptFailed', 10_000_000],
      ['TaskGaveUp', 21_000_000],
    ]);
  });

  it('neither limit: a task that always fails is never given up', () => {
    const r = alwaysFailing({ min_backoff_seconds: 1, max_backoff_seconds: 60 }, 50, 2 * DAY_S);
    expect(r.gaveUp).toHaveLength(0);
    expect(r.attempts.length).toBeGreaterThan(2 * DAY_S / 60 - 10);
    expect(r.sim.task('q', r.name).state).not.toBe('failed');
  });

  it('S7, S11: an answer succeeds exactly when its status is 2xx: every status from 100 to 599, one task each', () => {
    // One attempt per task (retry limit 0), task id i answered with status 100 + i: each boundary (199, 200, 299, 300) included.
    const statuses = Array.from({ length: 500 }, (_, i) => 100 + i);
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 500, { bucket_size: 500, retry: { task_retry_limit: 0 } })),
      worker: ({ request }) => ({ status: statuses[request.id]!, latencyMs: 1 }),
    });
    for (let i = 0; i < statuses.length; i += 100) sim.addTasks(statuses.slice(i, i + 100).map(() => ({ queue: 'q' }))); // batches hold ≤ 100
    sim.runUntilIdle();
    const settled = sim.events.filter((e) => e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp');
    expect(settled).toHaveLength(statuses.length);
    const succeeded = (s: number) => s >= 200 && s <= 299;
    for (const e of settled) expect([e.status, e.type]).toEqual([statuses[e.id], succeeded(statuses[e.id]!) ? 'AttemptSucceeded' : 'TaskGaveUp']);
  });

  describe('the checker can fail', () => {
    it('catches a give-up that should have been a retry, and a retry that should have given up', () => {
      const r = alwaysFailing({ task_retry_limit: 2, min_backoff_seconds: 1, max_backoff_seconds: 1 }, 10);
      expect(checkGiveUp(r.sim.events)).toEqual([]);
      const events = copyEvents(r.sim.events);
      const i = events.findIndex((e) => e.type === 'AttemptFailed');
      const j = events.findIndex((e) => e.type === 'TaskGaveUp');
      const failed = events[i]!;
      if (failed.type !== 'AttemptFailed') throw new Error('unreachable');
      events[i] = { type: 'TaskGaveUp', t: failed.t, id: failed.id, status: failed.status, reason: failed.reason, latencyUs: failed.latencyUs };
      events[j] = { ...failed, t: events[j]!.t };
      expect(checkGiveUp(events).map((v) => v.index)).toEqual([i, j]);
    });

    it('catches a 2xx answer logged as a failure', () => {
      const r = alwaysFailing({ task_retry_limit: 1, min_backoff_seconds: 1, max_backoff_seconds: 1 }, 10);
      const events = copyEvents(r.sim.events);
      const failed = events.find((e) => e.type === 'AttemptFailed')!;
      if (failed.type !== 'AttemptFailed') throw new Error('unreachable');
      failed.status = 204;
      expect(checkGiveUp(events).map((v) => v.law)).toEqual(['give-up']);
    });
  });
});
