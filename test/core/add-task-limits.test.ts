// Limits on an add (S5, S20, S21, S22, S24): each refusal has its code and changes nothing.
import { describe, expect, it } from 'vitest';
import { checkTaskSpec } from '../../src/core/task-spec.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const DAY_S = 86_400;
const sim = () => createSimulation({ config: fileConfig(pushQueue('q', 5)) });

describe('S20: ETA at most 30 days ahead; a past ETA runs at once', () => {
  it('countdown or ETA past 30 days → INVALID_ETA; exactly 30 days is accepted', () => {
    const s = sim();
    s.runUntil(10);
    expectRefused(s, () => s.addTask({ queue: 'q', countdownSeconds: 30 * DAY_S + 1e-6 }), 'INVALID_ETA');
    expectRefused(s, () => s.addTask({ queue: 'q', etaSeconds: 10 + 30 * DAY_S + 1e-6 }), 'INVALID_ETA');
    s.addTask({ queue: 'q', name: 'edge', countdownSeconds: 30 * DAY_S });
    expect(s.task('q', 'edge').etaSeconds).toBe(10 + 30 * DAY_S);
  });

  it('a past ETA is accepted and dispatched at once, ahead of a task due now', () => {
    const s = sim();
    s.runUntil(100);
    s.pauseQueue('q');
    s.addTask({ queue: 'q', name: 'now' });
    s.addTask({ queue: 'q', name: 'past', etaSeconds: 5 });
    s.resumeQueue('q');
    s.runUntil(101);
    const order = s.events.filter((e) => e.type === 'AttemptDispatched').map((e) => [e.t, e.id]);
    expect(order).toEqual([
      [100_000_000, s.task('q', 'past').id],
      [100_000_000, s.task('q', 'now').id],
    ]);
  });
});

describe('S21: a task larger than 102400 bytes → TASK_TOO_LARGE', () => {
  // size = len(method) + payload + len(url) + Σ(len(k) + len(v) + 4); default URL /_ah/queue/q.
  const fixed = 'POST'.length + '/_ah/queue/q'.length;
  it('102400 bytes is accepted, 102401 refused', () => {
    const s = sim();
    s.addTask({ queue: 'q', bodyBytes: 102_400 - fixed });
    expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 102_401 - fixed }), 'TASK_TOO_LARGE');
  });

  it('headers count too', () => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 102_400 - fixed - 5, headers: { a: 'b' } }), 'TASK_TOO_LARGE');
  });
});

describe('S22: batches', () => {
  it('more than 100 tasks in one call → TOO_MANY_TASKS; 100 is fine', () => {
    const s = sim();
    expectRefused(s, () => s.addTasks(Array.from({ length: 101 }, () => ({ queue: 'q' }))), 'TOO_MANY_TASKS');
    expect(s.addTasks(Array.from({ length: 100 }, () => ({ queue: 'q' })))).toHaveLength(100);
  });

  it('one bad task refuses the whole batch (all-or-nothing)', () => {
    const s = sim();
    const err = expectRefused(s, () => s.addTasks([{ queue: 'q', name: 'ok1' }, { queue: 'q', name: 'ok2' }, { queue: 'q', countdownSeconds: 31 * DAY_S }]), 'INVALID_ETA');
    expect(err.details.index).toBe(2);
  });
});

describe('S24: malformed requests → INVALID_TASK', () => {
  it('countdown and eta together', () => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', countdownSeconds: 1, etaSeconds: 2 }), 'INVALID_TASK');
  });

  it.each(['GET', 'HEAD', 'DELETE'] as const)('a payload on %s', (method) => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', method, body: 'x' }), 'INVALID_TASK');
    expectRefused(s, () => s.addTask({ queue: 'q', method, bodyBytes: 10 }), 'INVALID_TASK');
  });

  it.each(['PATCH', 'OPTIONS', 'BREW'] as const)('a method the Task Queue API does not have: %s', (method) => {
    const s = sim();
    const err = expectRefused(s, () => s.addTask({ queue: 'q', method: method as 'PATCH' }), 'INVALID_TASK');
    expect(err.message).toContain('is not one of GET, POST, HEAD, PUT, DELETE');
  });

  it('Cloud Tasks adds PATCH and OPTIONS, without a body (only POST and PUT carry one in either API)', () => {
    const now = 0;
    expect(checkTaskSpec({ queue: 'q', method: 'PATCH' }, now, 'cloud-tasks').options?.method).toBe('PATCH');
    expect(checkTaskSpec({ queue: 'q', method: 'OPTIONS' }, now, 'cloud-tasks').options?.method).toBe('OPTIONS');
    expect(() => checkTaskSpec({ queue: 'q', method: 'PATCH', body: 'x' }, now, 'cloud-tasks')).toThrow(/a PATCH task cannot carry a payload/);
    expect(checkTaskSpec({ queue: 'q', method: 'PUT', body: 'x' }, now, 'taskqueue').options?.method).toBe('PUT');
  });

  it('a POST URL with a query string (a GET one is fine)', () => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', url: '/work?a=1' }), 'INVALID_TASK');
    s.addTask({ queue: 'q', url: '/work?a=1', method: 'GET' });
  });

  it.each(['/a/../b', '/..', '/a/%2e%2e/b', '/a/.%2E', '/%2E./x?y=1'])('a URL that would leave the target: %s', (url) => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', url }), 'INVALID_URL');
  });

  it.each(['/ok/日本', '/ok?q=\u2028', '/caf\u00e9'])('a URL that is not ASCII: %s', (url) => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', url, method: 'GET' }), 'INVALID_URL');
  });

  it.each([
    ['X-Name', '日本'],
    ['X-Ctl', 'a\u0001b'],
    ['Content-Length', '3'],
    ['transfer-encoding', 'chunked'],
    ['Connection', 'close'],
    ['Keep-Alive', 'timeout=5'],
    ['Upgrade', 'websocket'],
    ['Expect', '100-continue'],
  ])('a header an HTTP client would refuse or must set itself: %s: %s', (name, value) => {
    const s = sim();
    const err = expectRefused(s, () => s.addTask({ queue: 'q', headers: { [name]: value } }), 'INVALID_HEADER');
    expect(err.details.field).toBe(`headers.${name}`);
  });

  it('header values with tabs, spaces and Latin-1 (obs-text) are fine', () => {
    const s = sim();
    s.addTask({ queue: 'q', headers: { 'X-A': 'a\tb c', 'X-B': 'caf\u00e9', 'Content-Type': 'application/json' } });
    expect(s.stats().queues.q!.tasks_added).toBe(1);
  });

  it('dots that are not a .. segment are fine: /a..b, /.well-known, /a/./b, ?up=..', () => {
    const s = sim();
    for (const url of ['/a..b', '/.well-known/x', '/a/./b', '/...', '/x?up=../..']) s.addTask({ queue: 'q', url, method: 'GET' });
    expect(s.stats().queues.q!.tasks_added).toBe(5);
  });
});

describe('S5: total_storage_limit', () => {
  it('a workload lives with refusals: the batch is retried task by task, refused adds are counted, the run goes on', () => {
    const config = { ...fileConfig(pushQueue('q', 5)), total_storage_limit_bytes: 1024 };
    const s = createSimulation({ config });
    s.pauseQueue('q');
    s.addWorkload({ queue: 'q', count: 3, namePrefix: 'job-', task: { bodyBytes: 100 } });
    s.addWorkload({ queue: 'q', count: 20, namePrefix: 'job-', atSeconds: 1, task: { bodyBytes: 100 } }); // job-0..2 are taken
    s.runUntil(2);
    // 116 bytes a task: 8 fit in 1 KiB; job-0..2 are live, so 5 more of job-3..19 fit.
    expect(s.stats().queues.q!.tasks_added).toBe(8);
    expect(s.stats().adds_refused).toEqual({ q: { TASK_ALREADY_EXISTS: 3, STORAGE_LIMIT_EXCEEDED: 12 } });
    expect(s.events.filter((e) => e.type === 'TaskAdded')).toHaveLength(8);
  });

  it('an add that would pass the limit → STORAGE_LIMIT_EXCEEDED; finished tasks free their bytes', () => {
    const config = { ...fileConfig(pushQueue('q', 5)), total_storage_limit_bytes: 1024 };
    const s = createSimulation({ config });
    const each = 'POST'.length + '/_ah/queue/q'.length + 100; // 116 bytes
    s.pauseQueue('q');
    s.addTasks(Array.from({ length: 8 }, () => ({ queue: 'q', bodyBytes: 100 }))); // 928 bytes
    expect(s.state.storageBytes).toBe(8 * each);
    expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 100 }), 'STORAGE_LIMIT_EXCEEDED');
    s.addTask({ queue: 'q', bodyBytes: 1024 - 8 * each - 16 }); // exactly full
    s.resumeQueue('q');
    s.runUntilIdle();
    expect(s.state.storageBytes).toBe(0);
    s.addTask({ queue: 'q', bodyBytes: 100 });
  });
});
