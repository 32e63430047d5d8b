/**
 * Durability: `kill -9` of `pushq serve` under load, a restart on the same data directory, and
 * every task whose CreateTask was acknowledged is still delivered with a 2xx at least once
 * (at-least-once, as App Engine). Attempts in flight at the crash are dispatched again, and their
 * retry count continues.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 200/s
  bucket_size: 20
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.2
`;

let dir: string | undefined;
let worker: Worker | undefined;
const children: ServeProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await worker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('delivers every acknowledged task after kill -9 and a restart', async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-crash-'));
  await writeFile(join(dir, 'queue.yaml'), QUEUE_YAML);
  // First attempt of each task: slow, then 500. Later attempts: 200 quickly.
  const w = (worker = await startWorker((_r, n) => (n === 0 ? { status: 500, delayMs: 150 } : { status: 200, delayMs: 20 })));
  const args = ['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--target', `default=${w.url}`];
  const first = await startServe(args);
  children.push(first);

  const acknowledged: string[] = [];
  let killed = false;
  let killedAtMs = 0;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (!killed && next < 400) {
      const name = `k${next++}`;
      try {
        const res = await fetch(`${first.api}/work/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/work/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/k/${name}` } } }),
        });
        if (res.status === 200) acknowledged.push(name);
        await res.arrayBuffer();
      } catch {
        return; // the server is gone: this call was not acknowledged
      }
      if (!killed && acknowledged.length >= 120) {
        killed = true;
        killedAtMs = Date.now();
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  expect(killed).toBe(true);
  expect(await first.exited).toBe('SIGKILL');

  const second = await startServe(args);
  children.push(second);
  // Attempts logged as dispatched but never settled were found and are dispatched again.
  const interrupted = Number(/replayed \d+ events?, (\d+) interrupted attempts?\b/.exec(second.stdout())?.[1] ?? NaN);
  expect(interrupted).toBeGreaterThan(0);
  const delivered = (name: string): boolean => w.received.some((r) => r.url === `/k/${name}` && r.answered !== undefined && r.answered >= 200 && r.answered < 300);
  await w.waitFor(() => acknowledged.every(delivered), 20_000, `all ${acknowledged.length} acknowledged tasks delivered with 2xx`);
  expect(acknowledged.length).toBeGreaterThanOrEqual(120);

  // Each attempt the crash interrupted is retried, saying it failed as a connection error, and
  // its retry count continued (the interrupted attempt counts).
  const retriesOfInterrupted = () => w.received.filter((r) => r.atMs > killedAtMs && r.headers['x-appengine-taskretryreason'] === 'connection-error');
  await w.waitFor(() => retriesOfInterrupted().length >= interrupted, EVENT_BOUND_MS, `${interrupted} retries of interrupted attempts`);
  for (const r of retriesOfInterrupted()) expect(Number(r.headers['x-appengine-taskretrycount']), r.url).toBeGreaterThanOrEqual(1);
  // Tasks the worker saw before the crash were seen again after it (at-least-once).
  const before = new Set(w.received.filter((r) => r.atMs < killedAtMs).map((r) => r.url));
  expect(w.received.some((r) => r.atMs > killedAtMs && before.has(r.url))).toBe(true);

  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});
