// S15: per-task retry options replace the queue's as a whole (unset fields take the system
// defaults, not the queue's). S16: the counts a worker sees on each attempt.
import { describe, expect, it } from 'vitest';
import type { AttemptRequest } from '../../src/core/attempt.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

describe('S15: per-task retry options', () => {
  it('replace the queue parameters as a whole', () => {
    // The queue would give up after one attempt and back off 10 s; the task sets only min 1 s.
    const s = createSimulation({ config: fileConfig(pushQueue('q', 50, { retry: { task_retry_limit: 0, min_backoff_seconds: 10, max_doublings: 0 } })), worker: () => ({ status: 500, latencyMs: 1 }) });
    s.addTask({ queue: 'q', name: 'own', retry: { min_backoff_seconds: 1 } });
    s.addTask({ queue: 'q', name: 'queue-rules' });
    s.runUntil(20);
    const delays = (name: string) => s.events.filter((e) => e.type === 'AttemptFailed' && e.id === s.task('q', name).id).map((e) => (e.type === 'AttemptFailed' ? e.delayUs / 1e6 : 0));
    expect(delays('own').slice(0, 4)).toEqual([1, 2, 4, 8]); // default doublings 16, no retry limit
    expect(s.task('q', 'queue-rules').state).toBe('failed');
    expect(s.task('q', 'queue-rules')).toMatchObject({ dispatchCount: 1, responseCount: 1, retryCount: 0 });
  });

  it("a task's counts as App Engine and Cloud Tasks count them: the first attempt is no retry", () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 50)), worker: ({ request }) => ({ status: request.url === '/flaky' && request.retryCount < 2 ? 503 : 200, latencyMs: 1000 }) });
    s.addTask({ queue: 'q', name: 'ok' });
    s.addTask({ queue: 'q', name: 'flaky', url: '/flaky' });
    s.runUntil(0.5);
    expect(s.task('q', 'ok')).toMatchObject({ state: 'dispatching', dispatchCount: 1, responseCount: 0, retryCount: 0, previousStatus: null });
    s.runUntilIdle();
    expect(s.task('q', 'ok')).toMatchObject({ state: 'succeeded', dispatchCount: 1, responseCount: 1, retryCount: 0, previousStatus: 200 });
    expect(s.task('q', 'flaky')).toMatchObject({ state: 'succeeded', dispatchCount: 3, responseCount: 3, retryCount: 2, previousStatus: 200 });
    expect(s.taskSnapshot('q', 'flaky').context).toMatchObject({ dispatchCount: 3, responseCount: 3 });
  });

  it('invalid options → INVALID_RETRY_OPTIONS, nothing added', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    expectRefused(s, () => s.addTask({ queue: 'q', retry: { min_backoff_seconds: 10, max_backoff_seconds: 5 } }), 'INVALID_RETRY_OPTIONS');
    expectRefused(s, () => s.addTask({ queue: 'q', retry: { task_retry_limit: -1 } }), 'INVALID_RETRY_OPTIONS');
    expectRefused(s, () => s.addTask({ queue: 'q', retry: { task_age_limit_seconds: 0 } }), 'INVALID_RETRY_OPTIONS');
  });
});

describe('S16: retry and execution counts seen by the worker', () => {
  it('RetryCount counts every earlier attempt; ExecutionCount only those that got an answer', () => {
    const answers = [null, 500, null, 503, 200];
    const seen: Pick<AttemptRequest, 'retryCount' | 'executionCount' | 'previousStatus'>[] = [];
    const s = createSimulation({
      config: fileConfig(pushQueue('q', 5, { retry: { min_backoff_seconds: 1 } })),
      worker: ({ request }) => {
        seen.push({ retryCount: request.retryCount, executionCount: request.executionCount, previousStatus: request.previousStatus });
        return { status: request.retryCount < answers.length ? answers[request.retryCount]! : 200, latencyMs: 5 };
      },
    });
    s.addTask({ queue: 'q' });
    s.runUntilIdle();
    expect(seen).toEqual([
      { retryCount: 0, executionCount: 0, previousStatus: null },
      { retryCount: 1, executionCount: 0, previousStatus: null },
      { retryCount: 2, executionCount: 1, previousStatus: 500 },
      { retryCount: 3, executionCount: 1, previousStatus: 500 },
      { retryCount: 4, executionCount: 2, previousStatus: 503 },
    ]);
  });
});
