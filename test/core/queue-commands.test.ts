// Operator commands (S28, S31, S32, force-run): what they accept, refuse and change.
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const dispatches = (s: ReturnType<typeof createSimulation>) => s.events.filter((e) => e.type === 'AttemptDispatched');

describe('S28: rate 0 or paused', () => {
  it('a paused queue accepts adds, dispatches nothing, and resuming runs the kept tasks', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    s.pauseQueue('q');
    s.addTasks([{ queue: 'q' }, { queue: 'q' }]);
    s.runUntil(3600);
    expect(dispatches(s)).toHaveLength(0);
    expect(s.queue('q').state).toBe('paused');
    s.resumeQueue('q');
    s.runUntilIdle();
    expect(dispatches(s).map((e) => e.t)).toEqual([3_600_000_000, 3_600_000_000]);
    expect(s.queue('q').tasks.succeeded).toBe(2);
  });

  it('a rate-0 queue accepts adds and dispatches nothing; a config with rate > 0 restarts it', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('z', 0)) });
    s.addTask({ queue: 'z' });
    s.runUntil(3600);
    expect(dispatches(s)).toHaveLength(0);
    s.kernel.applyConfig(fileConfig(pushQueue('z', 5)), s.state.settings);
    s.runUntilIdle();
    expect(dispatches(s).map((e) => e.t)).toEqual([3_600_000_000]);
  });

  it('resuming a queue its configuration gives rate 0 → QUEUE_NOT_RESUMABLE (also when removed: DISABLED with rate 0); pause and resume of the others work', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('z', 0), pushQueue('gone0', 0), pushQueue('q', 5)) });
    s.kernel.applyConfig(fileConfig(pushQueue('z', 0), pushQueue('q', 5)), s.state.settings);
    s.addTask({ queue: 'z' });
    expect(s.queue('gone0').state).toBe('disabled');
    expectRefused(s, () => s.resumeQueue('z'), 'QUEUE_NOT_RESUMABLE');
    expectRefused(s, () => s.resumeQueue('gone0'), 'QUEUE_NOT_RESUMABLE');
    expect(s.queue('z').state).toBe('paused');
    expect(s.queue('gone0').state).toBe('disabled');
    s.pauseQueue('q');
    expect(s.queue('q').state).toBe('paused');
    s.resumeQueue('q');
    expect(s.queue('q').state).toBe('running');
    s.runUntil(60);
    expect(dispatches(s)).toHaveLength(0);
  });

  it('pause/resume of an unknown queue → UNKNOWN_QUEUE', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    expectRefused(s, () => s.pauseQueue('nope'), 'UNKNOWN_QUEUE');
    expectRefused(s, () => s.resumeQueue('nope'), 'UNKNOWN_QUEUE');
  });
});

describe('S29: a queue removed from queue.yaml, then declared again', () => {
  it('is DISABLED keeping its tasks; a later reload declaring it runs it again and its kept tasks dispatch', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5), pushQueue('gone', 5)) });
    s.addTasks([{ queue: 'gone', name: 'a', countdownSeconds: 5 }, { queue: 'gone', name: 'b', countdownSeconds: 10 }]);
    s.runUntil(1); // both wait for their ETA when the reload removes the queue
    s.kernel.applyConfig(fileConfig(pushQueue('q', 5)), s.state.settings);
    s.runUntil(3600);
    expect(s.queue('gone').state).toBe('disabled');
    expect(s.queue('gone').tasks.pending).toBe(2);
    expect(dispatches(s)).toHaveLength(0);
    s.kernel.applyConfig(fileConfig(pushQueue('q', 5), pushQueue('gone', 5)), s.state.settings);
    expect(s.queue('gone').state).toBe('running');
    s.runUntilIdle();
    expect(dispatches(s).map((e) => e.t)).toEqual([3_600_000_000, 3_600_000_000]);
    expect(s.queue('gone').tasks.succeeded).toBe(2);
  });

  it('ResumeQueue on it (DISABLED, paused before or not) runs it under its last configuration, as Cloud Tasks resumes a DISABLED queue; a reload still without it disables it again', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5), pushQueue('gone', 5)) });
    s.pauseQueue('gone');
    s.addTasks([{ queue: 'gone', name: 'a' }, { queue: 'gone', name: 'b', countdownSeconds: 7200 }]);
    s.kernel.applyConfig(fileConfig(pushQueue('q', 5)), s.state.settings);
    s.runUntil(3600);
    expect(s.queue('gone').state).toBe('disabled');
    expect(dispatches(s)).toHaveLength(0);
    s.resumeQueue('gone');
    expect(s.queue('gone').state).toBe('running');
    s.runUntil(3601);
    expect(dispatches(s).map((e) => e.t)).toEqual([3_600_000_000]);
    s.kernel.applyConfig(fileConfig(pushQueue('q', 5)), s.state.settings);
    expect(s.queue('gone').state).toBe('disabled');
    s.runUntil(3 * 3600);
    expect(dispatches(s)).toHaveLength(1); // b's ETA passed while disabled again
    expect(s.queue('gone').tasks.pending).toBe(1);
  });
});

describe('S32: purge', () => {
  it('deletes tasks added up to the purge; in-flight attempts finish (orphaned); later adds survive', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 1, { bucket_size: 1 })), worker: { latency: { distribution: 'constant', valueUs: 2_000_000 } } });
    s.addTasks([{ queue: 'q', name: 'a' }, { queue: 'q', name: 'b' }, { queue: 'q', name: 'c', countdownSeconds: 50 }]);
    s.runUntil(0.5); // a is in flight (2 s), b waits for a token (1/s), c for its ETA
    s.purgeQueue('q');
    s.runUntil(0.75);
    s.addTask({ queue: 'q', name: 'late' });
    s.runUntilIdle();
    expect(['a', 'b', 'c'].map((n) => s.task('q', n).state)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(s.task('q', 'late').state).toBe('succeeded');
    expect(s.events.filter((e) => e.type === 'AttemptOrphaned').map((e) => e.id)).toEqual([s.task('q', 'a').id]);
    expect(s.queue('q').inFlight).toBe(0);
  });

  it('purged names are tombstoned', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    s.addTask({ queue: 'q', name: 'a', countdownSeconds: 10 });
    s.purgeQueue('q');
    expectRefused(s, () => s.addTask({ queue: 'q', name: 'a' }), 'TOMBSTONED_TASK');
  });
});

describe('S31: delete', () => {
  it('an unknown name → UNKNOWN_TASK; a deleted (tombstoned) one → TOMBSTONED_TASK', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    expectRefused(s, () => s.deleteTask('q', 'ghost'), 'UNKNOWN_TASK');
    s.addTask({ queue: 'q', name: 'a', countdownSeconds: 10 });
    s.deleteTask('q', 'a');
    expectRefused(s, () => s.deleteTask('q', 'a'), 'TOMBSTONED_TASK');
    s.runUntilIdle();
    expect(dispatches(s)).toHaveLength(0);
  });

  it('after the tombstone period, the name is unknown again', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)), tombstoneSeconds: 10 });
    s.addTask({ queue: 'q', name: 'a', countdownSeconds: 100 });
    s.deleteTask('q', 'a');
    s.runUntil(11);
    expectRefused(s, () => s.deleteTask('q', 'a'), 'UNKNOWN_TASK');
  });
});

describe('force-run (RunTask)', () => {
  it('ignores pause, rate 0, an empty bucket and the ETA, and takes no token', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('p', 1, { bucket_size: 1 }), pushQueue('z', 0)) });
    s.pauseQueue('p');
    s.addTask({ queue: 'p', name: 'a', countdownSeconds: 1000 });
    s.addTask({ queue: 'z', name: 'b', countdownSeconds: 1000 });
    s.runTask('p', 'a');
    s.runTask('z', 'b');
    expect(dispatches(s).map((e) => [e.t, e.forced])).toEqual([
      [0, true],
      [0, true],
    ]);
    expect(s.queue('p').tokens).toBe(1);
    s.runUntilIdle();
    expect([s.task('p', 'a').state, s.task('z', 'b').state]).toEqual(['succeeded', 'succeeded']);
  });

  it('a task already in flight → TASK_NOT_RUNNABLE; an ended one → TOMBSTONED_TASK', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)), worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } } });
    s.addTask({ queue: 'q', name: 'a' });
    expectRefused(s, () => s.runTask('q', 'a'), 'TASK_NOT_RUNNABLE');
    s.runUntilIdle();
    expectRefused(s, () => s.runTask('q', 'a'), 'TOMBSTONED_TASK');
  });
});

describe('resume_paused_queues: false (gcloud: a deploy leaves PAUSED and DISABLED queues as they are)', () => {
  const keeping = (config: ReturnType<typeof fileConfig>) => ({ ...config, resume_paused_queues: false });

  it('a reload keeps a paused queue paused and a disabled one disabled; rate 0 still pauses; a reload without it resumes both', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('p', 5), pushQueue('gone', 5), pushQueue('r', 5)) });
    s.kernel.applyConfig(fileConfig(pushQueue('p', 5), pushQueue('r', 5)), s.state.settings);
    s.pauseQueue('p');
    expect(s.queue('gone').state).toBe('disabled');
    s.addTasks([{ queue: 'p' }, { queue: 'gone' }]);

    s.kernel.applyConfig(keeping(fileConfig(pushQueue('p', 10), pushQueue('gone', 5), pushQueue('r', 0))), s.state.settings);
    expect([s.queue('p').state, s.queue('gone').state, s.queue('r').state]).toEqual(['paused', 'disabled', 'paused']);
    s.runUntil(60);
    expect(dispatches(s)).toHaveLength(0);

    s.kernel.applyConfig(fileConfig(pushQueue('p', 10), pushQueue('gone', 5), pushQueue('r', 5)), s.state.settings);
    expect([s.queue('p').state, s.queue('gone').state, s.queue('r').state]).toEqual(['running', 'running', 'running']);
    s.runUntilIdle();
    expect(dispatches(s)).toHaveLength(2);
  });

  it('a queue new in the file runs at once, and a running queue keeps running', () => {
    const s = createSimulation({ config: keeping(fileConfig(pushQueue('r', 5))) });
    s.kernel.applyConfig(keeping(fileConfig(pushQueue('r', 5), pushQueue('fresh', 5))), s.state.settings);
    expect([s.queue('r').state, s.queue('fresh').state]).toEqual(['running', 'running']);
  });
});
