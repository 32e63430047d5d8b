/**
 * The order of one step, as docs/architecture.md ("One step") writes it down: every event of the
 * step is applied and appended, then the effects run in the order they arose (a dispatch reaches
 * the transport), then the batch is committed. And in `pushq serve`: a request reaches the worker
 * before its batch is fsynced, while a CreateTask is acknowledged only after the fsync.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptRequest } from '../../src/core/attempt.js';
import { Effects } from '../../src/core/effects.js';
import type { EngineEvent } from '../../src/core/events.js';
import { DEFAULT_SETTINGS, createEngineState } from '../../src/core/state.js';
import { step } from '../../src/core/step.js';
import { Kernel } from '../../src/engine/kernel.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { startWorker, type Worker } from '../helpers/worker.js';

const header = (clock: 'virtual' | 'wall') => ({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 1, clock, configHash: '' }) as const;

/** A log that records what the kernel does to it, in order, into `trace`. */
function tracingLog(trace: string[], clock: 'virtual' | 'wall'): EventLog & { releaseFlush?: () => void } {
  const inner = new MemoryEventLog(header(clock));
  return {
    header: inner.header,
    append(e: EngineEvent) {
      trace.push(`append ${e.type}${'id' in e ? ` ${e.id}` : ''}`);
      inner.append(e);
    },
    commit() {
      trace.push('commit');
      inner.commit();
    },
    flush: () => Promise.resolve(),
    close: () => inner.close(),
  };
}

describe('one step of the kernel', () => {
  it('applies and appends every event, then performs the effects in order, then commits', () => {
    const trace: string[] = [];
    const sent: AttemptRequest[] = [];
    const kernel = new Kernel({
      state: createEngineState(),
      log: tracingLog(trace, 'virtual'),
      now: 0,
      transport: {
        admit: null,
        dispatch(request) {
          trace.push(`dispatch ${request.id}`);
          sent.push({ ...request });
        },
      },
    });
    kernel.applyConfig(fileConfig(pushQueue('q', 1, { bucket_size: 2 })), DEFAULT_SETTINGS);
    trace.length = 0;
    kernel.addTasks([{ queue: 'q' }, { queue: 'q' }, { queue: 'q' }]);
    expect(trace).toEqual([
      'append TaskAdded 0',
      'append TaskAdded 1',
      'append TaskAdded 2',
      'append AttemptDispatched 0',
      'append AttemptDispatched 1',
      'dispatch 0',
      'dispatch 1',
      'commit',
    ]);
    // The request is read off the state after the step: the first attempt of each task.
    expect(sent.map((r) => [r.id, r.retryCount, r.dispatchedAt])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
    ]);
    // The third task waits for a token: a wake timer at the next token (1/s), not a dispatch.
    expect(kernel.nextTimerAt()).toBe(1_000_000);
  });

  it('the step itself is pure: its effects are data, in the order they arose', () => {
    const state = createEngineState();
    const applied: string[] = [];
    const effects = new Effects();
    const ctx = { apply: (e: EngineEvent) => (applied.push(e.type), void evolveInto(state, e)), admit: null, effects };
    step(state, { type: 'apply-config', config: fileConfig(pushQueue('q', 1, { bucket_size: 1 })), settings: DEFAULT_SETTINGS }, 0, ctx);
    effects.clear();
    step(state, { type: 'add-tasks', specs: [{ queue: 'q' }, { queue: 'q' }] }, 0, ctx);
    expect(applied).toEqual(['ConfigApplied', 'TaskAdded', 'TaskAdded', 'AttemptDispatched']);
    expect(effects.toArray()).toEqual([
      { type: 'Dispatch', attempt: { type: 'AttemptDispatched', t: 0, id: 0 } },
      { type: 'WakeQueue', queue: 1, at: 1_000_000 }, // queue 0 is `default`
    ]);
  });

  it('a transport that refuses room leaves the task pending: no event, no dispatch, no wake', () => {
    const state = createEngineState();
    const effects = new Effects();
    const applied: string[] = [];
    let asked = 0;
    const ctx = { apply: (e: EngineEvent) => (applied.push(e.type), void evolveInto(state, e)), admit: () => (asked++, false), effects };
    step(state, { type: 'apply-config', config: fileConfig(pushQueue('q', 10)), settings: DEFAULT_SETTINGS }, 0, ctx);
    effects.clear();
    applied.length = 0;
    step(state, { type: 'add-tasks', specs: [{ queue: 'q' }] }, 0, ctx);
    expect(asked).toBe(1);
    expect(applied).toEqual(['TaskAdded']);
    expect(effects.length).toBe(0);
  });
});

// evolve, imported under a name that says what the test's apply does with it.
import { evolve as evolveInto } from '../../src/core/state.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

describe('pushq serve: a dispatch goes out before its batch is fsynced; an ack waits for the fsync', () => {
  let service: PushqService | undefined;
  let worker: Worker | undefined;
  let releaseFlushes = (): void => undefined;
  afterEach(async () => {
    releaseFlushes();
    await service?.close(100);
    await worker?.close();
  });

  it('the worker receives the task while the flush that makes it durable is still pending, and the client is answered only after it', async () => {
    worker = await startWorker(() => 200);
    const trace: string[] = [];
    const log = tracingLog(trace, 'wall');
    let holdFlushes = false;
    const held: (() => void)[] = [];
    log.flush = () => (holdFlushes ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve());
    service = await PushqService.start({ config: fileConfig(pushQueue('q', 100)), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
    holdFlushes = true;
    // Released however the test ends: close() waits for the log's flush, and a flush held for ever
    // would hang it, leaving the service and its worker running in the process the next test files
    // share (vitest.config.ts, isolate: false).
    releaseFlushes = () => {
      holdFlushes = false;
      for (const release of held.splice(0)) release();
    };
    let answered = false;
    const created = fetch(`${service.url}/v2/projects/p/locations/l/queues/q/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { name: 'projects/p/locations/l/queues/q/tasks/t1', appEngineHttpRequest: { relativeUri: '/work' } } }),
    }).then((r) => {
      answered = true;
      return r.status;
    });
    await worker.waitFor((r) => r.length === 1, EVENT_BOUND_MS, 'the dispatch');
    // Sent: its AttemptDispatched was appended and committed, but the flush (fsync) has not finished.
    expect(trace.indexOf('append AttemptDispatched 0')).toBeGreaterThanOrEqual(0);
    expect(trace.indexOf('append AttemptDispatched 0')).toBeLessThan(trace.lastIndexOf('commit'));
    expect(held.length).toBeGreaterThan(0);
    expect(answered).toBe(false);
    releaseFlushes();
    expect(await created).toBe(200);
  });
});
