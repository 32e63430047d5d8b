/**
 * The request-body bytes a service holds at once (body-budget.ts; docs/serve.md, Faults). Each body
 * had a cap (an `/rpc_http` call 32 MiB, a REST body 256 KiB) and nothing bounded their sum: every
 * connection sending a large call slowly held its bytes until the request timeout, N connections
 * N times as much. Now, past the budget (shortened here), a body is refused at once (`/rpc_http`:
 * rpc_error OVER_QUOTA; REST and the dashboard's login: 503 SERVER_BUSY with Retry-After) while
 * the ones inside it are held, a refused call changes nothing, and the budget comes free when the
 * held bodies end.
 */
import { request, type ClientRequest } from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { RPC_ERROR, TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { PushqService } from '../../src/server/service.js';
import { addRequest, encodeMessage, envelope, postRpc, RPC_HEADERS } from '../helpers/remote-api.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { startHeldService } from '../helpers/limited-service.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const MiB = 1024 * 1024;
let worker: Worker;
let service: PushqService;

beforeAll(async () => {
  worker = await startWorker(() => 200);
  service = await startHeldService(worker.url, { bodyBytesMax: 10 * MiB });
  expect(service.grpcPort).not.toBeNull();
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
});

/** A valid BulkAdd of `tasks` tasks of 100,000 payload bytes each (~0.1 MB a task) to the queue `held` (rate 0: they stay). */
function bulkAdd(tasks: number): Uint8Array {
  const add_request = Array.from({ length: tasks }, () => addRequest('held', { body: Buffer.alloc(100_000, 0x61) }));
  return envelope('taskqueue', 'BulkAdd', encodeMessage('BulkAddRequest', { add_request }));
}

/** A client that sends all of `body` but its last byte and waits: a slow upload, held. */
function heldUpload(path: string, headers: Record<string, string>, body: Uint8Array): { req: ClientRequest; answered: Promise<number> } {
  const req = request(`${service.url}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(body.byteLength) } });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
  });
  req.write(body.subarray(0, body.byteLength - 1));
  return { req, answered };
}

const settled = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

/** Until the service's held body bytes reach `bytes` (they arrive over loopback in chunks). */
async function heldReaches(bytes: number): Promise<void> {
  const by = Date.now() + 10_000;
  while (service.bodyBytesHeld < bytes && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
  expect(service.bodyBytesHeld).toBeGreaterThanOrEqual(bytes);
}

test('/rpc_http: past the budget a call is refused OVER_QUOTA at once and does nothing; the held calls are not; the budget comes free after', async () => {
  const call = bulkAdd(30); // ~3 MB: three fit in 10 MiB, a fourth does not
  const held = [0, 1, 2].map(() => heldUpload('/rpc_http', RPC_HEADERS, call));
  try {
    await heldReaches(3 * (call.byteLength - 1));
    const events = service.kernel.state.eventsApplied;
    // Five more, whole and valid: each refused at once, not held (before: each held its ~3 MB too).
    for (let i = 0; i < 5; i++) {
      const r = await postRpc(service.url, call);
      expect(r.httpStatus).toBe(200);
      expect(r.response.rpc_error?.code).toBe(RPC_ERROR.OVER_QUOTA);
      expect(r.response.rpc_error.detail).toMatch(/request bodies at once.*retry in 1 s \(SERVER_BUSY\)/);
    }
    expect(service.kernel.state.eventsApplied).toBe(events);
    expect(service.bodyBytesHeld).toBeLessThanOrEqual(10 * MiB);
    for (const h of held) expect(await settled(h.answered, 200)).toBe('pending');
  } finally {
    for (const h of held) h.req.destroy();
  }
  const by = Date.now() + EVENT_BOUND_MS;
  while (service.bodyBytesHeld > 0 && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
  expect(service.bodyBytesHeld).toBe(0);
  const r = await postRpc(service.url, call, RPC_HEADERS, 'BulkAddResponse');
  expect(r.response.rpc_error ?? null).toBeNull();
  expect(r.value.taskResult.map((t: { result: number }) => t.result)).toEqual(Array(30).fill(TASK_QUEUE_ERROR.OK));
  expect(service.bodyBytesHeld).toBe(0);
}, 60_000);

test('REST: past the budget a body is refused 503 SERVER_BUSY with Retry-After, and creates nothing', async () => {
  // As many uploads of a ~133 KB CreateTask body (a 100,000-byte payload) as 10 MiB holds, each one byte short.
  const body = Buffer.from(JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/w', body: Buffer.alloc(100_000, 0x61).toString('base64') } } }));
  const fit = Math.floor((10 * MiB) / (body.byteLength - 1));
  const path = '/v2/projects/p/locations/l/queues/held/tasks';
  const json = { 'content-type': 'application/json' };
  const held = Array.from({ length: fit }, () => heldUpload(path, json, body));
  try {
    await heldReaches(fit * (body.byteLength - 1));
    const events = service.kernel.state.eventsApplied;
    const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: json, body });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const e = (await res.json()) as { error: { status: string; message: string } };
    expect(e.error.status).toBe('UNAVAILABLE');
    expect(e.error.message).toMatch(/\(SERVER_BUSY\)$/);
    expect(service.kernel.state.eventsApplied).toBe(events);
  } finally {
    for (const h of held) h.req.destroy();
  }
  const by = Date.now() + EVENT_BOUND_MS;
  while (service.bodyBytesHeld > 0 && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: json, body });
  expect(res.status).toBe(200);
}, 60_000);

test('the dashboard\'s login: past the budget it is refused 503 SERVER_BUSY with Retry-After, as REST is', async () => {
  const config = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' }).config!;
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const token = 'a-token-of-this-server-0123456789';
  const guarded = await PushqService.start({ config, targets: {}, log, authToken: token, limits: { bodyBytesMax: MiB } });
  // Logins of ~200 KB (a login body may be up to 256 KiB): five fit in 1 MiB, held one byte short.
  const body = Buffer.from(JSON.stringify({ token, pad: 'a'.repeat(200_000) }));
  const json = { 'content-type': 'application/json' };
  const fit = Math.floor(MiB / (body.byteLength - 1));
  const held = Array.from({ length: fit }, () => {
    const req = request(`${guarded.url}/pushq/login`, { method: 'POST', headers: { ...json, 'content-length': String(body.byteLength) } });
    req.on('error', () => undefined);
    req.write(body.subarray(0, body.byteLength - 1));
    return req;
  });
  try {
    const by = Date.now() + EVENT_BOUND_MS;
    while (guarded.bodyBytesHeld < fit * (body.byteLength - 1) && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
    expect(guarded.bodyBytesHeld).toBe(fit * (body.byteLength - 1));
    const res = await fetch(`${guarded.url}/pushq/login`, { method: 'POST', headers: json, body });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('set-cookie')).toBeNull();
    const e = (await res.json()) as { error: { status: string; message: string } };
    expect(e.error.status).toBe('UNAVAILABLE');
    expect(e.error.message).toMatch(/\(SERVER_BUSY\)$/);
  } finally {
    for (const req of held) req.destroy();
    await guarded.close(1000);
  }
}, 60_000);

test('gRPC: the calls\' bytes count in the same budget; past it a call is answered UNAVAILABLE SERVER_BUSY at once and reset', async () => {
  // Calls on one connection (HTTP/2 streams), each sending all but a byte of a 250,000-byte message and no half-close.
  const session = http2.connect(`http://127.0.0.1:${service.grpcPort}`);
  session.on('error', () => undefined);
  const message = Buffer.alloc(5 + 250_000);
  message.writeUInt32BE(250_000, 1);
  const open = (): { status: Promise<string | undefined> } => {
    const stream = session.request({ ':method': 'POST', ':path': '/google.cloud.tasks.v2.CloudTasks/CreateTask', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    let status: string | undefined;
    stream.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
    stream.write(message.subarray(0, message.length - 1));
    return { status: new Promise((r) => stream.once('close', () => r(status))) };
  };
  const fit = Math.floor((10 * MiB) / (message.length - 1));
  try {
    const held = Array.from({ length: fit }, open);
    await heldReaches(fit * (message.length - 1));
    const events = service.kernel.state.eventsApplied;
    const refused = open();
    expect(await settled(refused.status, EVENT_BOUND_MS)).toBe('14'); // UNAVAILABLE
    expect(service.kernel.state.eventsApplied).toBe(events);
    for (const h of held) expect(await settled(h.status, 10)).toBe('pending');
  } finally {
    session.destroy();
  }
  const by = Date.now() + EVENT_BOUND_MS;
  while (service.bodyBytesHeld > 0 && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
  expect(service.bodyBytesHeld).toBe(0);
  const client = grpcClient(service.grpcPort!);
  try {
    const [task] = await client.createTask({ parent: 'projects/p/locations/l/queues/held', task: { appEngineHttpRequest: { relativeUri: '/w', body: Buffer.alloc(100_000, 0x61) } } });
    expect(task.name).toMatch(/\/queues\/held\/tasks\//);
    // Its bytes were let go when the call ended.
    expect(service.bodyBytesHeld).toBe(0);
  } finally {
    await client.close();
  }
}, 60_000);
