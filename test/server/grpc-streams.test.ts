/**
 * The calls one gRPC connection may have open at once (connection-limits.ts
 * GRPC_STREAMS_PER_CONNECTION_MAX; docs/serve.md, Faults). grpc-js advertised no bound, so one
 * client could open thousands of HTTP/2 streams on one connection, each call's state held until
 * it ended. Now every grpc.Server pushq runs (one node's service, a cluster node's gRPC front)
 * advertises the cap in its SETTINGS, and a stream opened past it is refused (RST_STREAM
 * REFUSED_STREAM) before any handler sees it; the official Node client, with more calls in flight
 * on one channel than the cap, waits for a stream to end and every call succeeds.
 *
 * The raw client (node:http2, 127.0.0.1) opens its streams before it has read the server's
 * SETTINGS, as HTTP/2 allows (RFC 9113 §5.1.2: the server refuses those past its limit), with no
 * limit of its own assumed meanwhile: a client that waits for the SETTINGS queues its streams
 * itself, as the official clients do.
 */
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { GRPC_STREAMS_PER_CONNECTION_MAX } from '../../src/server/connection-limits.js';
import { GrpcService } from '../../src/server/grpc/grpc-service.js';
import { cloudTasksProtos } from '../../src/server/grpc/protos.js';
import type { ApiContext } from '../../src/server/operations.js';
import { PushqService } from '../../src/server/service.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { startHeldService } from '../helpers/limited-service.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const CAP = GRPC_STREAMS_PER_CONNECTION_MAX;
const PAST = 20;
const PARENT = 'projects/p/locations/l/queues/held';

let worker: Worker;
let service: PushqService;

beforeAll(async () => {
  worker = await startWorker(() => 200);
  service = await startHeldService(worker.url);
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
});

/** A CreateTask request, gRPC-framed. */
function createTaskMessage(): Buffer {
  const type = cloudTasksProtos().root.lookupType('google.cloud.tasks.v2.CreateTaskRequest');
  const message = type.encode(type.fromObject({ parent: PARENT, task: { appEngineHttpRequest: { relativeUri: '/raw' } } })).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface RawCall {
  stream: http2.ClientHttp2Stream;
  /** How the stream ended: its RST_STREAM code (0: none) and the call's grpc-status, if any. */
  ended: Promise<{ rstCode: number; status: string | undefined }>;
}

/**
 * `count` CreateTask calls opened on one new connection at once, each sending its whole message
 * and not yet half-closed (so each stays open until `stream.end()`), and the cap the server
 * advertised.
 */
function openCalls(port: number, count: number): { session: http2.ClientHttp2Session; calls: RawCall[]; advertised: Promise<number | undefined> } {
  // Streams are requested before the server's SETTINGS arrive, and no limit is assumed until then
  // (Node's default assumes 100 and would queue the rest itself).
  const session = http2.connect(`http://127.0.0.1:${port}`, { peerMaxConcurrentStreams: 10 * count });
  session.on('error', () => undefined);
  const advertised = new Promise<number | undefined>((r) => session.once('remoteSettings', (s) => r(s.maxConcurrentStreams)));
  const message = createTaskMessage();
  const calls = Array.from({ length: count }, (): RawCall => {
    const stream = session.request({ ':method': 'POST', ':path': '/google.cloud.tasks.v2.CloudTasks/CreateTask', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    let status: string | undefined;
    stream.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
    stream.on('trailers', (h) => (status ??= h['grpc-status'] as string | undefined));
    stream.write(message);
    return { stream, ended: new Promise((r) => stream.once('close', () => r({ rstCode: stream.rstCode ?? 0, status }))) };
  });
  return { session, calls, advertised };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

/** Whether `p` has settled within `ms`. */
const settles = (p: Promise<unknown>, ms: number): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

/** The tasks the queue holds (in any state): the calls that reached the engine. */
const tasksHeld = (): number => [...(service.kernel.state.queueByName.get('held')?.countByState ?? [])].reduce((a, b) => a + b, 0);

describe('gRPC: the streams of one connection', () => {
  it(`one node's port advertises ${CAP} streams a connection and refuses (REFUSED_STREAM) a stream past them, which never reaches the engine`, async () => {
    const before = tasksHeld();
    expect(before).toBe(0);
    const { session, calls, advertised } = openCalls(service.grpcPort!, CAP + PAST);
    try {
      expect(await within(advertised, EVENT_BOUND_MS, 'the server\'s SETTINGS')).toBe(CAP);
      const past = calls.slice(CAP);
      for (const call of past) expect(await within(call.ended, EVENT_BOUND_MS, 'a stream past the cap to be refused')).toEqual({ rstCode: http2.constants.NGHTTP2_REFUSED_STREAM, status: undefined });
      // The calls within the cap are open (nothing answered them: their requests are not whole yet).
      for (const call of calls.slice(0, CAP)) expect(await settles(call.ended, 0)).toBe(false);
      for (const call of calls.slice(0, CAP)) call.stream.end();
      for (const call of calls.slice(0, CAP)) expect(await within(call.ended, EVENT_BOUND_MS, 'a call within the cap to be answered')).toEqual({ rstCode: 0, status: '0' });
      // Each call within the cap created its task; none of those refused did.
      expect(tasksHeld()).toBe(before + CAP);
    } finally {
      session.destroy();
    }
  }, 30_000);

  it('the official Node client, with more calls in flight on one channel than the cap, gets every one answered', async () => {
    const before = tasksHeld();
    const client = grpcClient(service.grpcPort!);
    try {
      const n = 3 * CAP;
      const answers = await within(
        Promise.all(Array.from({ length: n }, (_, i) => client.createTask({ parent: PARENT, task: { appEngineHttpRequest: { relativeUri: `/t/${i}` } } }))),
        30_000,
        `${n} CreateTask calls at once`,
      );
      expect(answers.every(([task]) => typeof task.name === 'string' && task.name.startsWith(`${PARENT}/tasks/`))).toBe(true);
      expect(tasksHeld()).toBe(before + n);
    } finally {
      await client.close();
    }
  }, 60_000);

  it(`a cluster node's gRPC front advertises the same cap and refuses a stream past it`, async () => {
    // The front's owner: a service that refuses every call at once (all a hop needs); the raw calls never half-close, so none reaches it.
    const owner = await GrpcService.start({ stopping: true } as ApiContext, { host: '127.0.0.1', port: 0 });
    const table = { node: 'test-node', localGrpc: () => undefined, remoteGrpc: () => `127.0.0.1:${owner.port}`, queues: () => ['held'], owned: () => [], refresh: async () => {} };
    const front = await GrpcFront.start(table, '127.0.0.1', 0, 10_000);
    const { session, calls, advertised } = openCalls(front.port, CAP + PAST);
    try {
      expect(await within(advertised, EVENT_BOUND_MS, 'the front\'s SETTINGS')).toBe(CAP);
      for (const call of calls.slice(CAP)) expect(await within(call.ended, EVENT_BOUND_MS, 'a stream past the cap to be refused')).toEqual({ rstCode: http2.constants.NGHTTP2_REFUSED_STREAM, status: undefined });
      for (const call of calls.slice(0, CAP)) expect(await settles(call.ended, 0)).toBe(false);
      // Those within it are taken and forwarded once whole: the owner's refusal comes back.
      calls[0]!.stream.end();
      expect((await within(calls[0]!.ended, EVENT_BOUND_MS, 'a call within the cap to be answered')).status).toBe(String(grpc.status.UNAVAILABLE));
    } finally {
      session.destroy();
      await front.close();
      await owner.close(0);
    }
  }, 30_000);
});
