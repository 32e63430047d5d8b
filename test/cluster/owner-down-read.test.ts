/**
 * What a cluster node says when the owner of a call's queue cannot be reached or does not answer
 * (QUEUE_OWNER_UNAVAILABLE, 503 / UNAVAILABLE; docs/errors.md). A command is "not taken" or "not
 * acknowledged" (it may have been taken: retry with the same task name); a read changes nothing, so
 * it says so and is simply retried. Before, a read (ListTasks, GetQueue) to a dead owner was
 * answered "did not answer: ...; not acknowledged, retry", the words meant for commands.
 *
 * The fronts are the real ones (src/cluster/router.ts, grpc-front.ts) on 127.0.0.1, the owner an
 * address nothing listens on, or (REST) a socket that takes the call and never answers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { NOT_TAKEN_HEADER, Router } from '../../src/cluster/router.js';
import { SERVICE_NAME, cloudTasksProtos } from '../../src/server/grpc/protos.js';
import { RequestGuard } from '../../src/server/security.js';
import { closedPort } from '../helpers/closed-port.js';

const Q = 'projects/p/locations/l/queues/q0';
const READ_WORDS = /; a read changes nothing: retry it \(QUEUE_OWNER_UNAVAILABLE\)$/;
const same = (b: Buffer): Buffer => b;

let dead = 0;
let silent: Server;
const sockets = new Set<Socket>();
/** Where the table says q0's owner is. */
let ownerUrl = '';
let router: Router;
let front: GrpcFront;

beforeAll(async () => {
  dead = await closedPort();
  silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const table = { node: 'entry', queues: () => ['q0'], owned: () => [], refresh: async () => {} };
  router = await Router.start(
    { ...table, local: () => undefined, serveLocally: () => false, remote: () => ownerUrl, reload: async () => ({ ok: true, lines: [] }) },
    await RequestGuard.create({}),
    '127.0.0.1',
    0,
    1000,
  );
  front = await GrpcFront.start({ ...table, localGrpc: () => undefined, remoteGrpc: () => `127.0.0.1:${dead}` }, '127.0.0.1', 0, 10_000);
});

afterAll(async () => {
  await front?.close();
  await router?.close();
  for (const s of sockets) s.destroy();
  silent?.close();
});

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; message: string; notTaken: boolean }> {
  const res = await fetch(`${router.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const e = (await res.json()) as { error: { message: string } };
  return { status: res.status, message: e.error.message, notTaken: res.headers.get(NOT_TAKEN_HEADER) === '1' };
}

describe('REST through a node whose queue owner is down', () => {
  it('a read (ListTasks, GetQueue) says the owner could not be reached and that a read is simply retried', async () => {
    ownerUrl = `http://127.0.0.1:${dead}`;
    for (const path of [`/v2/${Q}/tasks`, `/v2/${Q}`]) {
      const r = await rest('GET', path);
      expect(r.status).toBe(503);
      expect(r.message).toMatch(/^the owner \(http:\/\/127\.0\.0\.1:\d+\) could not be reached: /);
      expect(r.message).toMatch(READ_WORDS);
      expect(r.notTaken).toBe(true);
    }
  });

  it('a read the owner took and never answered: it did not answer, and a read is simply retried', async () => {
    ownerUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const r = await rest('GET', `/v2/${Q}/tasks`);
    expect(r.status).toBe(503);
    expect(r.message).toMatch(/^the owner \(http:\/\/127\.0\.0\.1:\d+\) did not answer: /);
    expect(r.message).toMatch(READ_WORDS);
  });

  it('a command keeps its own words: not taken when nothing was sent, not acknowledged when it may have arrived', async () => {
    ownerUrl = `http://127.0.0.1:${dead}`;
    const task = { task: { appEngineHttpRequest: { relativeUri: '/w' } } };
    const refused = await rest('POST', `/v2/${Q}/tasks`, task);
    expect([refused.status, refused.notTaken]).toEqual([503, true]);
    expect(refused.message).toMatch(/could not be reached: .*; not taken, retry \(QUEUE_OWNER_UNAVAILABLE\)$/);
    ownerUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const lost = await rest('POST', `/v2/${Q}/tasks`, task);
    expect([lost.status, lost.notTaken]).toEqual([503, false]);
    expect(lost.message).toMatch(/did not answer: .*; not acknowledged, retry \(QUEUE_OWNER_UNAVAILABLE\)$/);
  });
});

describe('gRPC through a node whose queue owner is down', () => {
  function call(method: string, message: Record<string, unknown>): Promise<{ code: number; details: string }> {
    const type = cloudTasksProtos().root.lookupType(`google.cloud.tasks.v2.${method}Request`);
    const client = new grpc.Client(`127.0.0.1:${front.port}`, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      client.makeUnaryRequest(`/${SERVICE_NAME}/${method}`, same, same, Buffer.from(type.encode(type.fromObject(message)).finish()), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => {
        client.close();
        resolve(err === null ? { code: 0, details: 'OK' } : { code: err.code, details: err.details });
      });
    });
  }

  it('a read (ListTasks, GetQueue, GetTask) says the owner could not be reached and that a read is simply retried; a command is not taken', async () => {
    for (const [method, message] of [['ListTasks', { parent: Q }], ['GetQueue', { name: Q }], ['GetTask', { name: `${Q}/tasks/t1` }]] as const) {
      const r = await call(method, message);
      expect(grpc.status[r.code], r.details).toBe('UNAVAILABLE');
      expect(r.details).toMatch(/^the owner \(127\.0\.0\.1:\d+\) could not be reached: /);
      expect(r.details, method).toMatch(READ_WORDS);
    }
    const create = await call('CreateTask', { parent: Q, task: { name: `${Q}/tasks/t1` } });
    expect(create.details).toMatch(/could not be reached: .*; not taken, retry \(QUEUE_OWNER_UNAVAILABLE\)$/);
  });
});
