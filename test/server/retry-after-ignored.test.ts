/**
 * S36: a worker's `Retry-After` does not change the retry schedule. A real PushqService on
 * loopback sends to a real HTTP worker that answers 503 three times, with `Retry-After: 3600` for
 * one task and without it for another, then 200: both are retried on the queue's backoff schedule
 * (0.2 s, 0.4 s, 0.8 s), the header makes no difference, and the retries reach the worker then.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { api } from '../helpers/serve-process.js';

const FAILURES = 3;
const DELAYS_US = [200_000, 400_000, 800_000];

/** Arrival times (ms) per request path; the first FAILURES of each are answered 503 (with Retry-After: 3600 under /ra/). */
const arrivals = new Map<string, number[]>();
let worker: Server;
let log: MemoryEventLog;
let service: PushqService;
let base: string;

beforeAll(async () => {
  worker = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      const seen = arrivals.get(path) ?? [];
      seen.push(performance.now());
      arrivals.set(path, seen);
      if (seen.length > FAILURES) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      res.writeHead(503, { 'content-type': 'text/plain', ...(path.startsWith('/ra/') ? { 'retry-after': '3600' } : {}) }).end('busy');
    });
  });
  await new Promise<void>((r) => worker.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(worker.address() as AddressInfo).port}`;
  log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const retry = { task_retry_limit: 5, min_backoff_seconds: 0.2, max_backoff_seconds: 0.8, max_doublings: 16 };
  service = await PushqService.start({ config: fileConfig(pushQueue('q', 50, { bucket_size: 10, retry })), targets: { default: { scaling: 'automatic', url } }, log });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
});

afterAll(async () => {
  await service?.close(1000);
  worker?.closeAllConnections();
  await new Promise<void>((r) => (worker ? worker.close(() => r()) : r()));
});

/** Waits until `pred` holds or `timeoutMs` passes; the assertions after it say what is missing. */
async function until(pred: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('S36: Retry-After is ignored', () => {
  it('a 503 with Retry-After: 3600 is retried on the backoff schedule, exactly as one without it', async () => {
    for (const id of ['ra', 'plain']) {
      const r = await api('POST', `${base}/q/tasks`, { task: { name: `projects/p/locations/l/queues/q/tasks/${id}`, appEngineHttpRequest: { relativeUri: `/${id}/` } } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    const events = (): EngineEvent[] => log.toArray();
    // Both succeed after 1.4 s of backoff; 20 s is ample on a loaded machine, and a schedule that
    // honoured Retry-After would still be waiting (an hour).
    await until(() => events().filter((e) => e.type === 'AttemptSucceeded').length === 2, 20_000);
    const all = events();
    for (const name of ['ra', 'plain']) {
      const added = all.find((e) => e.type === 'TaskAdded' && e.options?.name === name);
      const id = (added as { id: number }).id;
      const mine = all.filter((e) => 'id' in e && e.id === id);
      const failed = mine.filter((e) => e.type === 'AttemptFailed');
      const dispatched = mine.filter((e) => e.type === 'AttemptDispatched');
      // The engine chose the queue's backoff: the delay is 0.2 s · 2^(n−1), the retry due then.
      expect(failed.map((e) => [e.status, e.retry, e.delayUs, e.retryAt - e.t]), name).toEqual(DELAYS_US.map((d, i) => [503, i + 1, d, d]));
      expect(dispatched, name).toHaveLength(FAILURES + 1);
      // Each retry is dispatched when it is due (a token is always there: 50/s, bucket 10), give or
      // take a loaded machine's timer lag: the bounds tell "on the backoff" from "after an hour",
      // not the timer's precision (the exact schedule is the AttemptFailed check above).
      for (let i = 0; i < FAILURES; i++) {
        const late = dispatched[i + 1]!.t - failed[i]!.retryAt;
        expect(late, `${name}: retry ${i + 1} dispatched ${late} µs after it was due`).toBeGreaterThanOrEqual(0);
        expect(late, `${name}: retry ${i + 1} dispatched ${late} µs after it was due`).toBeLessThan(30_000_000);
      }
      // And the worker saw them then: each gap is the backoff delay (plus the answer's few ms).
      const at = arrivals.get(`/${name}/`)!;
      expect(at, name).toHaveLength(FAILURES + 1);
      for (let i = 0; i < FAILURES; i++) {
        const gapMs = at[i + 1]! - at[i]!;
        expect(gapMs, `${name}: gap before retry ${i + 1}`).toBeGreaterThanOrEqual(DELAYS_US[i]! / 1000 - 5);
        expect(gapMs, `${name}: gap before retry ${i + 1}`).toBeLessThan(DELAYS_US[i]! / 1000 + 30_000);
      }
    }
  });
});
