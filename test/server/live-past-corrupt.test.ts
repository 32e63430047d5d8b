/**
 * A live service whose log file is damaged (a bad disk, an edit) under it: a read of the past
 * (`?at=`) cannot read the log. It answers the log's own error, as `pushq replay` names it
 * (LOG_CORRUPT, docs/errors.md), with the file, line and byte, as DATA_LOSS (HTTP 500): the log
 * lost data, pushq has no bug. Before, it answered INTERNAL_ERROR ("a bug"). The service goes on
 * serving its present, and the past once the log reads again.
 *
 * In process, a `pushq serve --data`-like service on a file log; one byte of an event is changed,
 * then put back. Both ways of reading the past: the first read (the whole log, on a thread) and a
 * later one taking what the log gained (on the calling thread). And a file moved away under the
 * service after a first read: LOG_NOT_FOUND, as the reader names it (before, the size check of
 * what the log gained threw a raw ENOENT: 500 INTERNAL_ERROR, "a bug").
 */
import { renameSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { damageAfter, startHeldFileService, type HeldFileService } from '../helpers/held-file-service.js';

let held: HeldFileService;

beforeAll(async () => {
  held = await startHeldFileService('pushq-live-past-corrupt-');
}, 60_000);

afterAll(async () => {
  await held?.close();
});

async function expectLogCorrupt(path: string): Promise<void> {
  const failed = await held.get(path);
  expect(failed.status, JSON.stringify(failed.json)).toBe(500);
  expect(failed.json.error.status).toBe('DATA_LOSS');
  expect(failed.json.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'LOG_CORRUPT', domain: 'pushq' });
  expect(failed.json.error.message).toContain(held.log.path);
  expect(failed.json.error.message).toMatch(/corrupt log at byte \d+/);
  expect(failed.json.error.message).toMatch(/\(LOG_CORRUPT\)$/);
  // The present is still served, and new tasks taken.
  expect((await held.get('/pushq/health')).status).toBe(200);
  expect((await held.get('/pushq/dashboard.json')).status).toBe(200);
}

it('the first read of the past over a damaged log answers LOG_CORRUPT naming the file and byte, and the service goes on', { timeout: 60_000 }, async () => {
  await held.addTasks(20_000);
  const restore = damageAfter(held.log.path, Math.floor(statSync(held.log.path).size / 2));
  await expectLogCorrupt('/pushq/dashboard.json?at=0');
  restore();
  const answer = await held.get('/pushq/dashboard.json?at=0');
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
});

it('a later read over damage in what the log gained answers the same', { timeout: 60_000 }, async () => {
  const before = statSync(held.log.path).size;
  await held.addTasks(10_000); // under a MiB gained: read on the calling thread
  const restore = damageAfter(held.log.path, before + Math.floor((statSync(held.log.path).size - before) / 2));
  const end = (await held.get('/pushq/timeline.json')).json.endSeconds as number;
  await expectLogCorrupt(`/pushq/dashboard.json?at=${end}`);
  restore();
  const answer = await held.get(`/pushq/dashboard.json?at=${end}`);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(answer.json.summary.held.tasks_total).toBe(30_000);
});

it('a later read once the log file is gone (moved away under the service) answers LOG_NOT_FOUND naming it, and the service goes on', { timeout: 60_000 }, async () => {
  expect((await held.get('/pushq/dashboard.json?at=0')).status).toBe(200); // the index exists: the next read takes what the log gained
  await held.addTasks(10_000);
  const path = held.log.path;
  renameSync(path, `${path}.away`); // the service still writes through its open file
  try {
    // Twice: the read that takes what the log gained, then one that reads the log from its start.
    for (const read of ['gained', 'again']) {
      const failed = await held.get('/pushq/dashboard.json?at=0');
      expect(failed.status, `${read}: ${JSON.stringify(failed.json)}`).toBe(500);
      expect(failed.json.error.status, read).toBe('DATA_LOSS');
      expect(failed.json.error.details, read).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'LOG_NOT_FOUND', domain: 'pushq' });
      expect(failed.json.error.message, read).toContain(`${path}: no such file`);
    }
    expect((await held.get('/pushq/health')).status).toBe(200);
    expect((await held.get('/pushq/dashboard.json')).status).toBe(200);
  } finally {
    renameSync(`${path}.away`, path);
  }
  const answer = await held.get('/pushq/dashboard.json?at=0');
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  const end = (await held.get('/pushq/timeline.json')).json.endSeconds as number;
  expect((await held.get(`/pushq/dashboard.json?at=${end}`)).json.summary.held.tasks_total).toBe(40_000);
});
