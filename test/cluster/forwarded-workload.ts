/**
 * Commands that reach a cluster node which does not own their queue, so it forwards them to the
 * owner (docs/cluster.md, "API calls: any node, forwarded to the owner"), written down one by one
 * with what the client was told, for cluster-crash-forwarded.test.ts to check against the state
 * the surviving nodes hold after a kill -9.
 *
 * Each lane is one queue called through one entry node, by REST, gRPC and App Engine's /rpc_http in turn:
 * - `held` (rate 0): creates (three clients at once), and deletes of tasks whose create was
 *   acknowledged (each name once);
 * - `toggle`: pause and resume in turn;
 * - `purge` (rate 0): two creates, then a purge, over and over;
 * - `run` (rate 0): a create, then RunTask of it (a forced dispatch to the worker).
 *
 * An answer is one of: `ok` (acknowledged: 200 / gRPC OK / an /rpc_http answer with no error),
 * `not-taken` (the cluster says the call reached no queue's service: REST and /rpc_http
 * `x-pushq-not-taken`, gRPC the same trailer; it must have changed nothing), `unknown` (a 503,
 * an /rpc_http TRANSIENT_ERROR, a broken connection: it may or may not have been taken),
 * `hung` (no answer within CALL_TIMEOUT_MS: never expected), `surprise` (any other answer).
 *
 * REST and /rpc_http calls each open a connection of their own (no keep-alive): a kept-alive
 * connection that the node closes idle (5 s after its last answer) just as the client sends on it
 * fails the call with "other side closed" or ECONNRESET. That race is the client's pool, not the
 * cluster; on a loaded machine, where this process stalls for seconds, it was met before any kill
 * (two creates and a RunTask over /rpc_http at once, on two nodes, some 5 s after the first calls).
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { Agent, fetch } from 'undici';
import { ownerAnswerBoundMs } from '../../src/cluster/not-taken.js';
import { NOT_TAKEN_HEADER } from '../../src/cluster/router.js';
import { MESSAGES, TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { addRequest, encodeMessage, envelope, RPC_HEADERS } from '../helpers/remote-api.js';
import type { Node } from './cluster-harness.js';

/**
 * The nodes' queue lease (--lease-seconds). 10 s, not 3 s: at load 11-12 (two busy loops) the
 * live nodes, stalled past a 3 s lease's slack (renewed every 1 s, valid 2.55 s after sent),
 * lost queues to one another before the kill, and calls were answered "not taken" then.
 */
export const LEASE_SECONDS = 10;

/**
 * A call unanswered this long is a hang: a dead node's clients get errors (a reset or a refused
 * connection), a live node's an answer. A forwarded call may wait for its owner's answer as long
 * as the cluster's bound (ownerAnswerBoundMs), and more for the hops on either side of it on a
 * loaded machine. It was 6 s, under that bound (8 s with 3 s leases): at load 16 calls were
 * counted hung before any kill, the nodes all alive.
 */
export const CALL_TIMEOUT_MS = ownerAnswerBoundMs(LEASE_SECONDS * 1000) + 5000;

/** A connection per call: see the header. */
const unpooled = new Agent({ pipelining: 0 });

export type Role = 'held' | 'toggle' | 'purge' | 'run';
export const ROLES: readonly Role[] = ['held', 'toggle', 'purge', 'run'];
export type Outcome = 'ok' | 'not-taken' | 'unknown' | 'hung' | 'surprise';
export type Kind = 'create' | 'delete' | 'pause' | 'resume' | 'purge' | 'run';
export type Via = 'REST' | 'gRPC' | 'rpc_http';
const VIAS: readonly Via[] = ['REST', 'gRPC', 'rpc_http'];

/** One command as the client saw it. */
export interface Command {
  /** Its place in the lane's order of sending. */
  seq: number;
  kind: Kind;
  via: Via;
  /** The task it names (create, delete, run). */
  task?: string;
  outcome: Outcome;
  /** What the answer said, for messages. */
  detail: string;
  sentAtMs: number;
  answeredAtMs: number;
}

export interface Lane {
  role: Role;
  queue: string;
  entry: Node;
  commands: Command[];
}

/** The queue.yaml of `k` candidate queues per role (`held-0`, `toggle-0`, ...), beside `default`. */
export function forwardedQueueYaml(k: number): string {
  const out = ['queue:'];
  for (let i = 0; i < k; i++) for (const role of ROLES) out.push(`- name: ${role}-${i}`, `  rate: ${role === 'toggle' ? '1/s' : '0'}`);
  return out.join('\n') + '\n';
}

const taskPath = (queue: string, task: string): string => `projects/p/locations/l/queues/${queue}/tasks/${task}`;
const queuePath = (queue: string): string => `projects/p/locations/l/queues/${queue}`;

/**
 * Runs every lane until `stop()`; `done` resolves once every lane's last call has its answer.
 * Resolves once the lanes are started. The gRPC clients are made before that: making one
 * blocks this process (2.3 s at load 12, the event loop stalled 3.1 s), and made on a lane's first
 * gRPC call, as before, it held up the answers of the calls already under way past their bound.
 */
export async function startForwardedWorkload(lanes: readonly Lane[]): Promise<{ done: Promise<void>; stop(): void }> {
  let stopped = false;
  const clients = new Map<Node, CloudTasksClient>();
  for (const n of new Set(lanes.map((l) => l.entry))) {
    const c = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: n.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    await c.initialize();
    clients.set(n, c);
  }
  const grpcOf = (n: Node): CloudTasksClient => clients.get(n)!;
  const once = { retry: null, timeout: CALL_TIMEOUT_MS } as never;

  const run = async (lane: Lane): Promise<void> => {
    let seq = 0;
    const { entry, queue } = lane;
    /** One command, sent the way `via` says: `rest` and `appEngine` give the request, `rpc` makes the gRPC call. */
    const call = async (kind: Kind, via: Via, task: string | undefined, send: { rest: [string, string, unknown?]; rpc: () => Promise<unknown>; appEngine: [string, keyof typeof MESSAGES, Record<string, unknown>, (keyof typeof MESSAGES)?] }): Promise<Outcome> => {
      const cmd: Command = { seq: seq++, kind, via, ...(task === undefined ? {} : { task }), outcome: 'unknown', detail: '', sentAtMs: Date.now(), answeredAtMs: 0 };
      lane.commands.push(cmd);
      if (via === 'REST') {
        const [method, path, body] = send.rest;
        [cmd.outcome, cmd.detail] = await restOutcome(() => fetch(`${entry.api}/${path}`, { method, dispatcher: unpooled, signal: AbortSignal.timeout(CALL_TIMEOUT_MS), ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }));
      } else if (via === 'gRPC') [cmd.outcome, cmd.detail] = await grpcOutcome(send.rpc);
      else [cmd.outcome, cmd.detail] = await appEngineOutcome(entry, ...send.appEngine);
      cmd.answeredAtMs = Date.now();
      // A refused call is not retried at once in a tight loop (a failover lasts seconds).
      if (cmd.outcome !== 'ok') await new Promise((r) => setTimeout(r, 20));
      return cmd.outcome;
    };
    const queueBytes = Buffer.from(queue);
    const create = (name: string, via: Via): Promise<Outcome> =>
      call('create', via, name, {
        rest: ['POST', `${queue}/tasks`, { task: { name: taskPath(queue, name), appEngineHttpRequest: { relativeUri: `/${queue}/${name}` } } }],
        rpc: () => grpcOf(entry).createTask({ parent: queuePath(queue), task: { name: taskPath(queue, name), appEngineHttpRequest: { relativeUri: `/${queue}/${name}` } } }, once),
        appEngine: ['Add', 'AddRequest', addRequest(queue, { task_name: Buffer.from(name), url: Buffer.from(`/${queue}/${name}`) }), 'AddResponse'],
      });
    const viaOf = (i: number): Via => VIAS[i % VIAS.length]!;

    const loops: Promise<void>[] = [];
    const loop = (step: (i: number) => Promise<void>): void => {
      loops.push(
        (async () => {
          for (let i = 0; !stopped; i++) await step(i);
        })(),
      );
    };
    if (lane.role === 'held') {
      // Several creators at once: more acknowledgements near the kill, so one acknowledged before
      // it was durable would be met (each creator on names of its own).
      for (const c of ['a', 'b', 'c']) loop(async (i) => void (await create(`${c}${i}`, viaOf(i))));
      const tried = new Set<string>();
      loop(async (i) => {
        const name = lane.commands.find((c) => c.kind === 'create' && c.outcome === 'ok' && !tried.has(c.task!))?.task;
        if (name === undefined) return void (await new Promise((r) => setTimeout(r, 5)));
        tried.add(name);
        await call('delete', viaOf(i), name, {
          rest: ['DELETE', `${queue}/tasks/${name}`],
          rpc: () => grpcOf(entry).deleteTask({ name: taskPath(queue, name) }, once),
          appEngine: ['Delete', 'DeleteRequest', { queue_name: queueBytes, task_name: [Buffer.from(name)] }, 'DeleteResponse'],
        });
      });
    } else if (lane.role === 'toggle') {
      loop(async (i) => {
        const kind = i % 2 === 0 ? 'pause' : 'resume';
        await call(kind, viaOf(Math.floor(i / 2)), undefined, {
          rest: ['POST', `${queue}:${kind}`, {}],
          rpc: () => (kind === 'pause' ? grpcOf(entry).pauseQueue({ name: queuePath(queue) }, once) : grpcOf(entry).resumeQueue({ name: queuePath(queue) }, once)),
          appEngine: ['PauseQueue', 'PauseQueueRequest', { queue_name: queueBytes, pause: kind === 'pause' }],
        });
      });
    } else if (lane.role === 'purge') {
      loop(async (i) => {
        for (let j = 0; j < 2; j++) await create(`p${i}-${j}`, viaOf(i + j));
        await call('purge', viaOf(i), undefined, {
          rest: ['POST', `${queue}:purge`, {}],
          rpc: () => grpcOf(entry).purgeQueue({ name: queuePath(queue) }, once),
          appEngine: ['PurgeQueue', 'PurgeQueueRequest', { queue_name: queueBytes }],
        });
      });
    } else {
      loop(async (i) => {
        const name = `r${i}`;
        if ((await create(name, viaOf(i))) !== 'ok') return;
        await call('run', viaOf(i + 1), name, {
          rest: ['POST', `${queue}/tasks/${name}:run`, {}],
          rpc: () => grpcOf(entry).runTask({ name: taskPath(queue, name) }, once),
          appEngine: ['ForceRun', 'ForceRunRequest', { queue_name: queueBytes, task_name: Buffer.from(name) }, 'ForceRunResponse'],
        });
      });
    }
    await Promise.all(loops);
  };

  const done = Promise.all(lanes.map(run)).then(async () => {
    for (const c of clients.values()) await c.close();
  });
  return { done, stop: () => void (stopped = true) };
}

async function restOutcome(send: () => Promise<Response>): Promise<[Outcome, string]> {
  try {
    const res = await send();
    const text = await res.text();
    if (res.status === 200) return ['ok', ''];
    const detail = `${res.status} ${text.slice(0, 300)}`;
    if (res.headers.get(NOT_TAKEN_HEADER) === '1') return ['not-taken', detail];
    return [res.status === 503 ? 'unknown' : 'surprise', detail];
  } catch (err) {
    const e = err as Error & { cause?: Error };
    if (e.name === 'TimeoutError') return ['hung', e.message];
    return ['unknown', `${e.message}: ${e.cause?.message ?? ''}`];
  }
}

async function grpcOutcome(send: () => Promise<unknown>): Promise<[Outcome, string]> {
  try {
    await send();
    return ['ok', ''];
  } catch (err) {
    const e = err as { code?: number; details?: string; reason?: string; message?: string; metadata?: grpc.Metadata };
    const detail = `gRPC ${e.code} ${e.reason ?? ''} ${e.details ?? e.message ?? ''}`;
    if (e.code === grpc.status.DEADLINE_EXCEEDED) return ['hung', detail];
    if (e.code !== grpc.status.UNAVAILABLE) return ['surprise', detail];
    return [e.metadata?.get(NOT_TAKEN_HEADER)[0] === '1' ? 'not-taken' : 'unknown', detail];
  }
}

/**
 * One taskqueue call to `entry`'s /rpc_http. Acknowledged: a Response with no error and, for Delete
 * and ForceRun, the task's result OK. TRANSIENT_ERROR is the cluster's "no owner" (docs/cluster.md):
 * not taken when marked so.
 */
async function appEngineOutcome(entry: Node, method: string, requestType: keyof typeof MESSAGES, request: Record<string, unknown>, responseType?: keyof typeof MESSAGES): Promise<[Outcome, string]> {
  let res: Response;
  let bytes: Uint8Array;
  try {
    res = await fetch(`${entry.proc.url}/rpc_http`, { method: 'POST', dispatcher: unpooled, headers: RPC_HEADERS, body: envelope('taskqueue', method, encodeMessage(requestType, request)), signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return [e.name === 'TimeoutError' ? 'hung' : 'unknown', `rpc_http ${method}: ${e.message}: ${e.cause?.message ?? ''}`];
  }
  let response: any;
  try {
    response = MESSAGES.Response.decode(bytes);
  } catch {
    return ['surprise', `rpc_http ${method}: HTTP ${res.status}, not a Response: ${Buffer.from(bytes).toString('utf8').slice(0, 200)}`];
  }
  const error = response.application_error ?? response.rpc_error ?? null;
  if (error !== null) {
    const detail = `rpc_http ${method}: ${JSON.stringify({ code: error.code, detail: error.detail })}`;
    if (response.application_error?.code !== TASK_QUEUE_ERROR.TRANSIENT_ERROR) return ['surprise', detail];
    return [res.headers.get(NOT_TAKEN_HEADER) === '1' ? 'not-taken' : 'unknown', detail];
  }
  if (responseType === 'DeleteResponse' || responseType === 'ForceRunResponse') {
    const value = MESSAGES[responseType].decode(response.response) as unknown as { result: number | number[] };
    const result = Array.isArray(value.result) ? value.result[0] : value.result;
    if (result !== TASK_QUEUE_ERROR.OK) return ['surprise', `rpc_http ${method}: task result ${result}`];
  }
  return ['ok', ''];
}

/** Commands of `kind` that got `outcome` (answered after `afterMs`, when given). */
export function answered(lane: Lane, kind: Kind, outcome: Outcome, afterMs = 0): Command[] {
  return lane.commands.filter((c) => c.kind === kind && c.outcome === outcome && c.sentAtMs > afterMs);
}

/** The kinds of command a lane sends. */
export function kindsOf(role: Role): Kind[] {
  return { held: ['create', 'delete'], toggle: ['pause', 'resume'], purge: ['create', 'purge'], run: ['create', 'run'] }[role] as Kind[];
}
