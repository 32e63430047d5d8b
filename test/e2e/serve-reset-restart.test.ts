/**
 * A reset's full token bucket survives a restart: `pushq serve --data --allow-reset` with a real
 * worker on 127.0.0.1, a queue at 1/m with bucket_size 2. The tokens are spent, `POST /pushq/reset`
 * fills the bucket, the service stops and starts again on the same data directory (the state is
 * folded from the file log), and a burst of three then sends two at once and holds the third for
 * a token, as the service before the restart would have. The reset is in the log as one fact
 * (QueuePurged with refillBucket); before it was logged, the drained bucket came back at the
 * restart and the burst waited about half a minute per task.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir = '';
let worker: Worker;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-reset-restart-'));
  writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: q\n  rate: 1/m\n  bucket_size: 2\n');
  worker = await startWorker(() => 200);
});

afterAll(async () => {
  if (serve !== undefined) await stop(serve);
  await worker?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function stop(s: ServeProcess): Promise<void> {
  s.child.kill('SIGTERM');
  await s.exited;
  serve = undefined;
}

async function add(s: ServeProcess, uri: string): Promise<void> {
  const r = await api('POST', `${s.api}/q/tasks`, { task: { appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

const arrived = (prefix: string): number => worker.received.filter((r) => r.url.startsWith(prefix)).length;

it('a restart after a reset keeps the full bucket: two of a burst at once, the third held for a token', async () => {
  const args = ['--config', join(dir, 'queue.yaml'), '--target', `default=${worker.url}`, '--data', join(dir, 'data'), '--allow-reset'];
  serve = await startServe(args);
  await add(serve, '/spent/1');
  await add(serve, '/spent/2');
  await worker.waitFor(() => arrived('/spent/') === 2, EVENT_BOUND_MS, 'both tokens spent');
  expect((await api('POST', `${serve.url}/pushq/reset`, {})).status).toBe(200);
  await stop(serve);

  const log = readFileSync(join(dir, 'data', 'events.log'), 'utf8');
  expect(log.match(/"type":"QueuePurged"[^\n]*"queue":"q","forgetNames":true,"refillBucket":true\}/g)).toHaveLength(1);

  serve = await startServe(args);
  await Promise.all([add(serve, '/after/1'), add(serve, '/after/2'), add(serve, '/after/3')]);
  await worker.waitFor(() => arrived('/after/') === 2, EVENT_BOUND_MS, 'two of the burst, from the full bucket');
  await new Promise((r) => setTimeout(r, 1_000));
  // 1/m: the third waits for a token (about a minute), so the bucket held 2, not more.
  expect(arrived('/after/')).toBe(2);
}, 60_000);
