/**
 * A queue whose end has begun on a node that keeps running: calls for it get the cluster's
 * no-owner answers (QUEUE_OWNER_UNKNOWN / QUEUE_OWNER_UNAVAILABLE, docs/cluster.md), never the
 * stopping service's "pushq is shutting down (SHUTTING_DOWN)", which docs/errors.md keeps for a
 * service that is itself stopping. Before, the node kept handing new calls to the queue's stopping
 * service until its stop had finished, and that stop waits for a renewal still on its way: with a
 * lock held on the stream's row (or a store that hangs), as long as the store does not answer.
 *
 * The lease is lost here by holding that lock (another session's SELECT ... FOR UPDATE): renewals
 * wait, the validity passes, the watchdog ends the queue, and with nothing waiting for a commit its
 * stop waits for the renewal, so the end is held open for as long as the test keeps the lock (the
 * forwarding node no longer sees a lease for q0 and answers for itself). A create taken before the end (waiting for its commit) is answered
 * LOG_UNAVAILABLE (not acknowledged, may still run) and is logged once the lock goes; a create
 * answered QUEUE_OWNER_* reached no service and is never logged.
 */
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { NOT_TAKEN_HEADER } from '../../src/cluster/router.js';
import { GrpcService } from '../../src/server/grpc/grpc-service.js';
import { SERVICE_NAME, cloudTasksProtos } from '../../src/server/grpc/protos.js';
import type { ApiContext } from '../../src/server/operations.js';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, count, ownedBy, queueYaml, spread, startNode, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const fx = clusterFixture('pushq-cluster-ending-');
const { nodes, workers } = fx;

const Q = 'projects/p/locations/l/queues/q0';

interface Answer {
  via: string;
  status: string;
  code: string;
  /** The answer carried x-pushq-not-taken (REST: a header, gRPC: a trailer). */
  notTaken?: boolean;
}

/** The stable code at the end of an error message: `text (CODE)`. */
const codeOf = (message: string): string => /\(([A-Z_]+)\)\s*$/.exec(message)?.[1] ?? message;

async function rest(node: Node, label: string, method: 'GET' | 'POST', task?: string): Promise<Answer> {
  const res = await fetch(method === 'GET' ? `${node.api}/q0` : `${node.api}/q0/tasks`, {
    method,
    signal: AbortSignal.timeout(20_000),
    ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { name: `${Q}/tasks/${task}`, appEngineHttpRequest: { relativeUri: `/t/q0/${task}` } } }) } : {}),
  });
  const body = (await res.json()) as { error?: { message: string; status: string } };
  return { via: `REST ${method} ${label}`, status: String(res.status), code: body.error === undefined ? 'OK' : codeOf(body.error.message), notTaken: res.headers.get('x-pushq-not-taken') === '1' };
}

/** One gRPC call through a node's front, with a raw client: no retries of its own. */
function grpcCall(client: grpc.Client, label: string, method: 'GetQueue' | 'CreateTask', task?: string): Promise<Answer> {
  const p = cloudTasksProtos();
  const type = p.root.lookupType(`google.cloud.tasks.v2.${method}Request`);
  const message = method === 'GetQueue' ? { name: Q } : { parent: Q, task: { name: `${Q}/tasks/${task}`, appEngineHttpRequest: { relativeUri: `/t/q0/${task}` } } };
  const bytes = Buffer.from(type.encode(type.fromObject(message)).finish());
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICE_NAME}/${method}`, same, same, bytes, new grpc.Metadata(), { deadline: Date.now() + 20_000 }, (err) => {
      resolve({ via: `gRPC ${method} ${label}`, status: err === null ? 'OK' : grpc.status[err.code], code: err === null ? 'OK' : codeOf(err.details), notTaken: err?.metadata.get(NOT_TAKEN_HEADER)[0] === '1' });
    });
  });
}

describe('pushq serve --cluster: a queue whose end has begun', () => {
  it('answers QUEUE_OWNER_* (REST and gRPC, owner and forwarding node), never SHUTTING_DOWN, while the node runs', async () => {
    const url = await fx.pg.database();
    const yaml = await writeQueueYaml(fx.dir, queueYaml(1, 10, 10));
    const w = await startWorker(() => 200);
    workers.push(w);
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    nodes.push(await startNode(args), await startNode(args));
    await waitUntil('default and q0 placed on the two nodes', () => spread(nodes, 2), 20_000);
    const owner = (await ownedBy(nodes[0]!)).includes('q0') ? nodes[0]! : nodes[1]!;
    const other = owner === nodes[0] ? nodes[1]! : nodes[0]!;
    const clients = new Map([owner, other].map((n) => [n, new grpc.Client(`127.0.0.1:${n.proc.grpcPort}`, grpc.credentials.createInsecure())]));
    expect((await rest(owner, 'owner', 'GET')).code).toBe('OK');

    const logged = async (name: string): Promise<number> => count(url, `SELECT count(*) AS n FROM pushq_events WHERE stream = 'queue/q0' AND body LIKE '{"type":"TaskAdded"%' AND body LIKE $1`, [`%"${name}"%`]);
    /** Holds the lock on q0's stream row while `work` runs. */
    const whileLocked = async (work: (lockedAt: number) => Promise<void>): Promise<void> => {
      const lock = new pg.Client({ connectionString: url });
      await lock.connect();
      try {
        await lock.query('BEGIN');
        await lock.query(`SELECT 1 FROM pushq_streams WHERE stream = 'queue/q0' FOR UPDATE`);
        await work(Date.now());
      } finally {
        await lock.query('COMMIT').catch(() => undefined);
        await lock.end();
      }
    };
    const ownedAgain = async (): Promise<void> => {
      await waitUntil('q0 owned again', async () => (await ownedBy(owner)).includes('q0') || (await ownedBy(other)).includes('q0'), 20_000);
      await waitUntil('a create for q0 through the other node acknowledged', async () => (await rest(other, 'other', 'POST', `after-${Date.now()}`)).code === 'OK', 20_000);
    };

    // 1. The end held open: nothing waits for a commit, so the stop waits for the renewal stuck behind the lock.
    const answers: Answer[] = [];
    const refusedCreates: { name: string; answer: Answer }[] = [];
    await whileLocked(async (lockedAt) => {
      await waitUntil('q0 to stop answering on its owner', async () => (await rest(owner, 'owner', 'GET')).code !== 'OK', 20_000);
      for (let round = 0; round < 3; round++) {
        for (const [n, label] of [[owner, 'owner'], [other, 'other']] as const) {
          const client = clients.get(n)!;
          answers.push(await rest(n, label, 'GET'), await grpcCall(client, label, 'GetQueue'));
          for (const [api, name] of [['rest', `during-rest-${label}-${round}`], ['grpc', `during-grpc-${label}-${round}`]] as const) {
            const a = api === 'rest' ? await rest(n, label, 'POST', name) : await grpcCall(client, label, 'CreateTask', name);
            answers.push(a);
            refusedCreates.push({ name, answer: a });
          }
        }
      }
      // Still the window this test is about: the owner has not finished stopping q0, and it runs.
      expect(owner.lines.filter((l) => l.atMs > lockedAt && l.text.includes('lost queue q0'))).toEqual([]);
      expect((await fetch(`${owner.proc.url}/pushq/health`)).status).toBe(200);
    });
    const seen = answers.map((a) => `${a.via}: ${a.status} ${a.code}`);
    expect(seen.filter((s) => /SHUTTING_DOWN/.test(s))).toEqual([]);
    for (const a of answers) {
      expect(['UNAVAILABLE', '503'], `${a.via}: ${a.status} ${a.code}`).toContain(a.status);
      expect(['QUEUE_OWNER_UNKNOWN', 'QUEUE_OWNER_UNAVAILABLE'], `${a.via}: ${a.code}`).toContain(a.code);
    }
    // REST and gRPC alike: the refusal says the call reached no queue's service, so a forwarding node may send it on.
    for (const a of answers) expect(a.notTaken, a.via).toBe(true);
    await waitUntil('the owner reporting q0 lost', () => owner.lines.some((l) => l.text.includes('lost queue q0')), 20_000);
    await ownedAgain();
    for (const c of refusedCreates) expect(await logged(c.name), `${c.name} (${c.answer.via}: ${c.answer.code}) was logged`).toBe(0);

    // 2. Creates taken before the end, waiting for their commit: answered by the queue's service
    // (LOG_UNAVAILABLE: not acknowledged, may still run), never as not taken, and logged once the lock goes.
    const owner2 = (await ownedBy(owner)).includes('q0') ? owner : other;
    const other2 = owner2 === owner ? other : owner;
    const taken: { name: string; answer: Answer }[] = [];
    await whileLocked(async () => {
      const early = [
        { name: 'early-owner', answer: rest(owner2, 'owner', 'POST', 'early-owner') },
        { name: 'early-other', answer: rest(other2, 'other', 'POST', 'early-other') },
        { name: 'early-grpc-owner', answer: grpcCall(clients.get(owner2)!, 'owner', 'CreateTask', 'early-grpc-owner') },
      ];
      for (const e of early) taken.push({ name: e.name, answer: await e.answer });
    });
    await ownedAgain();
    for (const c of taken) {
      const a = c.answer;
      if (a.code === 'QUEUE_OWNER_UNKNOWN' || a.code === 'QUEUE_OWNER_UNAVAILABLE') {
        // Only on a loaded machine: it arrived after the end had begun, and reached no service.
        expect(await logged(c.name), `${c.name} (${a.via}: ${a.code}) was logged`).toBe(0);
      } else {
        expect(a.code, `${c.name}: ${a.via}`).toBe('LOG_UNAVAILABLE');
        expect(a.notTaken, `${c.name}: taken, answered as not taken`).not.toBe(true);
        await waitUntil(`${c.name} in the store`, async () => (await logged(c.name)) === 1, EVENT_BOUND_MS);
      }
    }
    for (const c of clients.values()) c.close();
  }, 90_000);

  it('gRPC: a call that reaches the queue’s service as it begins to stop is answered QUEUE_OWNER_UNAVAILABLE by the front, marked not taken, not SHUTTING_DOWN', async () => {
    // The front hands a call to the queue's service over HTTP/2; the queue's end may begin while the
    // call is on its way, and the service refuses it at its door (nothing done). That instant cannot
    // be held open from outside, so the service here is a real one that is already stopping.
    const stopping = await GrpcService.start({ stopping: true } as ApiContext, { host: '127.0.0.1', port: 0 });
    const table = { node: 'test-node', localGrpc: () => `127.0.0.1:${stopping.port}`, remoteGrpc: () => undefined, queues: () => ['q0'], owned: () => ['q0'], refresh: async () => {} };
    const front = await GrpcFront.start(table, '127.0.0.1', 0, 10_000);
    const client = new grpc.Client(`127.0.0.1:${front.port}`, grpc.credentials.createInsecure());
    try {
      for (const method of ['GetQueue', 'CreateTask'] as const) {
        const a = await grpcCall(client, 'front', method, 'racing');
        expect(`${a.status} ${a.code} ${a.notTaken ? 'not taken' : ''}`, a.via).toBe('UNAVAILABLE QUEUE_OWNER_UNAVAILABLE not taken');
      }
    } finally {
      client.close();
      await front.close();
      await stopping.close(0);
    }
  }, 30_000);
});
