/**
 * The rule that keeps one dispatcher per queue, in process and deterministic: once the lease's
 * local validity has passed (no renewal came back: the store unreachable, or the process paused),
 * the queue's service starts no attempt, even for a task whose time comes after, and refuses
 * creates (UNAVAILABLE); when a renewal moves the validity on, it carries on. Real parts: a file
 * store in a temporary directory, the service's HTTP API and a worker on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultQueueFileConfig } from '../../src/config/defaults.js';
import { LeasedLog } from '../../src/cluster/leased-log.js';
import { queueStream } from '../../src/store/store.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { PushqService } from '../../src/server/service.js';
import { FileStore } from '../../src/store/file-store.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const dirs: string[] = [];
const workers: Worker[] = [];
const services: PushqService[] = [];

afterAll(async () => {
  for (const s of services) await s.close(0).catch(() => undefined);
  for (const w of workers) await w.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A CreateTask of `name` due at `dueAtMs` (wall clock). */
async function create(service: PushqService, name: string, dueAtMs = Date.now()): Promise<number> {
  const res = await fetch(`${service.url}/v2/projects/p/locations/l/queues/default/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/default/tasks/${name}`, scheduleTime: new Date(dueAtMs).toISOString(), appEngineHttpRequest: { relativeUri: `/x/${name}` } } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('LeasedLog', () => {
  it('past its validity the queue dispatches nothing and takes no create; a renewal lets it carry on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pushq-leased-'));
    dirs.push(dir);
    const w = await startWorker(() => 200);
    workers.push(w);
    const store = new FileStore(dir);
    const stream = queueStream('default');
    const lease = (await store.acquire(stream, 'n1', 60_000))!;
    const header = await store.ensureStream(stream, { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
    const log = new LeasedLog(store, stream, header, lease);
    log.validUntilMs = performance.now() + 60_000;
    const service = await PushqService.start({ config: defaultQueueFileConfig(), targets: { default: { scaling: 'automatic', url: w.url } }, log, grpcPort: null });
    services.push(service);

    // One due time for the five, fixed before they are created, with room for five creates on a
    // loaded machine (it was 600 ms after each create: at load 16 the first fell due, and was
    // sent, before the lease was cut).
    const dueAtMs = Date.now() + 3000;
    for (let i = 0; i < 5; i++) expect(await create(service, `later${i}`, dueAtMs)).toBe(200);
    // The lease "runs out" before the tasks are due, as if no renewal came back (a pause, a partition).
    log.validUntilMs = performance.now() + 100;
    expect(Date.now() + 100, 'the lease is cut before the tasks are due').toBeLessThan(dueAtMs);
    // Past their due time (by a second), with the lease run out: nothing went out.
    await new Promise((r) => setTimeout(r, dueAtMs + 1000 - Date.now()));
    expect(w.received).toEqual([]);
    expect(log.valid).toBe(false);
    expect(await create(service, 'refused')).toBe(503);

    // A renewal came back: the held queue gets its room at the next background flush, and dispatches.
    log.validUntilMs = performance.now() + 60_000;
    await w.waitFor((r) => r.filter((x) => x.url.startsWith('/x/later')).length === 5, EVENT_BOUND_MS, 'the five held tasks');
    expect(await create(service, 'after')).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/x/after'), EVENT_BOUND_MS, 'a new task');
    expect(w.received.some((x) => x.url === '/x/refused')).toBe(false);
  }, 30_000);
});
