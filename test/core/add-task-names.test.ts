// Task names when adding (S2, S19, S22): the pattern, duplicates, tombstones and their expiry.
import { describe, expect, it } from 'vitest';
import { generatedNameId, generatedTaskName } from '../../src/core/names.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const DAY_S = 86_400;
const sim = (options: { tombstoneSeconds?: number; status?: number } = {}) =>
  createSimulation({ config: fileConfig(pushQueue('q', 5, { retry: { task_retry_limit: 0 } })), worker: () => ({ status: options.status ?? 200, latencyMs: 10 }), ...(options.tombstoneSeconds === undefined ? {} : { tombstoneSeconds: options.tombstoneSeconds }) });

describe('S2: task names must match [A-Za-z0-9_-]{1,500}', () => {
  it.each(['', 'a b', 'dot.name', 'ünï', 'slash/x', 'x'.repeat(501)])('refuses %j with INVALID_TASK_NAME', (name) => {
    const s = sim();
    expectRefused(s, () => s.addTask({ queue: 'q', name }), 'INVALID_TASK_NAME');
  });

  it('accepts the edges of the pattern', () => {
    const s = sim();
    expect(s.addTasks([{ queue: 'q', name: 'x'.repeat(500) }, { queue: 'q', name: 'A_z-0' }, { queue: 'q', name: '_' }])).toEqual(['x'.repeat(500), 'A_z-0', '_']);
  });
});

describe('S19: duplicates and tombstones', () => {
  it('a name that is still queued → TASK_ALREADY_EXISTS', () => {
    const s = sim();
    s.addTask({ queue: 'q', name: 'job', countdownSeconds: 60 });
    expectRefused(s, () => s.addTask({ queue: 'q', name: 'job' }), 'TASK_ALREADY_EXISTS');
  });

  it('the same name in another queue is a different task', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5), pushQueue('r', 5)) });
    s.addTask({ queue: 'q', name: 'job' });
    expect(s.addTask({ queue: 'r', name: 'job' })).toBe('job');
  });

  it.each([
    ['executed', 200, false],
    ['failed out', 500, false],
    ['deleted', 200, true],
  ] as const)('a name %s within 9 days → TOMBSTONED_TASK; at 9 days it is reusable', (_what, status, del) => {
    const s = sim({ status });
    s.addTask({ queue: 'q', name: 'job', countdownSeconds: del ? 100 : 0 });
    if (del) s.deleteTask('q', 'job');
    s.runUntil(1);
    const ended = s.task('q', 'job');
    expect(ended.state).toBe(del ? 'deleted' : status === 200 ? 'succeeded' : 'failed');
    const endedAt = ended.endedAtSeconds!;
    s.runUntil(endedAt + 9 * DAY_S - 1e-6);
    expectRefused(s, () => s.addTask({ queue: 'q', name: 'job' }), 'TOMBSTONED_TASK');
    s.runUntil(endedAt + 9 * DAY_S);
    expect(s.addTask({ queue: 'q', name: 'job' })).toBe('job');
  });

  it('the tombstone period is configurable (tombstoneSeconds)', () => {
    const s = sim({ tombstoneSeconds: 60 });
    s.addTask({ queue: 'q', name: 'job' });
    s.runUntil(30);
    expectRefused(s, () => s.addTask({ queue: 'q', name: 'job' }), 'TOMBSTONED_TASK');
    // The simulation's message says when, in seconds of its clock (the task ended at 0.05 s: latency).
    expect(() => s.addTask({ queue: 'q', name: 'job' })).toThrow(/reserved until \d+(\.\d+)? s$/);
    s.runUntil(61);
    expect(s.addTask({ queue: 'q', name: 'job' })).toBe('job');
  });
});

describe('S22: duplicate names inside one batch', () => {
  it('→ DUPLICATE_TASK_NAME, and none of the batch is added', () => {
    const s = sim();
    s.addTask({ queue: 'q', name: 'before' });
    const err = expectRefused(s, () => s.addTasks([{ queue: 'q', name: 'a' }, { queue: 'q', name: 'b' }, { queue: 'q', name: 'a' }]), 'DUPLICATE_TASK_NAME');
    expect(err.details.index).toBe(2);
    expect(() => s.task('q', 'b')).toThrow();
  });

  it('the duplicate is refused before anything else of the batch is checked (the SDK refuses it before sending)', () => {
    const s = sim();
    s.addTask({ queue: 'q', name: 'exists' });
    // A live name, an unknown queue, a bad ETA: each ahead of the duplicate, none reported first.
    for (const ahead of [{ queue: 'q', name: 'exists' }, { queue: 'nowhere' }, { queue: 'q', etaUs: -1 }]) {
      const err = expectRefused(s, () => s.addTasks([{ queue: 'q', name: 'a' }, ahead, { queue: 'q', name: 'a' }]), 'DUPLICATE_TASK_NAME');
      expect(err.details.index).toBe(2);
    }
    // The same name in two queues is no duplicate; with no queue, a name is the default queue's.
    expect(s.addTasks([{ queue: 'q', name: 'x' }, { queue: 'default', name: 'x' }])).toHaveLength(2);
    expectRefused(s, () => s.addTasks([{ name: 'y' }, { queue: 'default', name: 'y' }]), 'DUPLICATE_TASK_NAME');
  });
});

describe('generated names: only the canonical task<N> names the unnamed task N', () => {
  it('generatedNameId reads back exactly what generatedTaskName writes; leading zeros and ids past 2^53 are not generated', () => {
    for (const id of [0, 1, 9, 10, 151, Number.MAX_SAFE_INTEGER]) expect(generatedNameId(generatedTaskName(id))).toBe(id);
    for (const name of ['task', 'task00', 'task01', 'task000151', 'task1-1', 'Task1', 'task+1', 'task1e3', 'task 1', `task${Number.MAX_SAFE_INTEGER + 2}`]) expect(generatedNameId(name), name).toBe(-1);
  });

  it('task(), deleteTask() and addTask() treat task01 / task001 as explicit names, apart from task1', () => {
    const s = sim();
    expect(s.addTasks([{ queue: 'q', countdownSeconds: 60 }, { queue: 'q', countdownSeconds: 60 }])).toEqual(['task0', 'task1']);
    expectRefused(s, () => s.task('q', 'task01'), 'UNKNOWN_TASK');
    expectRefused(s, () => s.deleteTask('q', 'task001'), 'UNKNOWN_TASK');
    expectRefused(s, () => s.addTask({ queue: 'q', name: 'task1' }), 'TASK_ALREADY_EXISTS');
    expect(s.addTask({ queue: 'q', name: 'task01' })).toBe('task01');
    expect(s.task('q', 'task01').id).toBe(2);
    s.deleteTask('q', 'task01');
    expect(s.task('q', 'task1').state).toBe('pending');
  });

  it('an ended named task is not found by its id\'s generated form', () => {
    const s = sim();
    s.addTask({ queue: 'q', name: 'job' });
    s.runUntil(5);
    expect(s.task('q', 'job').state).toBe('succeeded');
    expectRefused(s, () => s.task('q', 'task0'), 'UNKNOWN_TASK');
  });

  it('a generated name that a chosen name holds becomes task<N>-<k> (docs/serve.md, generated names)', () => {
    const s = sim();
    expect(s.addTask({ queue: 'q', name: 'task2', countdownSeconds: 60 })).toBe('task2');
    expect(s.addTasks([{ queue: 'q', countdownSeconds: 60 }, { queue: 'q', countdownSeconds: 60 }, { queue: 'q', countdownSeconds: 60 }])).toEqual(['task1', 'task2-1', 'task3']);
    expect(s.task('q', 'task2-1').id).toBe(2);
    expect(s.task('q', 'task2').id).toBe(0);
    // k is the smallest not held.
    expect(s.addTasks([{ queue: 'q', name: 'task6', countdownSeconds: 60 }, { queue: 'q', name: 'task6-1', countdownSeconds: 60 }, { queue: 'q', countdownSeconds: 60 }])).toEqual(['task6', 'task6-1', 'task6-2']);
  });
});
