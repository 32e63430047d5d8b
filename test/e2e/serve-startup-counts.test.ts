/**
 * Bug: the startup line of `pushq serve` said "replayed 1 events, 1 interrupted attempts to retry".
 * Each count of the startup and stop lines agrees with its number: 1 event, 1 interrupted attempt,
 * 1 attempt still in flight; 0 and 2 or more in the plural.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRawWorker, type RawWorker } from '../helpers/raw-worker.js';
import { api, startServe } from '../helpers/serve-process.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let silent: RawWorker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-counts-'));
  silent = await startRawWorker(() => undefined); // takes each request and never answers
});

afterAll(async () => {
  await silent?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('a log of 1 event: "replayed 1 event"', async () => {
  const data = join(dir, 'one-event');
  const first = await startServe(['--data', data]);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  const second = await startServe(['--data', data]);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(second.stdout()).toContain(' (replayed 1 event, 0 interrupted attempts to retry) · ');
});

it('1 attempt in flight at a stop: "1 attempt still in flight", then "1 interrupted attempt to retry" at the next start', async () => {
  const data = join(dir, 'one-attempt');
  const args = ['--data', data, '--target', `default=${silent.url}`, '--drain-seconds', '0.2'];
  const first = await startServe(args);
  expect((await api('POST', `${first.api}/default/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/never-answered' } } })).status).toBe(200);
  await expect.poll(() => silent.requests.length, { timeout: EVENT_BOUND_MS }).toBe(1);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  expect(first.stdout()).toMatch(/pushq serve: stopped \(1 attempt still in flight will be retried at the next start\)\n$/);

  const second = await startServe(args);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(second.stdout()).toMatch(/ \(replayed \d+ events, 1 interrupted attempt to retry\) · /);
});
