/**
 * The dashboard's read API (src/server/read-api.ts) in-process, over a recorded log served by the
 * ReplayServer and over a live PushqService: `?at=` (figures equal to `pushq replay --at`'s, a 400
 * naming `at` when it is not a number or outside the log's span), the task lists (states, search
 * by name prefix and payload text, order, a 400 naming each bad parameter), the timeline, the
 * series and their stream (a 400 naming `interval`), reads at several instants at once, and the
 * recorded server's refusals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { foldLogFile, stateDigest } from '../../src/log/replay.js';
import { queueFigures } from '../../src/projections/figures.js';
import { InsightProjection } from '../../src/projections/insight.js';
import { queueSummaries, timeFormatter } from '../../src/projections/queue-summary.js';
import { StatsCollector } from '../../src/projections/stats.js';
import { RecordedSource } from '../../src/server/read-source.js';
import { ReplayServer } from '../../src/server/replay-server.js';
import { PushqService } from '../../src/server/service.js';
import { LogIndex } from '../../src/server/time-travel.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let path: string;
let server: ReplayServer;
let lastUs: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-read-api-'));
  path = join(dir, 'events.jsonl');
  const sim = createSimulation({
    config: fileConfig(pushQueue('orders', 10, { retry: { task_retry_limit: 2, min_backoff_seconds: 0.5 } }), pushQueue('mail', 5)),
    seed: 4,
    log: (h) => createFileEventLogSync(path, h, { durable: false }),
    worker: ({ request }) => ({ status: request.url.startsWith('/fail') ? 503 : 200, latencyMs: 40 }),
  });
  for (let i = 0; i < 20; i++) sim.addTask({ queue: 'orders', name: `order-${i}`, url: `/orders/${i}`, body: JSON.stringify({ order: i, city: i === 13 ? 'Zürich' : 'Lyon' }) });
  for (let i = 0; i < 3; i++) sim.addTask({ queue: 'orders', name: `doomed-${i}`, url: `/fail/${i}`, body: 'will fail' });
  sim.addTask({ queue: 'mail', name: 'binary', body: new Uint8Array([0xff, 0x00, 0x41]) });
  sim.schedule(0.5, (s) => s.pauseQueue('mail'));
  sim.schedule(1.5, (s) => s.resumeQueue('mail'));
  sim.runUntilIdle();
  await sim.kernel.log.close();
  lastUs = sim.state.lastEventAt;
  server = await ReplayServer.start(new RecordedSource(LogIndex.fromFile(path, { checkpointEvery: 16 }).index, path));
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p: string) => api('GET', `${server.url}${p}`);

/** `pushq replay --at`'s summary, in-process. */
function replaySummary(atUs: number) {
  const stats = new StatsCollector();
  const insight = new InsightProjection();
  const { fold } = foldLogFile(path, [stats, insight], { until: atUs });
  return queueSummaries(fold.state, queueFigures(fold.state, stats, insight, atUs, { includeIdle: true }), undefined, timeFormatter('virtual'));
}

function expectBad(r: { status: number; json: any }, field: string): void {
  expect(r.status, JSON.stringify(r.json)).toBe(400);
  expect(r.json.error.status).toBe('INVALID_ARGUMENT');
  expect(r.json.error.message).toMatch(new RegExp(`^${field}: .*\\(INVALID_FIELD\\)$`));
  expect(r.json.error.details[0].fieldViolations[0].field).toBe(field);
}

describe('a recorded log (pushq replay --ui)', () => {
  it('dashboard.json?at=S: replay --at S\'s figures, the instant named', async () => {
    for (const s of [0, 0.3, 0.75, 1.2, 2, lastUs / 1e6]) {
      const r = await get(`/pushq/dashboard.json?at=${s}`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mode: 'recorded', clock: 'virtual', log: 'events.jsonl', at: s, atSeconds: s });
      expect(r.json.summary).toEqual(replaySummary(Math.round(s * 1e6)));
    }
    const end = await get('/pushq/dashboard.json');
    expect(end.json).toMatchObject({ at: null, atSeconds: lastUs / 1e6 });
    expect(end.json.summary).toEqual(replaySummary(lastUs));
  });

  it('?at= that is not a number, or outside the log\'s span, is a 400 naming `at`, on every read that takes it', async () => {
    for (const bad of ['abc', '12s', 'NaN', 'Infinity', '1e400', '--1', '0x10', '-0.001', String(lastUs / 1e6 + 0.001), '99999']) {
      for (const p of ['/pushq/dashboard.json', '/pushq/queues/orders/tasks', '/pushq/queues/orders/tasks/order-1/story']) {
        const r = await get(`${p}?at=${encodeURIComponent(bad)}`);
        expectBad(r, 'at');
      }
    }
    expect((await get('/pushq/dashboard.json?at=abc')).json.error.message).toMatch(/^at: "abc" is not a number of seconds since the log's first event/);
    expect((await get('/pushq/dashboard.json?at=99999')).json.error.message).toMatch(/^at: 99999 is outside this log's span, 0 to [\d.]+ seconds since its first event/);
  });

  it('task lists: ended states too, search by name prefix and by payload text, order, at an instant', async () => {
    const names = async (q: string) => ((await get(q)).json.tasks as { name: string }[]).map((t) => t.name);
    expect(await names('/pushq/queues/orders/tasks?state=failed')).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    expect(await names('/pushq/queues/orders/tasks?state=gave_up')).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    expect((await get('/pushq/queues/orders/tasks?state=succeeded')).json.total).toBe(20);
    expect((await get('/pushq/queues/*/tasks?state=all')).json.total).toBe(24);
    expect((await get('/pushq/queues/orders/tasks')).json.total).toBe(0); // none live at the end
    expect((await get('/pushq/queues/orders/tasks?at=0')).json.total).toBe(23); // all live at the start
    // Search: a name prefix, then payload text regardless of case, in any queue.
    expect(await names('/pushq/queues/*/tasks?state=all&q=doomed-')).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    const found = (await get(`/pushq/queues/*/tasks?state=all&q=${encodeURIComponent('zÜRICH')}`)).json;
    expect(found).toMatchObject({ queue: '*', search: 'zÜRICH', total: 1 });
    expect(found.tasks[0]).toMatchObject({ name: 'order-13', queue: 'orders', matched: 'payload', state: 'succeeded' });
    // A payload that is not UTF-8 is searched byte for byte.
    expect(await names('/pushq/queues/mail/tasks?state=all&q=A')).toEqual(['binary']);
    // Most attempts first.
    const byAttempts = (await get('/pushq/queues/orders/tasks?state=all&sort=attempts&limit=4')).json;
    expect(byAttempts.tasks.map((t: { dispatchCount: number }) => t.dispatchCount)).toEqual([3, 3, 3, 1]);
    expect(byAttempts.total).toBe(23);
  });

  it('a bad state, sort, limit or search is a 400 naming it', async () => {
    expectBad(await get('/pushq/queues/orders/tasks?state=gone'), 'state');
    expectBad(await get('/pushq/queues/orders/tasks?sort=name'), 'sort');
    for (const limit of ['0', '1001', 'x', '1.5']) expectBad(await get(`/pushq/queues/orders/tasks?limit=${limit}`), 'limit');
    expectBad(await get(`/pushq/queues/orders/tasks?q=${'x'.repeat(201)}`), 'q');
    expect((await get('/pushq/queues/nope/tasks')).status).toBe(404);
  });

  it('a story at an instant, with its request and its payload decoded', async () => {
    const early = (await get('/pushq/queues/orders/tasks/doomed-1/story?at=0.2')).json;
    const late = (await get('/pushq/queues/orders/tasks/doomed-1/story')).json;
    expect(early.attempts.length).toBeLessThan(late.attempts.length);
    expect(late.ended.reason).toBe('gave_up');
    expect(late.request).toEqual({ method: 'POST', url: '/fail/1', headers: [], target: null });
    expect(late.payload).toEqual({ kind: 'text', bytes: 9, text: 'will fail', truncated: false });
    expect((await get('/pushq/queues/orders/tasks/order-13/story')).json.payload).toEqual({ kind: 'json', bytes: 29, text: '{\n  "order": 13,\n  "city": "Zürich"\n}', truncated: false });
    expect((await get('/pushq/queues/mail/tasks/binary/story')).json.payload).toMatchObject({ kind: 'binary', bytes: 3, text: '00000000  ff 00 41                                          |..A|' });
    const missing = await get('/pushq/queues/orders/tasks/nobody/story');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toMatch(/\(UNKNOWN_TASK\)$/);
  });

  it('the timeline, the series, and their stream (a bad interval is a 400 naming it, before any event)', async () => {
    const t = (await get('/pushq/timeline.json')).json;
    expect(t).toMatchObject({ mode: 'recorded', clock: 'virtual', log: 'events.jsonl', first: 0, endSeconds: lastUs / 1e6 });
    expect(t.markers).toEqual([
      { atSeconds: 0, kind: 'config', queue: null },
      { atSeconds: 0.5, kind: 'pause', queue: 'mail' },
      { atSeconds: 1.5, kind: 'resume', queue: 'mail' },
    ]);
    const s = (await get('/pushq/series.json?queue=orders')).json;
    expect(s.series.map((x: { queue: string }) => x.queue)).toEqual(['*', 'orders']);
    const orders = s.series[1];
    expect(orders.limits).toEqual({ ratePerSecond: 10, bucketSize: 5, maxConcurrent: 1000 });
    for (const reason of Object.keys(orders.failures)) expect(orders.failures[reason]).toHaveLength(orders.columns.t_seconds.length);
    expect(orders.failures.http_5xx.reduce((a: number, b: number) => a + b, 0)).toBe(9);
    expect((await get('/pushq/series.json?queue=nope')).status).toBe(404);
    for (const interval of ['0', '0.1', '61', 'x']) expectBad(await get(`/pushq/series/stream?interval=${interval}`), 'interval');

    const ac = new AbortController();
    const res = await fetch(`${server.url}/pushq/series/stream?queue=mail&interval=0.5`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    while (!/\n\n(?=[\s\S]*event: series\ndata: [^\n]+\n\n)/.test(`\n\n${text}`)) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const data = JSON.parse(/event: series\ndata: ([^\n]+)\n\n/.exec(text)![1]!);
    expect(data.series.map((x: { queue: string }) => x.queue)).toEqual(['*', 'mail']);
  });

  it('reads at different instants at once: each answer is of its own instant (a view is folded on or refilled for the next)', async () => {
    const source = new RecordedSource(LogIndex.fromFile(path, { checkpointEvery: 16 }).index, path);
    // Forward (each folds on the view before), back (each restores, and refills a kept one), again.
    const instants = [0.1, 0.2, 0.35, 0.5, 0.8, 1.2, 1.7, 0.3, 0.05, 1.1, 0.6, 0.2].map((s) => Math.round(s * 1e6));
    const together = await Promise.all(instants.map((t) => source.read(t, (v) => [stateDigest(v.state), v.events])));
    const alone = instants.map((t) => {
      const { fold } = foldLogFile(path, [], { until: t });
      return [stateDigest(fold.state), fold.events];
    });
    expect(together).toEqual(alone);
  });

  it('is read-only and checks Host as pushq serve does', async () => {
    expect((await api('POST', `${server.url}/pushq/dashboard.json`, {})).status).toBe(404);
    expect((await get('/v2/projects/p/locations/l/queues')).status).toBe(404);
    // A page of another name resolving to 127.0.0.1 (DNS rebinding) is refused.
    const url = new URL(server.url);
    const rebound = await new Promise<number>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '/pushq/dashboard.json', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(rebound).toBe(403);
    await expect(ReplayServer.start(new RecordedSource(LogIndex.fromFile(path).index, path), { host: '0.0.0.0' })).rejects.toThrow(/loopback addresses only.*\(UNPROTECTED_PUBLIC_BIND\)$/);
  });
});

describe('a live service (pushq serve)', () => {
  let worker: Worker;
  let service: PushqService;

  beforeAll(async () => {
    worker = await startWorker(() => 200);
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
    service = await PushqService.start({ config: fileConfig(pushQueue('q', 50)), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  });

  afterAll(async () => {
    await service?.close(1000);
    await worker?.close();
  });

  it('answers now and at an instant of its past, from the same API', async () => {
    const base = `${service.url}/v2/projects/p/locations/l/queues/q/tasks`;
    for (let i = 0; i < 3; i++) expect((await api('POST', base, { task: { appEngineHttpRequest: { relativeUri: `/a/${i}` } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.length === 3, EVENT_BOUND_MS, 'three requests');
    const between = (await api('GET', `${service.url}/pushq/timeline.json`)).json.endSeconds;
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 2; i++) expect((await api('POST', base, { task: { appEngineHttpRequest: { relativeUri: `/b/${i}` } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.length === 5, EVENT_BOUND_MS, 'five requests');
    await expect.poll(async () => (await api('GET', `${service.url}/pushq/dashboard.json`)).json.summary.q.tasks.succeeded, { timeout: EVENT_BOUND_MS }).toBe(5);
    const now = (await api('GET', `${service.url}/pushq/dashboard.json`)).json;
    expect(now).toMatchObject({ mode: 'live', clock: 'wall', at: null });
    const then = (await api('GET', `${service.url}/pushq/dashboard.json?at=${between}`)).json;
    expect(then).toMatchObject({ mode: 'live', at: between });
    expect(then.summary.q.tasks_total).toBe(3);
    expect(then.summary.q.stats.attempts).toBe(3);
    expect((await api('GET', `${service.url}/pushq/queues/q/tasks?state=all&at=${between}`)).json.total).toBe(3);
    expectBad(await api('GET', `${service.url}/pushq/dashboard.json?at=${now.atSeconds + 3600}`), 'at');
    // The markers: the configuration applied at start.
    expect((await api('GET', `${service.url}/pushq/timeline.json`)).json.markers).toEqual([{ atSeconds: 0, kind: 'config', queue: null }]);
  });
});
