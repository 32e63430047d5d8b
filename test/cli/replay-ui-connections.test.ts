/**
 * `pushq replay LOG --ui`'s port under idle and slowloris clients: the limits of `pushq serve`'s
 * API (connection-limits.ts; docs/replay.md). Its server was a bare `createServer`: an idle
 * connection was held for Node's default minute and nothing bounded them. Now headers within
 * 10 s, or 408 and the connection closed. It runs with PUSHQ_HEADERS_TIMEOUT_MS=2000
 * (connection-limits.ts headersTimeoutMs; its 10 s default is pinned in
 * test/server/api-connections.test.ts): the variable reaches the defaults alone, so a port with
 * other limits than serve's API, or none, still fails here, in 2 s rather than 10.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectSlowClientsClosedAtHeadersTimeout } from '../helpers/flood.js';
import { RECORDED_QUEUE_YAML, recordLog, startReplayUi, type ReplayUiProcess } from '../helpers/replay-ui-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';

const HEADERS_TIMEOUT_MS = 2000;
let dir: string;
let worker: Worker;
let ui: ReplayUiProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-replay-ui-connections-'));
  worker = await startWorker((r) => (r.url.startsWith('/fail/') ? 500 : 200)); // as recordLog's workload expects
  await writeFile(join(dir, 'queue.yaml'), RECORDED_QUEUE_YAML);
  ui = await startReplayUi(await recordLog(dir, worker, join(dir, 'queue.yaml')), [], undefined, { PUSHQ_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
}, 90_000);

afterAll(async () => {
  ui?.child.kill('SIGKILL');
  await ui?.exited;
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

it('closes idle and slowloris connections at the headers timeout (408), and answers others meanwhile', async () => {
  const port = Number(new URL(ui!.url).port);
  await expectSlowClientsClosedAtHeadersTimeout(port, HEADERS_TIMEOUT_MS, 'pushq replay', async () => {
    expect((await fetch(`${ui!.url}/pushq/dashboard.json`)).status).toBe(200);
  });
}, 90_000);
