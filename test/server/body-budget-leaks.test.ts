/**
 * Every way a request's body can end gives its bytes back to the service's body budget
 * (body-budget.ts, grpc/call-bounds.ts). A path that took bytes and never gave them back would fill
 * the budget a little at a time, until the service refused every body for good (SERVER_BUSY); one
 * that gave them back twice would let the held total go below zero, and so past the bound. Each
 * path is driven many times against the real ports with a small budget; then nothing is held, the
 * total never went below zero, and ordinary calls pass.
 */
import { request } from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import type { BodyBudget } from '../../src/server/body-budget.js';
import { PushqService } from '../../src/server/service.js';
import { addRequest, encodeMessage, envelope, RPC_HEADERS } from '../helpers/remote-api.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const KiB = 1024;
const BUDGET = 1024 * KiB;
const REQUEST_MS = 2000;
const ROUNDS = 12;
const QUEUE = '/v2/projects/p/locations/l/queues/held/tasks';
const CREATE_TASK = '/google.cloud.tasks.v2.CloudTasks/CreateTask';

let worker: Worker;
let service: PushqService;
let lowest = 0;

beforeAll(async () => {
  worker = await startWorker(() => 200);
  const parsed = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' });
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: parsed.config!, targets: { default: { scaling: 'automatic', url: worker.url } }, log, limits: { bodyBytesMax: BUDGET, requestTimeoutMs: REQUEST_MS, headersTimeoutMs: 1000, grpcIdleMs: 1000 } });
  // Every give is watched: the held total must never go below zero (a double release).
  const budget = (service as unknown as { bodies: BodyBudget }).bodies;
  const give = budget.give.bind(budget);
  budget.give = (n: number): void => {
    give(n);
    lowest = Math.min(lowest, budget.heldBytes);
  };
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
});

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Until nothing is held (a held body is given back at the latest at the request timeout). */
async function nothingHeld(within = EVENT_BOUND_MS): Promise<void> {
  const by = Date.now() + within;
  while (service.bodyBytesHeld !== 0 && Date.now() < by) await pause(20);
  expect(service.bodyBytesHeld).toBe(0);
  expect(lowest).toBe(0);
}

/** A CreateTask body of about `payload` bytes. */
function createBody(payload: number): Buffer {
  return Buffer.from(JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/w', body: Buffer.alloc(payload, 0x61).toString('base64') } } }));
}

interface Sent {
  status: Promise<number>;
  destroy(): void;
}

/** A POST to the HTTP port: `chunks` written one by one (`end`: then ended), headers as given. */
function post(path: string, headers: Record<string, string>, chunks: Buffer[], end: boolean, agent?: import('node:http').Agent): Sent {
  const req = request(`${service.url}${path}`, { method: 'POST', headers, ...(agent === undefined ? {} : { agent }) });
  const status = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(-2));
    });
    req.on('error', () => resolve(-1));
  });
  for (const c of chunks) req.write(c);
  if (end) req.end();
  return { status, destroy: () => req.destroy() };
}


test('HTTP port: every way a body ends gives its bytes back', async () => {
  const json = { 'content-type': 'application/json' };
  const body = createBody(60_000);
  for (let round = 0; round < ROUNDS; round++) {
    const sent: Sent[] = [];
    // The client goes away part way through its body.
    const aborted = post(QUEUE, { ...json, 'content-length': String(body.length) }, [body.subarray(0, 50_000)], false);
    // Too large, sent chunked (no Content-Length): read up to the cap, then 413.
    sent.push(post(QUEUE, { ...json, 'transfer-encoding': 'chunked' }, [Buffer.alloc(200 * KiB, 0x20), Buffer.alloc(200 * KiB, 0x20)], true));
    // Too large by its Content-Length: refused unread.
    sent.push(post(QUEUE, { ...json, 'content-length': String(300 * KiB) }, [Buffer.alloc(300 * KiB, 0x20)], true));
    // Read whole, then refused: not JSON; an unknown queue; a bad field.
    sent.push(post(QUEUE, json, [Buffer.from('{not json')], true));
    sent.push(post('/v2/projects/p/locations/l/queues/nowhere/tasks', json, [body], true));
    sent.push(post(QUEUE, json, [Buffer.from(JSON.stringify({ task: { appEngineHttpRequest: { httpMethod: { toString: 0 } } } }))], true));
    // Refused before its body is read: a foreign Host, a foreign Origin, a refused content type, no such path.
    sent.push(post(QUEUE, { ...json, host: 'evil.example' }, [body], true));
    sent.push(post(QUEUE, { ...json, origin: 'https://evil.example' }, [body], true));
    sent.push(post(QUEUE, { 'content-type': 'text/plain' }, [body], true));
    sent.push(post('/nowhere', json, [body], true));
    // /rpc_http: a whole call, one cut part way, one that is not a call.
    const call = envelope('taskqueue', 'Add', encodeMessage('AddRequest', addRequest('held', { body: Buffer.alloc(50_000, 0x61) })));
    sent.push(post('/rpc_http', RPC_HEADERS, [Buffer.from(call)], true));
    const cut = post('/rpc_http', { ...RPC_HEADERS, 'content-length': String(call.byteLength) }, [Buffer.from(call.subarray(0, 30_000))], false);
    sent.push(post('/rpc_http', RPC_HEADERS, [Buffer.alloc(40_000, 0xff)], true));
    // A whole create, answered.
    sent.push(post(QUEUE, json, [body], true));
    await pause(50);
    aborted.destroy();
    cut.destroy();
    const statuses = await Promise.all(sent.map((s) => s.status));
    expect(statuses.every((s) => s !== 0)).toBe(true);
  }
  await nothingHeld();
}, 60_000);

test('HTTP port: bodies on one kept-alive connection, and bodies refused past the budget, give theirs back', async () => {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const json = { 'content-type': 'application/json' };
  const body = createBody(100_000);
  try {
    for (let i = 0; i < ROUNDS * 2; i++) expect(await post(QUEUE, json, [body], true, agent).status).toBe(200);
    expect(service.bodyBytesHeld).toBe(0);
    for (let round = 0; round < ROUNDS; round++) {
      // Uploads held one byte short until the budget is nearly full; then more are refused.
      const held = Array.from({ length: Math.floor(BUDGET / body.length) }, () => post(QUEUE, { ...json, 'content-length': String(body.length) }, [body.subarray(0, body.length - 1)], false));
      const by = Date.now() + 15_000;
      while (service.bodyBytesHeld < held.length * (body.length - 1) && Date.now() < by) await pause(10);
      expect(service.bodyBytesHeld).toBe(held.length * (body.length - 1));
      const refused = await Promise.all([0, 1, 2].map(() => post(QUEUE, json, [body], true).status));
      expect(refused).toEqual([503, 503, 503]);
      // The held ones go away, their last byte never sent.
      for (const h of held) h.destroy();
      await nothingHeld();
    }
  } finally {
    agent.destroy();
  }
  await nothingHeld();
}, 60_000);

/** A raw gRPC call on `session`: `sent` written, half-closed if `end`, headers as given. */
function grpcCall(session: http2.ClientHttp2Session, sent: Buffer, end: boolean, headers: Record<string, string> = {}): { stream: http2.ClientHttp2Stream; status: Promise<string | undefined> } {
  const stream = session.request({ ':method': 'POST', ':path': CREATE_TASK, 'content-type': 'application/grpc', te: 'trailers', ...headers }, { endStream: false });
  stream.on('error', () => undefined);
  stream.on('data', () => undefined);
  let status: string | undefined;
  stream.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
  stream.on('trailers', (h) => (status ??= h['grpc-status'] as string | undefined));
  stream.write(sent);
  if (end) stream.end();
  return { stream, status: new Promise((r) => stream.once('close', () => r(status))) };
}

/** A gRPC-framed message of `size` bytes (its prefix says `declared`). */
function framed(size: number, declared = size): Buffer {
  const b = Buffer.alloc(5 + size);
  b.writeUInt32BE(declared, 1);
  return b;
}

test('gRPC port: every way a call ends gives its bytes back', async () => {
  const sessions: http2.ClientHttp2Session[] = [];
  const connect = (): http2.ClientHttp2Session => {
    const session = http2.connect(`http://127.0.0.1:${service.grpcPort}`);
    session.on('error', () => undefined);
    sessions.push(session);
    return session;
  };
  const message = framed(100_000);
  const part = message.subarray(0, 60_000);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const session = connect();
      const calls = [
        // Cancelled by the client part way (RST_STREAM CANCEL).
        grpcCall(session, part, false),
        // Its request never whole: answered DEADLINE_EXCEEDED at the request timeout and reset.
        grpcCall(session, part, false),
        // The client's own deadline (grpc-timeout) passes first; it never half-closes.
        grpcCall(session, part, false, { 'grpc-timeout': '200m' }),
        // A message above the cap (RESOURCE_EXHAUSTED), more bytes sent after, never half-closed.
        grpcCall(session, framed(100_000, 300 * KiB), false),
        // Whole but not a valid CreateTask: refused by the handler.
        grpcCall(session, message, true),
      ];
      await pause(30);
      calls[0]!.stream.close(http2.constants.NGHTTP2_CANCEL);
      calls[3]!.stream.write(Buffer.alloc(100_000));
      // A second connection dies part way through its call.
      const dying = connect();
      grpcCall(dying, part, false);
      await pause(30);
      dying.destroy();
    }
    // Each was given back at the latest at the request timeout, though its connection is still open.
    await nothingHeld();
  } finally {
    for (const s of sessions) s.destroy();
  }
  const client = grpcClient(service.grpcPort!);
  try {
    const [task] = await client.createTask({ parent: 'projects/p/locations/l/queues/held', task: { appEngineHttpRequest: { relativeUri: '/w', body: Buffer.alloc(100_000, 0x61) } } });
    expect(task.name).toMatch(/\/queues\/held\/tasks\//);
  } finally {
    await client.close();
  }
  expect(service.bodyBytesHeld).toBe(0);
  const res = await fetch(`${service.url}${QUEUE}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: createBody(100_000) });
  expect(res.status).toBe(200);
}, 60_000);
