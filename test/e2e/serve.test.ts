/**
 * `pushq serve` end to end: the real CLI as a child process, a real worker app on loopback, the
 * REST API over HTTP. One server for the file; each test uses its own queue from queue.yaml.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Received, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: hdr
  rate: 100/s
- name: retry
  rate: 100/s
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.1
- name: limited
  rate: 100/s
  retry_parameters:
    task_retry_limit: 2
    min_backoff_seconds: 0.05
    max_backoff_seconds: 0.05
- name: rated
  rate: 20/s
  bucket_size: 5
- name: conc
  rate: 500/s
  bucket_size: 50
  max_concurrent_requests: 3
- name: eta
  rate: 100/s
- name: ops
  rate: 100/s
`;

let dir: string;
let worker: Worker;
let serve: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-serve-'));
  await writeFile(join(dir, 'queue.yaml'), QUEUE_YAML);
  worker = await startWorker((r, n) => {
    if (r.url.startsWith('/flaky')) return n === 0 ? 503 : n === 1 ? 500 : 200;
    if (r.url.startsWith('/always-500')) return 500;
    if (r.url.startsWith('/slow')) return { status: 200, delayMs: 150 };
    return 200;
  });
  serve = await startServe(['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--target', `default=${worker.url}`]);
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  const code = await serve?.exited;
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
  expect(code).toBe(0); // SIGTERM: drain, sync, exit 0
});

const tasksOf = (queue: string) => `${serve.api}/${queue}/tasks`;
const taskName = (queue: string, id: string) => `projects/p/locations/l/queues/${queue}/tasks/${id}`;

async function create(queue: string, task: Record<string, unknown>): Promise<any> {
  const r = await api('POST', tasksOf(queue), { task });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

describe('pushq serve (child process, real worker)', () => {
  it('sends the method, relative URL, body and headers of the task with the App Engine headers', async () => {
    const t = await create('hdr', {
      name: taskName('hdr', 'h1'),
      appEngineHttpRequest: { httpMethod: 'PUT', relativeUri: '/h/1?x=1', headers: { 'X-Custom': 'yes' }, body: Buffer.from('payload é').toString('base64') },
    });
    await create('hdr', { name: taskName('hdr', 'h2'), appEngineHttpRequest: { httpMethod: 2, relativeUri: '/h/2', headers: { 'Content-Type': 'text/plain' } } });
    await worker.waitFor((rs) => rs.some((r) => r.url === '/h/1?x=1') && rs.some((r) => r.url === '/h/2'), EVENT_BOUND_MS, 'both hdr tasks');
    const [put] = worker.forUrl('/h/1') as [Received];
    expect(put.method).toBe('PUT');
    expect(put.body.toString('utf8')).toBe('payload é');
    expect(put.headers['x-custom']).toBe('yes');
    expect(put.headers['content-type']).toBe('application/octet-stream');
    expect(put.headers['user-agent']).toBe('AppEngine-Google; (+http://code.google.com/appengine)');
    expect(put.headers['x-appengine-queuename']).toBe('hdr');
    expect(put.headers['x-appengine-taskname']).toBe('h1');
    expect(put.headers['x-appengine-taskretrycount']).toBe('0');
    expect(put.headers['x-appengine-taskexecutioncount']).toBe('0');
    expect(put.headers['x-appengine-taskpreviousresponse']).toBeUndefined();
    expect(put.headers['x-appengine-taskretryreason']).toBeUndefined();
    const eta = put.headers['x-appengine-tasketa'] as string;
    expect(eta).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(eta) * 1000).toBeCloseTo(Date.parse(t.scheduleTime), -1);
    const [get] = worker.forUrl('/h/2') as [Received];
    expect(get.method).toBe('GET'); // httpMethod as an enum number (enum-encoding=int)
    expect(get.headers['content-type']).toBe('text/plain');
    expect(get.body.length).toBe(0);
  });

  it('retries a failing task with the right counts, previous response and retry reason', async () => {
    await create('retry', { name: taskName('retry', 'f1'), appEngineHttpRequest: { relativeUri: '/flaky/1' } });
    await worker.waitFor((rs) => rs.filter((r) => r.url === '/flaky/1').length === 3, EVENT_BOUND_MS, 'three attempts');
    const attempts = worker.forUrl('/flaky/1');
    expect(attempts.map((a) => a.headers['x-appengine-taskretrycount'])).toEqual(['0', '1', '2']);
    expect(attempts.map((a) => a.headers['x-appengine-taskexecutioncount'])).toEqual(['0', '1', '2']);
    expect(attempts.map((a) => a.headers['x-appengine-taskpreviousresponse'])).toEqual([undefined, '503', '500']);
    expect(attempts.map((a) => a.headers['x-appengine-taskretryreason'])).toEqual([undefined, 'http-status-503', 'http-status-500']);
    // min_backoff 0.1 s: each retry waits at least that long.
    expect((attempts[1] as Received).atMs - (attempts[0] as Received).atMs).toBeGreaterThanOrEqual(95);
    // Succeeded on the third attempt: the task is gone.
    await expect.poll(async () => (await api('GET', `${tasksOf('retry')}/f1`)).status, { timeout: EVENT_BOUND_MS }).toBe(404);
  });

  it('gives up after task_retry_limit retries', async () => {
    await create('limited', { name: taskName('limited', 'g1'), appEngineHttpRequest: { relativeUri: '/always-500/g1' } });
    await worker.waitFor((rs) => rs.filter((r) => r.url === '/always-500/g1').length >= 3, EVENT_BOUND_MS, 'three attempts');
    await expect.poll(async () => (await api('GET', `${tasksOf('limited')}/g1`)).status, { timeout: EVENT_BOUND_MS }).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(worker.forUrl('/always-500/g1')).toHaveLength(3); // first attempt + 2 retries, then no more
  });

  it('keeps to rate 20/s with bucket 5 at the worker, and spends the burst at once', async () => {
    const n = 30;
    // Queued while paused, so the resume finds 30 tasks and a full bucket.
    expect((await api('POST', `${serve.api}/rated:pause`, {})).json.state).toBe('PAUSED');
    await Promise.all(Array.from({ length: n }, (_, i) => create('rated', { appEngineHttpRequest: { relativeUri: `/rated/${i}` } })));
    expect((await api('POST', `${serve.api}/rated:resume`, {})).json.state).toBe('RUNNING');
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/rated/')).length === n, EVENT_BOUND_MS, `${n} rated tasks`);
    const times = worker.forUrl('/rated/').map((r) => r.atMs).sort((a, b) => a - b);
    // Any window of T ms holds at most bucket + rate·T dispatches. Arrival times are taken in this
    // (busy) test process, so allow 300 ms of bunching: without the limit all 30 arrive at once.
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length; j++) {
        const windowMs = (times[j] as number) - (times[i] as number);
        expect(j - i + 1, `window of ${windowMs} ms`).toBeLessThanOrEqual(5 + 20 * (windowMs / 1000 + 0.3));
      }
    }
    // 25 tokens beyond the burst take 1.25 s at 20/s (less the same 300 ms of measuring slack;
    // the first requests also wait for new connections).
    expect((times[n - 1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(950);
    // The burst: the bucket's 5 tokens go at once. Without it the 5th would come 200 ms after the
    // first (one token per 50 ms).
    expect((times[4] as number) - (times[0] as number)).toBeLessThan(150);
  });

  it('never has more than max_concurrent_requests in flight at the worker', async () => {
    const before = worker.maxInFlight;
    expect(before).toBeLessThanOrEqual(3);
    await Promise.all(Array.from({ length: 12 }, (_, i) => create('conc', { appEngineHttpRequest: { relativeUri: `/slow/${i}` } })));
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/slow/')).length === 12, EVENT_BOUND_MS, '12 slow tasks');
    expect(worker.maxInFlight).toBe(3);
  });

  it('does not dispatch before the ETA', async () => {
    const etaMs = Date.now() + 1200;
    const t = await create('eta', { name: taskName('eta', 'e1'), scheduleTime: new Date(etaMs).toISOString(), appEngineHttpRequest: { relativeUri: '/eta/1' } });
    expect(Date.parse(t.scheduleTime)).toBe(etaMs);
    await new Promise((r) => setTimeout(r, 800));
    // Nothing before the ETA (on a loaded machine the create itself may take 400 ms, and the task then be due).
    expect(worker.forUrl('/eta/').filter((r) => r.atMs < etaMs - 2)).toEqual([]);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/eta/1'), EVENT_BOUND_MS, 'the ETA task');
    expect((worker.forUrl('/eta/1')[0] as Received).atMs).toBeGreaterThanOrEqual(etaMs - 2);
  });

  it('pauses, runs, resumes, deletes and purges', async () => {
    const q = `${serve.api}/ops`;
    expect((await api('POST', `${q}:pause`, {})).json.state).toBe('PAUSED');
    await create('ops', { name: taskName('ops', 'p1'), appEngineHttpRequest: { relativeUri: '/ops/p1' } });
    await create('ops', { name: taskName('ops', 'p2'), appEngineHttpRequest: { relativeUri: '/ops/p2' } });
    await create('ops', { name: taskName('ops', 'p3'), appEngineHttpRequest: { relativeUri: '/ops/p3' } });
    await new Promise((r) => setTimeout(r, 400));
    expect(worker.forUrl('/ops/')).toHaveLength(0); // paused

    const ran = await api('POST', `${tasksOf('ops')}/p1:run`, {});
    expect(ran.status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/ops/p1'), EVENT_BOUND_MS, 'the force-run task'); // RunTask ignores pause

    expect((await api('DELETE', `${tasksOf('ops')}/p2`)).status).toBe(200);
    expect((await api('GET', `${tasksOf('ops')}/p2`)).status).toBe(404);
    expect((await api('DELETE', `${tasksOf('ops')}/p2`)).json.error.status).toBe('NOT_FOUND');

    const listed = await api('GET', tasksOf('ops'));
    expect(listed.json.tasks.map((t: { name: string }) => t.name)).toEqual([taskName('ops', 'p3')]);
    const purged = await api('POST', `${q}:purge`, {});
    expect(purged.json.purgeTime).toBeDefined();
    expect((await api('GET', tasksOf('ops'))).json.tasks ?? []).toEqual([]);

    expect((await api('POST', `${q}:resume`, {})).json.state).toBe('RUNNING');
    await create('ops', { name: taskName('ops', 'p4'), appEngineHttpRequest: { relativeUri: '/ops/p4' } });
    await worker.waitFor((rs) => rs.some((r) => r.url === '/ops/p4'), EVENT_BOUND_MS, 'a task after resume');
    expect(worker.forUrl('/ops/').map((r) => r.url).sort()).toEqual(['/ops/p1', '/ops/p4']); // p2 deleted, p3 purged
  });
});
