/**
 * The dashboard's read endpoints in-process (PushqService on a memory log, a real worker and a
 * real HTTP server on loopback): the shape and values of `GET /pushq/dashboard.json` and
 * `GET /pushq/queues/Q/tasks`, that reading them appends nothing to the log, that the figures
 * survive a restart. (The page itself: dashboard-assets.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { tokensAt } from '../../src/server/dashboard-figures.js';
import { PushqService } from '../../src/server/service.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const config = requireValidConfig(
  parseQueueConfig(
    `
queue:
- name: slow
  rate: 1/s
  bucket_size: 3
  max_concurrent_requests: 4
- name: failing
  rate: 100/s
  retry_parameters:
    min_backoff_seconds: 3600
- name: idle
  rate: 0
`,
    { file: 'queue.yaml' },
  ),
);

const newLog = () => new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
const targets = (url: string) => ({ default: { scaling: 'automatic' as const, url } });

let worker: Worker;
let log: MemoryEventLog;
let service: PushqService;
let base: string;

beforeAll(async () => {
  worker = await startWorker((r) => (r.url.startsWith('/fail') ? 503 : 200));
  log = newLog();
  service = await PushqService.start({ config, targets: targets(worker.url), log });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
});

const figures = async () => {
  const r = await api('GET', `${service.url}/pushq/dashboard.json`);
  expect(r.status).toBe(200);
  return r.json;
};
const queueOf = (f: any, name: string) => f.queues.find((q: { name: string }) => q.name === name);

describe('GET /pushq/dashboard.json', () => {
  it('gives every queue with its limits and a full bucket at start', async () => {
    const f = await figures();
    expect(f.recentWindowSeconds).toBe(10);
    expect(Math.abs(Date.parse(f.now) - Date.now())).toBeLessThan(2000);
    expect(f.queues.map((q: { name: string }) => q.name)).toEqual(['default', 'slow', 'failing', 'idle']);
    expect(queueOf(f, 'slow')).toEqual({
      name: 'slow',
      state: 'running',
      tokens: 3,
      bucketSize: 3,
      configHold: null,
      ratePerSecond: 1,
      inFlight: 0,
      maxConcurrent: 4,
      tasks: { pending: 0, dispatching: 0, backoff: 0, succeeded: 0, gaveUp: 0, deleted: 0 },
      attempts: 0,
      retries: 0,
      dispatchesRecent: 0,
      dispatchRatePerSecond: 0,
    });
    // rate 0: paused by the configuration, no bucket filled; its bucket_size the configuration's (the default 5), as the API's maxBurstSize
    expect(queueOf(f, 'idle')).toMatchObject({ state: 'paused', tokens: null, bucketSize: 5, configHold: 'rate-zero', ratePerSecond: 0 });
  });

  it('follows dispatches: tokens spent, succeeded, pending, recent rate, state after pause', async () => {
    for (let i = 0; i < 5; i++) expect((await api('POST', `${base}/slow/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/s/${i}` } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/s/') && r.answered === 200).length >= 3, EVENT_BOUND_MS, 'the burst of 3');
    await expect.poll(async () => queueOf(await figures(), 'slow').tasks.succeeded, { timeout: EVENT_BOUND_MS }).toBeGreaterThanOrEqual(3);
    const slow = queueOf(await figures(), 'slow');
    // 1/s with a bucket of 3: the burst of 3 went at once, the other two wait for tokens.
    expect(slow.tokens).toBeLessThan(1);
    expect(slow.attempts).toBeGreaterThanOrEqual(3);
    expect(slow.tasks.succeeded + slow.tasks.pending + slow.tasks.dispatching).toBe(5);
    expect(slow.dispatchesRecent).toBe(slow.attempts);
    expect(slow.dispatchRatePerSecond).toBeGreaterThan(0);

    expect((await api('POST', `${base}/slow:pause`, {})).status).toBe(200);
    expect(queueOf(await figures(), 'slow').state).toBe('paused');
    expect((await api('POST', `${base}/slow:resume`, {})).status).toBe(200);
    expect(queueOf(await figures(), 'slow').state).toBe('running');
  });

  it('appends nothing to the log, however often it is read (a command does)', async () => {
    const before = { events: log.length, applied: service.kernel.state.eventsApplied };
    for (let i = 0; i < 20; i++) {
      await figures();
      expect((await api('GET', `${service.url}/pushq/queues/slow/tasks`)).status).toBe(200);
      expect((await fetch(`${service.url}/`).then((r) => r.text())).startsWith('<!doctype html>')).toBe(true);
    }
    // Dispatches of `slow` may land meanwhile (1/s); compare with those taken out.
    const dispatched = log.toArray().slice(before.events).filter((e) => e.type !== 'AttemptDispatched' && e.type !== 'AttemptSucceeded');
    expect(dispatched).toEqual([]);
    expect((await api('POST', `${base}/failing:pause`, {})).status).toBe(200);
    expect(log.toArray().slice(before.events).some((e) => e.type === 'QueuePaused')).toBe(true);
    expect((await api('POST', `${base}/failing:resume`, {})).status).toBe(200);
  });
});

describe('GET /pushq/queues/Q/tasks', () => {
  it('lists live tasks with state, request, counts and the last HTTP status', async () => {
    const named = (id: string) => `projects/p/locations/l/queues/failing/tasks/${id}`;
    expect((await api('POST', `${base}/failing/tasks`, { task: { name: named('f1'), appEngineHttpRequest: { relativeUri: '/fail/1' } } })).status).toBe(200);
    const later = new Date(Date.now() + 600_000).toISOString();
    expect((await api('POST', `${base}/failing/tasks`, { task: { name: named('later'), scheduleTime: later, appEngineHttpRequest: { httpMethod: 'PUT', relativeUri: '/later' } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/fail/1' && r.answered === 503), EVENT_BOUND_MS, 'the failing attempt');
    await expect.poll(async () => (await api('GET', `${service.url}/pushq/queues/failing/tasks`)).json.tasks[0].state, { timeout: EVENT_BOUND_MS }).toBe('backoff');
    const r = await api('GET', `${service.url}/pushq/queues/failing/tasks`);
    const times = { addedAt: expect.any(String), endedAt: null };
    expect(r.json).toEqual({
      queue: 'failing',
      state: 'live',
      search: '',
      total: 2,
      tasks: [
        { name: 'f1', queue: 'failing', state: 'backoff', method: 'POST', url: '/fail/1', scheduleTime: expect.any(String), dispatchCount: 1, responseCount: 1, lastStatus: 503, lastError: null, ...times, waitedSeconds: expect.any(Number), matched: null },
        { name: 'later', queue: 'failing', state: 'pending', method: 'PUT', url: '/later', scheduleTime: later.replace(/\.(\d{3})Z$/, '.$1000Z'), dispatchCount: 0, responseCount: 0, lastStatus: null, lastError: null, ...times, waitedSeconds: 0, matched: null },
      ],
    });
    // min_backoff 1 h: the retry is an hour away.
    expect(Date.parse(r.json.tasks[0].scheduleTime) - Date.now()).toBeGreaterThan(3500_000);
    const f = queueOf(await figures(), 'failing');
    expect(f.tasks).toMatchObject({ pending: 1, backoff: 1 });
    expect(f.attempts).toBe(1);

    const limited = await api('GET', `${service.url}/pushq/queues/failing/tasks?limit=1`);
    expect(limited.json.total).toBe(2);
    expect(limited.json.tasks.map((t: { name: string }) => t.name)).toEqual(['f1']);
  });

  it('refuses an unknown queue and a bad limit in the API error shape', async () => {
    const unknown = await api('GET', `${service.url}/pushq/queues/nope/tasks`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.status).toBe('NOT_FOUND');
    for (const limit of ['0', '1001', 'x', '1.5']) {
      const bad = await api('GET', `${service.url}/pushq/queues/failing/tasks?limit=${limit}`);
      expect(bad.status, limit).toBe(400);
      expect(bad.json.error.status).toBe('INVALID_ARGUMENT');
    }
  });

  it('keeps attempts and retries across a restart (the counters are rebuilt from the log)', async () => {
    const before = queueOf(await figures(), 'slow');
    const again = await PushqService.start({ config, targets: targets('http://127.0.0.1:9'), log: newLog(), replayed: log.toArray() });
    try {
      const r = await api('GET', `${again.url}/pushq/dashboard.json`);
      const slow = queueOf(r.json, 'slow');
      expect(slow.attempts).toBeGreaterThanOrEqual(before.attempts);
      expect(slow.attempts).toBeGreaterThan(0);
      expect(queueOf(r.json, 'failing').attempts).toBe(1);
    } finally {
      await again.close(0);
    }
  });
});

describe('figures, pure', () => {
  it('tokensAt projects the bucket to a time without refilling it, capped at its size', () => {
    const bucket = { tokensPerPeriod: 1, periodUs: 1_000_000, capacityCredit: 3_000_000, credit: 500_000, refilledAt: 10_000_000 };
    expect(tokensAt(bucket, 10_000_000)).toBe(0.5);
    expect(tokensAt(bucket, 11_500_000)).toBe(2);
    expect(tokensAt(bucket, 99_000_000)).toBe(3);
    expect(tokensAt(bucket, 9_000_000)).toBe(0.5); // a clock before the last refill adds nothing
    expect(bucket.credit).toBe(500_000);
  });
});
