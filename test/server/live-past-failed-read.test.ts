/**
 * A read of `?at=` that fails part way through what the live log gained (src/server/read-source.ts):
 * a damaged batch in the log file (LOG_CORRUPT) found after the read on its thread had already
 * handed chunks of events before it to the index. The index must not keep those events while its
 * position stays where it was: the next read took them again, and failed ("event N does not apply
 * to the state before it: TaskAdded id ... out of sequence", INTERNAL_ERROR), as every read of the
 * past did after it until the service restarted. Now the next read starts over.
 *
 * In process, a `pushq serve --data`-like service on a file log; the damage is one byte of a batch
 * well inside what was gained, put back after the failed read.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { damageAfter, startHeldFileService, type HeldFileService } from '../helpers/held-file-service.js';

let held: HeldFileService;
let log: HeldFileService['log'];
let get: HeldFileService['get'];
let addTasks: HeldFileService['addTasks'];

beforeAll(async () => {
  held = await startHeldFileService('pushq-live-past-failed-');
  ({ log, get, addTasks } = held);
}, 60_000);

afterAll(async () => {
  await held?.close();
});

it('a read that failed part way leaves nothing of what it took: the next read counts each event once', { timeout: 120_000 }, async () => {
  await addTasks(10_000);
  expect((await get('/pushq/dashboard.json?at=0')).status).toBe(200); // the index exists, up to here
  const before = statSync(log.path).size;
  await addTasks(200_000); // several MiB gained: read on a thread, in chunks
  const size = statSync(log.path).size;
  const restore = damageAfter(log.path, before + Math.floor((size - before) * 0.8));
  const end = (await get('/pushq/timeline.json')).json.endSeconds as number;
  const failed = await get(`/pushq/dashboard.json?at=${end}`);
  expect(failed.status, JSON.stringify(failed.json)).not.toBe(200);
  expect(JSON.stringify(failed.json)).toContain('corrupt log at byte');
  restore();
  const answer = await get(`/pushq/dashboard.json?at=${end}`);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(answer.json.events).toBe(log.length);
  expect(answer.json.summary.held.tasks_total).toBe(210_000);
});
