/**
 * The API under idle, silent and slow clients (connection-limits.ts; docs/serve.md, Faults). The
 * service runs in this process; the bad clients in a child process (test/helpers/connection-flood.mjs),
 * so each side's sockets count against its own file-descriptor limit (10,000 of them on both sides
 * of one process would be 20,000).
 * - 10,000 idle connections, with the default limits: pushq keeps answering other clients
 *   promptly while they are open, and closes them all (408) once the headers timeout passes;
 *   the sockets are freed and the memory they held is given back.
 * - the timeouts' defaults (10 s / 30 s) and PUSHQ_HEADERS_TIMEOUT_MS, read from the port pushq opens.
 * - slowloris (headers a byte at a time) and slow bodies: cut at the headers / request timeout.
 * - the bound: past `connectionsMax` a new connection is closed at once, and pushq carries on.
 */
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { afterAll, expect, test } from 'vitest';
import { CONNECTIONS_CHECK_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, apiConnectionsMax, defaultApiServerLimits, headersTimeoutMs, openFilesLimit, type ApiServerLimits } from '../../src/server/connection-limits.js';
import { PushqService } from '../../src/server/service.js';
import { Flood } from '../helpers/flood.js';
import { startLimitedService } from '../helpers/limited-service.js';
import { startWorker } from '../helpers/worker.js';

const worker = await startWorker(() => 200);
afterAll(() => worker.close());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const IDLE = 10_000;

function startService(limits?: Partial<ApiServerLimits>): Promise<PushqService> {
  return startLimitedService(worker.url, limits);
}

/** A well-behaved client: a CreateTask and a queue read; returns the slower of the two, ms. */
async function politeClient(url: string): Promise<number> {
  let slowest = 0;
  for (const [method, path, body] of [
    ['POST', '/v2/projects/p/locations/l/queues/default/tasks', JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/polite' } } })],
    ['GET', '/v2/projects/p/locations/l/queues/default', undefined],
  ] as const) {
    const t0 = performance.now();
    const res = await request(`${url}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body } : {}) });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    slowest = Math.max(slowest, performance.now() - t0);
  }
  return slowest;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

function heapMiB(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test('the connection bound follows the file-descriptor limit', () => {
  expect(apiConnectionsMax(null)).toBe(16_384);
  expect(apiConnectionsMax(1024)).toBe(512);
  expect(apiConnectionsMax(4096)).toBe(3072);
  expect(apiConnectionsMax(20_000)).toBe(16_384);
  expect(apiConnectionsMax(Infinity)).toBe(16_384);
  // This machine's limit must allow this test's 10,000 idle connections (it does in CI: `ulimit -n` is 20,000).
  expect(apiConnectionsMax(openFilesLimit())).toBeGreaterThan(IDLE + 100);
});

test(`${IDLE.toLocaleString('en')} idle connections: other clients are served meanwhile, and the idle ones are closed at the headers timeout`, async () => {
  // The headers timeout is 30 s here, not the default 10 s: opening 10,000 connections takes this
  // loaded 2-core machine ~11 s, so with 10 s the first would be closed before the last opened,
  // and the test wants all of them held at once. The default's own effect is the next test's.
  const headersTimeoutMs = 30_000;
  const service = await startService({ headersTimeoutMs, requestTimeoutMs: headersTimeoutMs });
  const fdsBefore = openFds();
  const heapBefore = heapMiB();
  const flood = new Flood(service.port, 'idle', IDLE);
  try {
    const opened = await flood.until((s) => s.opened + s.failed === IDLE, 30_000, 'the idle connections to open');
    expect(opened.failed, JSON.stringify(opened.errors)).toBe(0);
    expect(opened.closed).toBe(0);
    // Held by the server itself (accepted, each a socket of this process): counted by the server,
    // not by this process's descriptors, which other sockets closing meanwhile would blur. The
    // client counts a connection opened once the kernel completes the handshake, which may be
    // before the server's accept loop has taken it from the backlog (a CI run read 9,944 at that
    // instant), so the server is given until its accept loop catches up.
    const acceptedBy = Date.now() + 20_000;
    let held = await service.openConnections();
    while (held < IDLE && Date.now() < acceptedBy) {
      await new Promise((r) => setTimeout(r, 100));
      held = await service.openConnections();
    }
    expect(held).toBeGreaterThanOrEqual(IDLE);
    const heapHeld = heapMiB() - heapBefore;
    // Served while every idle connection is held.
    let slowest = 0;
    for (let i = 0; i < 10; i++) slowest = Math.max(slowest, await politeClient(service.url));
    expect(slowest).toBeLessThan(2000);
    const closed = await flood.until((s) => s.closed === IDLE, headersTimeoutMs + 30_000, 'the idle connections to be closed');
    // Closed by the headers timeout (with a 408), not before it.
    expect(closed.answered408).toBe(IDLE);
    expect(closed.closedAtMs![0]).toBeGreaterThanOrEqual(headersTimeoutMs - 1000);
    expect(openFds() - fdsBefore).toBeLessThan(50);
    // The server lets go of a closed connection's objects as its sockets' close handlers run, which
    // may come a moment after the client saw the close (a clean-clone run read 9.5 MiB still held
    // right then): given up to 5 s, collected each 250 ms.
    const released = Math.max(5, heapHeld / 4);
    let heapAfter = heapMiB() - heapBefore;
    for (const by = Date.now() + 5000; heapAfter >= released && Date.now() < by; heapAfter = heapMiB() - heapBefore) await new Promise((r) => setTimeout(r, 250));
    process.stdout.write(`${IDLE} idle connections held ${heapHeld.toFixed(1)} MiB of heap (${((heapHeld * 2 ** 20) / IDLE).toFixed(0)} B each); ${heapAfter.toFixed(1)} MiB after they were closed; slowest polite request ${slowest.toFixed(0)} ms\n`);
    expect(heapAfter).toBeLessThan(released);
    expect(await politeClient(service.url)).toBeLessThan(2000);
  } finally {
    await flood.stop();
    await service.close(1000);
  }
}, 120_000);

test('the client ports\' timeouts: headers within 10 s and the whole request within 30 s by default; PUSHQ_HEADERS_TIMEOUT_MS sets the headers timeout, from 1 s to the request timeout', async () => {
  expect(HEADERS_TIMEOUT_MS).toBe(10_000);
  const limits = defaultApiServerLimits();
  expect([limits.headersTimeoutMs, limits.requestTimeoutMs]).toEqual([10_000, 30_000]);
  expect(['2000', '1000', '30000', '999', '30001', '2.5', 'soon', ''].map((v) => headersTimeoutMs({ PUSHQ_HEADERS_TIMEOUT_MS: v }))).toEqual([2000, 1000, 30_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  expect(headersTimeoutMs({})).toBe(10_000);
  // A service started without limits runs its port with these: Node's server reports what it enforces.
  const service = await startService();
  try {
    const server = (service as unknown as { server: Server }).server;
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([10_000, 30_000, KEEP_ALIVE_TIMEOUT_MS]);
  } finally {
    await service.close(1000);
  }
});

// The timeouts' effect, with short ones (the defaults are the test above's): Node checks them every
// CONNECTIONS_CHECK_MS, whatever their values. 5 s apart, more than the slack below, so a
// slowloris held to the request timeout, or a slow body cut at the headers timeout, fails.
test('slowloris headers are cut at the headers timeout and slow bodies at the request timeout, while others are served', async () => {
  const limits = { headersTimeoutMs: 3000, requestTimeoutMs: 8000 };
  const service = await startService(limits);
  const loris = new Flood(service.port, 'slowloris', 200, 100);
  const body = new Flood(service.port, 'slowbody', 100, 100);
  try {
    await loris.until((s) => s.opened === 200, 20_000, 'slowloris connections');
    await body.until((s) => s.opened === 100, 20_000, 'slow-body connections');
    let slowest = 0;
    for (let i = 0; i < 5; i++) slowest = Math.max(slowest, await politeClient(service.url));
    expect(slowest).toBeLessThan(2000);
    const l = await loris.until((s) => s.closed === 200, 30_000, 'slowloris connections to be cut');
    const b = await body.until((s) => s.closed === 100, 30_000, 'slow bodies to be cut');
    const slack = CONNECTIONS_CHECK_MS + 3000; // the check runs every second; a loaded machine adds its own delay
    expect(l.closedAtMs![0]).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 200);
    expect(l.closedAtMs![1]).toBeLessThan(limits.headersTimeoutMs + slack);
    expect(b.closedAtMs![0]).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 200);
    expect(b.closedAtMs![1]).toBeLessThan(limits.requestTimeoutMs + slack);
  } finally {
    await loris.stop();
    await body.stop();
    await service.close(1000);
  }
}, 60_000);

test('past the connection bound a new connection is closed at once; pushq carries on and serves again once room frees', async () => {
  const limits = { headersTimeoutMs: 3000, requestTimeoutMs: 3000, connectionsMax: 300 };
  const service = await startService(limits);
  const flood = new Flood(service.port, 'idle', 500);
  try {
    // 300 held; the other 200 closed by pushq as soon as they were accepted.
    const s = await flood.until((x) => x.opened + x.failed === 500 && x.closed >= 200, 20_000, 'the connections past the bound to be closed');
    expect(s.closed).toBe(200);
    expect(s.closedAtMs![0]).toBeLessThan(1000);
    // Once the held ones time out, pushq serves again.
    await flood.until((x) => x.closed === 500, 20_000, 'the held connections to time out');
    expect(await politeClient(service.url)).toBeLessThan(2000);
  } finally {
    await flood.stop();
    await service.close(1000);
  }
}, 60_000);
