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
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHeldFileService, type HeldFileService } from '../helpers/held-file-service.js';

/** Tasks added to a paused queue after the first read: one event each, nothing after. */
const TASKS = 200_000;

let held: HeldFileService;
let log: HeldFileService['log'];
let get: HeldFileService['get'];
let addTasks: HeldFileService['addTasks'];

beforeAll(async () => {
  held = await startHeldFileService('pushq-live-past-grown-');
  ({ log, get, addTasks } = held);
}, 60_000);

afterAll(async () => {
  await held?.close();
});

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
