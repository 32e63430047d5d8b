/**
 * `--auth-token` on a cluster: each node's fronts refuse a call without the token themselves,
 * before forwarding anything, exactly as a single node refuses it. Two `pushq serve --cluster`
 * nodes on the real PostgreSQL and one single node, all with the same token; the official Node
 * client over gRPC (no token, a wrong one, the right one) and plain REST requests. A cluster's
 * ListQueues without the token was an empty page (each owner refused its queue, and the front left
 * the queue out) with a next page token, instead of UNAUTHENTICATED. A REST ListQueues with the
 * dashboard's session cookie (no token) was an empty page too: the cookie was not carried to the owners.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { clusterFixture, queueYaml, startNodesEachOwning, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';

const TOKEN = 'cluster-auth-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** queueYaml's q0..q3, and the default queue every configuration has. */
const QUEUES = ['default', 'q0', 'q1', 'q2', 'q3'];

const fx = clusterFixture('pushq-cluster-auth-');
const { nodes } = fx;

/** The queues a node owns now (its /pushq/health, with the token). */
async function owns(node: Node): Promise<string[]> {
  const res = await fetch(`${node.proc.url}/pushq/health`, { headers: AUTH });
  return ((await res.json()) as { owns: string[] }).owns;
}

function clientOf(proc: ServeProcess): CloudTasksClient {
  return new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: proc.grpcPort, sslCreds: grpc.credentials.createInsecure() });
}

const withToken = (token: string) => ({ otherArgs: { headers: { authorization: `Bearer ${token}` } } });

/** What a call answered: its status code, message and decoded details, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    const e = err as { code: number; details: string; reason?: string; domain?: string; statusDetails?: unknown[] };
    return { code: e.code, details: e.details, reason: e.reason, domain: e.domain, statusDetails: JSON.parse(JSON.stringify(e.statusDetails ?? null)) };
  }
}

describe('--auth-token on a cluster node', () => {
  it("its gRPC and REST fronts refuse a call without the token as one node does, before forwarding it (ListQueues included)", async () => {
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES.length - 1, 10, 5));
    const args = ['--config', yaml, '--store', await fx.pg.database(), '--lease-seconds', '4', '--auth-token', TOKEN]; // no node is killed: a long lease keeps owners put under load
    // The second node owns a queue (`remote`, below; a node left none by its random id is replaced).
    const two = await startNodesEachOwning(nodes, args, QUEUES);
    const ids = two.map((n) => n.id);
    await waitUntil('each queue owned by its node', async () => {
      try {
        const held = await Promise.all(two.map(owns));
        return two.every((n, i) => held[i]!.join() === QUEUES.filter((q) => ownerFor(q, ids) === n.id).sort().join());
      } catch {
        return false;
      }
    }, 20_000);
    const single = await startServe(['--config', yaml, '--memory', '--auth-token', TOKEN]);
    nodes.push({ proc: single, api: single.api, id: 'single', lines: [] });

    const location = 'projects/p/locations/l';
    // A queue the other node owns, seen through the first node: a call for it would be forwarded.
    const remote = QUEUES.find((q) => ownerFor(q, ids) === two[1]!.id)!;
    const calls = (c: CloudTasksClient, options?: ReturnType<typeof withToken>) => ({
      ListQueues: () => c.listQueues({ parent: location }, { autoPaginate: false, ...options }),
      GetQueue: () => c.getQueue({ name: `${location}/queues/${remote}` }, options),
      CreateTask: () => c.createTask({ parent: `${location}/queues/${remote}`, task: { appEngineHttpRequest: { relativeUri: '/refused' } } }, options),
      PauseQueue: () => c.pauseQueue({ name: `${location}/queues/${remote}` }, options),
      GetIamPolicy: () => c.getIamPolicy({ resource: `${location}/queues/${remote}` }, options),
    });
    const clients = [single, ...two.map((n) => n.proc)].map(clientOf);
    try {
      for (const options of [undefined, withToken('not-the-token-0123456789')]) {
        const want = calls(clients[0]!, options);
        for (const [name, call] of Object.entries(want)) {
          const expected = await outcome(call());
          expect(expected, `one node, ${name}`).toMatchObject({ code: grpc.status.UNAUTHENTICATED, reason: 'AUTH_REQUIRED', domain: 'pushq' });
          for (const [i, c] of clients.slice(1).entries()) {
            expect(await outcome((calls(c, options) as Record<string, () => Promise<unknown>>)[name]!()), `node ${i}, ${name}, ${options === undefined ? 'no token' : 'another token'}`).toEqual(expected);
          }
        }
      }
      // Nothing was done: no task created, no queue paused; with the token, every node answers.
      for (const c of clients.slice(1)) {
        // (A queue whose owner is unreachable for a moment is left out of the list, as documented: polled.)
        const listed = async () => (await c.listQueues({ parent: location }, { autoPaginate: false, ...withToken(TOKEN) }))[0].map((q) => `${q.name!.split('/').pop()} ${q.state}`).sort();
        await expect.poll(listed, { timeout: 15_000 }).toEqual(QUEUES.map((q) => `${q} RUNNING`).sort());
        const [tasks] = await c.listTasks({ parent: `${location}/queues/${remote}` }, { autoPaginate: false, ...withToken(TOKEN) });
        expect(tasks).toEqual([]);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }

    // REST: the node's own guard answers, as one node's does.
    for (const headers of [{}, { authorization: 'Bearer not-the-token-0123456789' }] as Record<string, string>[]) {
      for (const path of ['', `/${remote}`, `/${remote}/tasks`]) {
        const want = await fetch(`${single.api}${path}`, { headers });
        const body = await want.text();
        expect(want.status).toBe(401);
        for (const n of two) {
          const got = await fetch(`${n.api}${path}`, { headers });
          expect([got.status, got.headers.get('www-authenticate'), await got.text()], `${n.id} GET ${path}`).toEqual([401, want.headers.get('www-authenticate'), body]);
        }
      }
    }

    // REST with the dashboard's session cookie instead of the token (a browser logged in on that
    // node): each node lists every queue with its state, its own and the other's, as the single
    // node does. Before, the node sent the owners only an Authorization header, so each owner
    // refused its queue and the list came back empty (200, no error).
    const session = async (proc: ServeProcess): Promise<string> => {
      const login = await fetch(`${proc.url}/pushq/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
      expect(login.status).toBe(200);
      return login.headers.get('set-cookie')!.split(';')[0]!;
    };
    const listedWith = async (proc: ServeProcess, headers: Record<string, string>): Promise<string[]> => {
      const res = await fetch(proc.api, { headers });
      expect(res.status).toBe(200);
      return ((await res.json()) as { queues?: { name: string; state: string }[] }).queues?.map((q) => `${q.name.split('/').pop()} ${q.state}`).sort() ?? [];
    };
    expect(await listedWith(single, { cookie: await session(single) })).toEqual(QUEUES.map((q) => `${q} RUNNING`).sort());
    for (const n of two) {
      const cookie = await session(n.proc);
      await expect.poll(() => listedWith(n.proc, { cookie }), { timeout: 15_000 }).toEqual(QUEUES.map((q) => `${q} RUNNING`).sort());
    }
  }, 90_000);
});
