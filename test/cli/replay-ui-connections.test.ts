/**
 * `pushq replay LOG --ui`'s port under idle and slowloris clients: the limits of `pushq serve`'s
 * API (connection-limits.ts; docs/replay.md). Its server was a bare `createServer`: an idle
 * connection was held for Node's default minute and nothing bounded them. Now headers within
 * 10 s, or 408 and the connection closed. It runs with PUSHQ_HEADERS_TIMEOUT_MS=2000
 * (connection-limits.ts headersTimeoutMs; its 10 s default is pinned in
 * test/server/api-connections.test.ts): the variable reaches the defaults alone, so a port with
 * other limits than serve's API, or none, still fails here, in 2 s rather than 10.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectSlowClientsClosedAtHeadersTimeout } from '../helpers/flood.js';
import { RECORDED_QUEUE_YAML, startReplayUi, type ReplayUiProcess } from '../helpers/replay-ui-process.js';
import { dashboardFixture } from '../helpers/dashboard-fixture.js';

const HEADERS_TIMEOUT_MS = 2000;
// The worker answers as recordLog's workload expects.
const fx = dashboardFixture('pushq-replay-ui-connections-', { queueYaml: RECORDED_QUEUE_YAML, worker: (r) => (r.url.startsWith('/fail/') ? 500 : 200), recordLog: true, serve: 'none', browser: 'none' });
let ui: ReplayUiProcess | undefined;

beforeAll(async () => {
  ui = await startReplayUi(fx.log, [], undefined, { PUSHQ_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
}, 90_000);

afterAll(async () => {
  ui?.child.kill('SIGKILL');
  await ui?.exited;
});

it('closes idle and slowloris connections at the headers timeout (408), and answers others meanwhile', async () => {
  const port = Number(new URL(ui!.url).port);
  await expectSlowClientsClosedAtHeadersTimeout(port, HEADERS_TIMEOUT_MS, 'pushq replay', async () => {
    expect((await fetch(`${ui!.url}/pushq/dashboard.json`)).status).toBe(200);
  });
}, 90_000);
