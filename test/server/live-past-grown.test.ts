/**
 * The past of a live service kept in a file (`pushq serve --data`) after its log grew much since
 * the last read of `?at=`: what it gained is read on a thread of its own and folded a chunk per
 * turn, as the first read is (src/server/read-source.ts), so the service answers other requests
 * meanwhile. Before, it was read and folded in one go on the event loop, holding every request for
 * as long. A little gained is still read in one go (a thread costs more than that).
 *
 * In process, the service and this test on one event loop: a health check held by the service is
 * held here too, which is what is measured. The figures are printed (console.info).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog, type FileEventLog } from '../../src/log/file-log.js';
import { PushqService } from '../../src/server/service.js';

/** Tasks added to a paused queue after the first read: one event each, nothing after. */
const TASKS = 200_000;

let dir: string;
let service: PushqService;
let log: FileEventLog;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-live-past-grown-'));
  const parsed = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' });
  log = await createFileEventLog(join(dir, 'events.log'), { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' }, { durable: false });
  service = await PushqService.start({ config: parsed.config!, targets: {}, log, grpcPort: null });
}, 60_000);

afterAll(async () => {
  await service?.close(1000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await fetch(`${service.url}${path}`);
  return { status: res.status, json: (await res.json()) as any };
};

const addTasks = async (n: number) => {
  for (let added = 0; added < n; added += 10_000) {
    service.driver.run((k) => {
      for (let b = 0; b < 100; b++) k.addTasks(Array.from({ length: 100 }, () => ({ queue: 'held' }))); // 100 a batch at most
    });
    await new Promise((r) => setTimeout(r, 1)); // spread over a few instants
  }
  await log.flush();
};

it('answers /pushq/health while a read of ?at= takes what the log gained since the last read, and takes all of it', { timeout: 120_000 }, async () => {
  await addTasks(10_000);
  expect((await get('/pushq/dashboard.json?at=0')).status).toBe(200); // the first read: the index exists
  await addTasks(TASKS);
  const end = (await get('/pushq/timeline.json')).json.endSeconds as number;
  const started = performance.now();
  let answeredMs: number | null = null;
  const read = get(`/pushq/dashboard.json?at=${end}`).then((r) => ((answeredMs = performance.now() - started), r));
  const healthMs: number[] = [];
  while (answeredMs === null) {
    const sent = performance.now();
    expect((await get('/pushq/health')).status).toBe(200);
    healthMs.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 5));
  }
  const answer = await read;
  const sorted = [...healthMs].sort((a, b) => a - b);
  console.info(`a read of ?at= after the log gained ${TASKS} events answered in ${(answeredMs as number).toFixed(0)} ms; /pushq/health answered ${sorted.length} times meanwhile, median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(answer.json.events).toBe(log.length);
  expect(answer.json.summary.held.tasks_total).toBe(TASKS + 10_000);
  expect(healthMs.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...healthMs)).toBeLessThan((answeredMs as number) / 2);
  // A little more: read in one go, and counted once.
  await addTasks(100);
  expect((await get(`/pushq/dashboard.json?at=${(await get('/pushq/timeline.json')).json.endSeconds}`)).json.events).toBe(log.length);
});
