/**
 * `GET /pushq/queues/Q/tasks/T/story` in-process (PushqService, a real worker and a real HTTP
 * server on loopback), on both kinds of log the service runs on: the memory log (`--memory`) and
 * the durable file log of a data directory. A task that retried tells each attempt with the counts
 * its worker saw and each backoff with the formula's inputs; a given-up task its limits; a deleted
 * one how it ended; an unknown one is NOT_FOUND; and reading stories appends nothing to the log.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { configHash } from '../../src/simulate/simulation.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog } from '../../src/log/event-log.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { EVENT_LOG_FILE, openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const config = requireValidConfig(
  parseQueueConfig(
    `
queue:
- name: retried
  rate: 50/s
  retry_parameters:
    min_backoff_seconds: 0.1
- name: doomed
  rate: 50/s
  retry_parameters:
    task_retry_limit: 1
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.1
`,
    { file: 'queue.yaml' },
  ),
);

type LogKind = 'memory' | 'file';

describe.each<LogKind>(['memory', 'file'])('task story on a %s log', (kind) => {
  let worker: Worker;
  let service: PushqService;
  let log: EventLog;
  let dir: string | undefined;
  let base: string;

  beforeAll(async () => {
    // /flaky/*: 503 twice, then 200. /doomed/*: always 500.
    worker = await startWorker((r, nth) => (r.url.startsWith('/flaky/') ? (nth < 2 ? 503 : 200) : r.url.startsWith('/doomed/') ? 500 : 200));
    const targets = { default: { scaling: 'automatic' as const, url: worker.url } };
    if (kind === 'memory') {
      log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
      service = await PushqService.start({ config, targets, log });
    } else {
      dir = await mkdtemp(join(tmpdir(), 'pushq-story-'));
      const data = await openDataDir(dir, configHash(config), { durable: false });
      log = data.log;
      expect(log).toBeInstanceOf(FileEventLog);
      service = await PushqService.start({ config, targets, log, dataLock: data.lock, replayed: data.events });
    }
    base = `${service.url}/v2/projects/p/locations/l/queues`;
  });

  afterAll(async () => {
    await service?.close(1000);
    await worker?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const storyUrl = (queue: string, task: string) => `${service.url}/pushq/queues/${queue}/tasks/${task}/story`;
  const story = async (queue: string, task: string) => {
    const r = await api('GET', storyUrl(queue, task));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json;
  };
  const create = async (queue: string, task: Record<string, unknown>) => {
    const r = await api('POST', `${base}/${queue}/tasks`, { task });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return (r.json.name as string).split('/').pop() as string;
  };
  const ended = async (queue: string, task: string) => {
    await expect.poll(async () => (await story(queue, task)).ended?.reason ?? null, { timeout: EVENT_BOUND_MS, interval: 50 }).not.toBeNull();
    return story(queue, task);
  };

  it('tells a task that failed twice with 503 and then succeeded: attempts, counts, backoffs, end', async () => {
    const name = await create('retried', { name: 'projects/p/locations/l/queues/retried/tasks/flaky-1', appEngineHttpRequest: { relativeUri: '/flaky/1' } });
    // Wait on the live state (the Cloud Tasks API forgets an ended task), then read the story at
    // once: the success was committed but, on a file log, not yet written (the background flush
    // runs every 200 ms); the story flushes first, so it has it.
    await expect.poll(async () => (await api('GET', `${base}/retried/tasks/${name}`)).status, { timeout: EVENT_BOUND_MS, interval: 5 }).toBe(404);
    const s = await story('retried', name);
    expect(s).toMatchObject({ queue: 'retried', task: 'flaky-1', state: 'succeeded', ownRetryOptions: false, sameName: 1 });
    expect(s.ended).toMatchObject({ reason: 'succeeded', giveUp: null });
    expect(s.attempts.map((a: any) => a.status)).toEqual([503, 503, 200]);
    expect(s.attempts.map((a: any) => a.outcome)).toEqual(['failed', 'failed', 'succeeded']);
    expect(s.attempts.map((a: any) => a.reason)).toEqual(['status', 'status', null]);
    expect(s.attempts.map((a: any) => a.retryCount)).toEqual([0, 1, 2]);
    expect(s.attempts.map((a: any) => a.executionCount)).toEqual([0, 1, 2]);
    expect(s.attempts.map((a: any) => a.number)).toEqual([1, 2, 3]);
    // The counts are the ones the worker was sent.
    const seen = worker.forUrl('/flaky/1');
    expect(seen.map((r) => r.headers['x-appengine-taskretrycount'])).toEqual(['0', '1', '2']);
    expect(seen.map((r) => r.headers['x-appengine-taskexecutioncount'])).toEqual(['0', '1', '2']);

    const [b1, b2] = [s.attempts[0].backoff, s.attempts[1].backoff];
    expect(s.attempts[2].backoff).toBeNull();
    // min(3600 s, 0.1 s · 2^0 · 1) = 0.1 s, then min(3600 s, 0.1 s · 2^1 · 1) = 0.2 s.
    expect(b1).toMatchObject({ retry: 1, minBackoffSeconds: 0.1, maxBackoffSeconds: 3600, maxDoublings: 16, doublings: 0, linear: 1, delaySeconds: 0.1, delayUs: 100_000 });
    expect(b2).toMatchObject({ retry: 2, minBackoffSeconds: 0.1, maxBackoffSeconds: 3600, maxDoublings: 16, doublings: 1, linear: 1, delaySeconds: 0.2, delayUs: 200_000 });
    for (const [i, b] of [b1, b2].entries()) {
      const a = s.attempts[i];
      expect(b.nextEtaUs).toBe(a.endedAtUs + b.delayUs); // the ETA counts from when the failure was seen
      expect(Date.parse(b.nextEta) * 1000).toBe(Math.floor(b.nextEtaUs / 1000) * 1000);
      expect(s.attempts[i + 1].dispatchedAtUs).toBeGreaterThanOrEqual(b.nextEtaUs);
    }
    // Times: RFC 3339 strings beside the raw µs.
    for (const a of s.attempts) {
      expect(a.dispatchedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
      expect(Math.abs(Date.parse(a.dispatchedAt) - a.dispatchedAtUs / 1000)).toBeLessThan(1);
      expect(a.latencyUs).toBe(a.endedAtUs - a.dispatchedAtUs);
      expect(a.latencySeconds).toBe(a.latencyUs / 1e6);
    }
    expect(s.ended.atUs).toBe(s.attempts[2].endedAtUs);
    expect(s.addedAtUs).toBeLessThanOrEqual(s.attempts[0].dispatchedAtUs);
  });

  it('tells a task with a generated name the same way', async () => {
    const name = await create('retried', { appEngineHttpRequest: { relativeUri: '/flaky/generated' } });
    expect(name).toMatch(/^task\d+$/);
    const s = await ended('retried', name);
    expect(s.task).toBe(name);
    expect(s.attempts.map((a: any) => [a.status, a.retryCount, a.executionCount, a.backoff?.delayUs ?? null])).toEqual([
      [503, 0, 0, 100_000],
      [503, 1, 1, 200_000],
      [200, 2, 2, null],
    ]);
  });

  it('gives the limits a given-up task exceeded', async () => {
    const name = await create('doomed', { name: 'projects/p/locations/l/queues/doomed/tasks/hopeless', appEngineHttpRequest: { relativeUri: '/doomed/1' } });
    const s = await ended('doomed', name);
    expect(s.state).toBe('failed');
    expect(s.attempts.map((a: any) => [a.status, a.retryCount, a.outcome])).toEqual([
      [500, 0, 'failed'],
      [500, 1, 'failed'],
    ]);
    expect(s.attempts[0].backoff).toMatchObject({ retry: 1, minBackoffSeconds: 0.1, maxBackoffSeconds: 0.1, delaySeconds: 0.1 });
    expect(s.attempts[1].backoff).toBeNull();
    expect(s.ended.reason).toBe('gave_up');
    expect(s.ended.giveUp).toMatchObject({ attempts: 2, retries: 1, taskRetryLimit: 1, taskAgeLimitSeconds: null, taskAgeLimitUs: null });
    expect(s.ended.giveUp.ageUs).toBe(s.ended.atUs - s.attempts[0].dispatchedAtUs);
  });

  it('tells a pending task, and then that it was deleted', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    await create('retried', { name: 'projects/p/locations/l/queues/retried/tasks/later', scheduleTime: later, appEngineHttpRequest: { relativeUri: '/later' } });
    const pending = await story('retried', 'later');
    expect(pending).toMatchObject({ state: 'pending', attempts: [], ended: null });
    expect(pending.eta).toBe(later.replace(/\.(\d{3})Z$/, '.$1000Z'));
    expect((await api('DELETE', `${base}/retried/tasks/later`)).status).toBe(200);
    const deleted = await story('retried', 'later');
    expect(deleted).toMatchObject({ state: 'deleted', attempts: [], ended: { reason: 'deleted', giveUp: null } });
  });

  it('answers NOT_FOUND in Google\'s error shape for an unknown task or queue', async () => {
    for (const [queue, task] of [['retried', 'nobody'], ['retried', 'task999999'], ['nowhere', 'flaky-1'], ['doomed', 'flaky-1']] as const) {
      const r = await api('GET', storyUrl(queue, task));
      expect(r.status, `${queue}/${task}`).toBe(404);
      expect(r.json.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
      expect(r.json.error.message).toEqual(expect.any(String));
    }
  });

  it('appends nothing to the log, however often stories are read', async () => {
    // Every task above has settled; the one left ("later") was deleted: nothing is due.
    const events = (): number => (log as MemoryEventLog | FileEventLog).length;
    const bytes = async (): Promise<number> => (dir === undefined ? (log as MemoryEventLog).bytes : (await stat(join(dir, EVENT_LOG_FILE))).size);
    const before = { events: events(), bytes: await bytes(), applied: service.kernel.state.eventsApplied };
    expect(before.events).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      await story('retried', 'flaky-1');
      await story('doomed', 'hopeless');
      expect((await api('GET', storyUrl('retried', 'nobody'))).status).toBe(404);
    }
    expect({ events: events(), bytes: await bytes(), applied: service.kernel.state.eventsApplied }).toEqual(before);
    // A command does append (the counter moves when something is written).
    expect((await api('POST', `${base}/doomed:pause`, {})).status).toBe(200);
    expect(events()).toBe(before.events + 1);
    if (dir !== undefined) expect(await bytes()).toBeGreaterThan(before.bytes);
  });
});
