/**
 * gRPC calls that are started and never finished (connection-limits.ts; docs/serve.md, Faults).
 * A client that opens a call, sends its headers and part of the request message (or all of it but
 * never half-closes) and goes silent held its stream open for ever, and so its connection: the
 * idle timeout closes only a connection with no call in progress, and grpc-js waits for the
 * message without a bound (even its own `grpc-timeout` deadline answers and leaves the stream
 * open). Each such connection counted against the shared bound for good. Now a call's request
 * must arrive whole within `requestTimeoutMs` of its headers (the HTTP port's request timeout):
 * past it the call is answered DEADLINE_EXCEEDED, its stream reset, and the connection, then
 * idle, closed at the idle timeout. Raw HTTP/2 clients (node:http2) against the real port.
 */
import http2 from 'node:http2';
import { afterAll, expect, test } from 'vitest';
import type { ApiServerLimits } from '../../src/server/connection-limits.js';
import { PushqService } from '../../src/server/service.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { startLimitedService } from '../helpers/limited-service.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const worker = await startWorker(() => 200);
afterAll(() => worker.close());

function startService(limits?: Partial<ApiServerLimits>): Promise<PushqService> {
  return startLimitedService(worker.url, limits);
}

const CREATE_TASK = '/google.cloud.tasks.v2.CloudTasks/CreateTask';

/** A CreateTask request message (parent only: enough to be a real call), gRPC-framed. */
function framed(): Buffer {
  const parent = Buffer.from('projects/p/locations/l/queues/default');
  const message = Buffer.concat([Buffer.from([0x0a, parent.length]), parent]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface Stalled {
  status: Promise<string | undefined>;
  streamClosedAt: Promise<number>;
  sessionClosedAt: Promise<number>;
  destroy(): void;
}

/** Opens a connection with one CreateTask call that sends `sent` of its request and never half-closes. */
function stalledCall(port: number, sent: Buffer, headers: Record<string, string> = {}): Stalled {
  const t0 = Date.now();
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': CREATE_TASK, 'content-type': 'application/grpc', te: 'trailers', ...headers }, { endStream: false });
  stream.on('error', () => undefined);
  stream.on('data', () => undefined);
  stream.write(sent);
  let status: string | undefined;
  stream.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
  stream.on('trailers', (h) => (status ??= h['grpc-status'] as string | undefined));
  return {
    status: new Promise((r) => stream.once('close', () => r(status))),
    streamClosedAt: new Promise((r) => stream.once('close', () => r(Date.now() - t0))),
    sessionClosedAt: new Promise((r) => session.once('close', () => r(Date.now() - t0))),
    destroy: () => session.destroy(),
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

test('a call whose request never arrives whole is answered DEADLINE_EXCEEDED at the request timeout, and its connection then closed when idle', async () => {
  const service = await startService({ grpcIdleMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: 1500 });
  const whole = framed();
  const calls = [
    stalledCall(service.grpcPort!, whole.subarray(0, 3)), // part of the length prefix
    stalledCall(service.grpcPort!, whole.subarray(0, whole.length - 4)), // part of the message
    stalledCall(service.grpcPort!, whole), // all of it, never half-closed
  ];
  try {
    for (const call of calls) {
      expect(await within(call.status, EVENT_BOUND_MS, 'the stalled call to be answered and its stream closed')).toBe(String(4)); // DEADLINE_EXCEEDED
      expect(await call.streamClosedAt).toBeGreaterThanOrEqual(1400);
      // Idle once its only call is over: closed at the idle timeout (checked at most that long after).
      expect(await within(call.sessionClosedAt, EVENT_BOUND_MS, 'the connection to be closed')).toBeLessThan(EVENT_BOUND_MS);
    }
  } finally {
    for (const call of calls) call.destroy();
  }
  // The official client sends a unary call's request whole at once: unaffected.
  const client = grpcClient(service.grpcPort!);
  try {
    const [task] = await client.createTask({ parent: 'projects/p/locations/l/queues/default', task: { appEngineHttpRequest: { relativeUri: '/work' }, scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } } });
    expect(task.name).toMatch(/\/queues\/default\/tasks\//);
    // The stalled calls did nothing: that task is the queue's only one.
    const [tasks] = await client.listTasks({ parent: 'projects/p/locations/l/queues/default' });
    expect(tasks.map((t) => t.name)).toEqual([task.name]);
  } finally {
    await client.close();
    await service.close(1000);
  }
}, 60_000);

test('a call grpc-js answers before its request is whole (its own grpc-timeout, a message above the cap) is reset then, and its connection closed when idle', async () => {
  // Before, the interceptor dropped its deadline when grpc-js answered: the stream stayed open (and
  // its bytes counted in the body budget) for as long as the client kept it, and so its connection.
  const REQUEST_TIMEOUT_MS = 30_000;
  const service = await startService({ grpcIdleMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const whole = framed();
  const tooLarge = Buffer.alloc(5 + 1000);
  tooLarge.writeUInt32BE(300 * 1024, 1);
  const calls = [
    { call: stalledCall(service.grpcPort!, whole.subarray(0, whole.length - 4), { 'grpc-timeout': '300m' }), status: 4 }, // DEADLINE_EXCEEDED
    { call: stalledCall(service.grpcPort!, tooLarge), status: 8 }, // RESOURCE_EXHAUSTED
  ];
  try {
    for (const { call, status } of calls) {
      // Long before the request timeout, which would answer and close them had the reset not come.
      expect(await within(call.status, REQUEST_TIMEOUT_MS / 2, 'the call to be answered and its stream closed')).toBe(String(status));
      expect(await within(call.sessionClosedAt, REQUEST_TIMEOUT_MS / 2, 'the connection to be closed')).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
    }
    expect(service.bodyBytesHeld).toBe(0);
  } finally {
    for (const { call } of calls) call.destroy();
    await service.close(1000);
  }
}, 30_000);
