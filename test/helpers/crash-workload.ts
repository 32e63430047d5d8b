/**
 * Every kind of command, over every transport, in flight when `pushq serve` is killed -9: the
 * clients write down what they were told (acknowledged: 2xx / gRPC OK / an rpc_http answer without
 * error), and after the crash `expectAcknowledgedHeld` checks the restarted service (and a replay
 * of the log the crash left) against it. Used by the file log's and PostgreSQL's crash tests.
 *
 * The commands, each client alone on its names or queue so every expectation is exact:
 * - `held` (rate 0: nothing is dispatched, every live task stays listed): CreateTask over REST
 *   and gRPC; App Engine Add (named and unnamed), BulkAdd, and transactional adds committed by
 *   datastore_v3 Commit, through /rpc_http; DeleteTask over gRPC, REST and /rpc_http Delete of
 *   tasks whose create was acknowledged.
 * - `toggle` (no tasks): pause and resume one after the other, over REST, gRPC and /rpc_http.
 * - `purged` (rate 0): three creates, then a purge (REST, gRPC, /rpc_http in turn), over and over.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { expect } from 'vitest';
import { MESSAGES, TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from './remote-api.js';
import { api, type ServeProcess } from './serve-process.js';
import { EVENT_BOUND_MS } from './event-bound.js';

export const CRASH_QUEUE_YAML = `
queue:
- name: held
  rate: 0
- name: toggle
  rate: 1/s
- name: purged
  rate: 0
`;

const APP = 's~crash-app';

/** What the clients were told, and what was in flight (sent, no answer) when the service died. */
export interface Acknowledged {
  /** Tasks of `held` whose add was acknowledged (by whichever transport). */
  created: Set<string>;
  /** Tasks of `held` whose delete was acknowledged; and the one sent and not answered (it may have been taken). */
  deleted: Set<string>;
  deleteInFlight: string | null;
  /** `toggle`'s state after each acknowledged pause or resume, in order; and the one in flight. */
  toggles: ('paused' | 'running')[];
  toggleInFlight: 'paused' | 'running' | null;
  /** Tasks of `purged` created before an acknowledged purge was sent (all gone), and since the last one. */
  purgedBefore: Set<string>;
  createdSincePurge: Set<string>;
  /** A purge of `purged` was sent and not answered when the service died. */
  purgeInFlight: boolean;
  /** Acknowledged commands, by kind (each must be above zero for the crash to have met them all). */
  counts: Record<string, number>;
  /** Answers that were neither acknowledged nor a dead service's silence: none is expected. */
  surprises: string[];
  /** Why each client stopped: the service gone (a connection error) or the workload stopped. */
  endedBy: string[];
}

const tasksPath = (queue: string, task: string): string => `projects/p/locations/l/queues/${queue}/tasks/${task}`;

/** What a deployment does not serve: a cluster refuses App Engine's transactional tasks (docs/cluster.md). */
export interface WorkloadOptions {
  transactions?: boolean;
}

/** Runs the clients against `serve` until `stop()` says so or the service is gone; resolves with what they were told. */
export function startCrashWorkload(serve: ServeProcess, options: WorkloadOptions = {}): { done: Promise<Acknowledged>; ack: Acknowledged; stop(): void } {
  const ack: Acknowledged = { created: new Set(), deleted: new Set(), deleteInFlight: null, toggles: [], toggleInFlight: null, purgedBefore: new Set(), createdSincePurge: new Set(), purgeInFlight: false, counts: {}, surprises: [], endedBy: [] };
  let stopped = false;
  const count = (kind: string): void => void (ack.counts[kind] = (ack.counts[kind] ?? 0) + 1);
  const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: serve.grpcPort, sslCreds: grpc.credentials.createInsecure() });
  const once = { retry: null, timeout: EVENT_BOUND_MS } as never;
  const ok = (what: string, r: { httpStatus: number; response: any }): boolean => {
    const good = r.httpStatus === 200 && r.response !== null && (r.response.application_error ?? null) === null && (r.response.rpc_error ?? null) === null;
    if (!good) ack.surprises.push(`${what}: ${r.httpStatus} ${JSON.stringify(r.response?.application_error ?? r.response?.rpc_error ?? null)}`);
    return good;
  };
  const rest = async (method: string, url: string, body?: unknown): Promise<boolean> => {
    const r = await api(method, url, body);
    if (r.status !== 200) ack.surprises.push(`${method} ${url}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.status === 200;
  };

  /** Runs `step` until stopped or it throws (the service is gone: that call was not acknowledged). */
  const loop = async (step: (i: number) => Promise<void>): Promise<void> => {
    for (let i = 0; !stopped; i++) {
      try {
        await step(i);
      } catch (err) {
        ack.endedBy.push((err as Error).message);
        return;
      }
    }
    ack.endedBy.push('stopped');
  };
  const restCreate = async (queue: string, name: string): Promise<boolean> => rest('POST', `${serve.api}/${queue}/tasks`, { task: { name: tasksPath(queue, name), appEngineHttpRequest: { relativeUri: `/${name}` } } });
  const chosen = (b: any): string => Buffer.from(b).toString('utf8');

  const creators = [
    loop(async (i) => {
      if (await restCreate('held', `rest-${i}`)) (ack.created.add(`rest-${i}`), count('REST CreateTask'));
    }),
    loop(async (i) => {
      const parent = client.queuePath('p', 'l', 'held');
      await client.createTask({ parent, task: { name: `${parent}/tasks/grpc-${i}`, appEngineHttpRequest: { relativeUri: `/grpc-${i}` } } }, once);
      ack.created.add(`grpc-${i}`);
      count('gRPC CreateTask');
    }),
    loop(async (i) => {
      // Named and unnamed in turn; an unnamed one is known by the name the answer chose.
      const named = i % 2 === 0;
      const r = await callTaskQueue(serve.url, 'Add', 'AddRequest', addRequest('held', named ? { task_name: Buffer.from(`add-${i}`) } : {}), 'AddResponse');
      if (!ok('Add', r)) return;
      ack.created.add(named ? `add-${i}` : chosen(r.value.chosen_task_name));
      count(named ? 'rpc_http Add (named)' : 'rpc_http Add (unnamed)');
    }),
    loop(async (i) => {
      const requests = [0, 1, 2, 3].map((j) => addRequest('held', j % 2 === 0 ? { task_name: Buffer.from(`bulk-${i}-${j}`) } : {}));
      const r = await callTaskQueue(serve.url, 'BulkAdd', 'BulkAddRequest', { add_request: requests }, 'BulkAddResponse');
      if (!ok('BulkAdd', r)) return;
      r.value.taskResult.forEach((t: any, j: number) => {
        if (t.result === TASK_QUEUE_ERROR.OK) ack.created.add(j % 2 === 0 ? `bulk-${i}-${j}` : chosen(t.chosen_task_name));
        else ack.surprises.push(`BulkAdd ${i} slot ${j}: ${t.result}`);
      });
      count('rpc_http BulkAdd');
    }),
  ];
  if (options.transactions !== false) {
    creators.push(
      loop(async () => {
        const begun = await postRpc(serve.url, envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: APP })));
        if (!ok('BeginTransaction', begun)) return;
        const t = MESSAGES.Transaction.decode(begun.response.response) as any;
        const txn = { handle: Number(t.handle.toString()), app: t.app };
        const staged: string[] = [];
        for (const url of ['/txn-a', '/txn-b']) {
          const r = await callTaskQueue(serve.url, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from(url), transaction: txn }), 'AddResponse');
          if (!ok('transactional Add', r)) return;
          staged.push(chosen(r.value.chosen_task_name));
        }
        if (!ok('Commit', await postRpc(serve.url, envelope('datastore_v3', 'Commit', encodeMessage('Transaction', txn))))) return;
        for (const name of staged) ack.created.add(name);
        count('datastore_v3 Commit (transactional adds)');
      }),
    );
  }

  // Deletes, over each transport in turn, of tasks whose create was acknowledged (never of one
  // deleted already: each name is deleted once).
  const deleter = loop(async (i) => {
    const name = [...ack.created].find((n) => !ack.deleted.has(n));
    if (name === undefined) return void (await new Promise((r) => setTimeout(r, 5)));
    ack.deleteInFlight = name;
    const via = i % 3;
    if (via === 0) {
      await client.deleteTask({ name: client.taskPath('p', 'l', 'held', name) }, once);
    } else if (via === 1) {
      if (!(await rest('DELETE', `${serve.api}/held/tasks/${name}`))) return;
    } else {
      const r = await callTaskQueue(serve.url, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('held'), task_name: [Buffer.from(name)] }, 'DeleteResponse');
      if (!ok('Delete', r)) return;
      if (r.value.result[0] !== TASK_QUEUE_ERROR.OK) return void ack.surprises.push(`Delete ${name}: ${r.value.result[0]}`);
    }
    ack.deleted.add(name);
    ack.deleteInFlight = null;
    count(['gRPC DeleteTask', 'REST DeleteTask', 'rpc_http Delete'][via] as string);
  });

  const toggler = loop(async (i) => {
    const to = i % 2 === 0 ? 'paused' : 'running';
    const verb = to === 'paused' ? 'pause' : 'resume';
    const via = Math.floor(i / 2) % 3;
    ack.toggleInFlight = to;
    if (via === 0) {
      if (to === 'paused') await client.pauseQueue({ name: client.queuePath('p', 'l', 'toggle') }, once);
      else await client.resumeQueue({ name: client.queuePath('p', 'l', 'toggle') }, once);
    } else if (via === 1) {
      if (!(await rest('POST', `${serve.api}/toggle:${verb}`, {}))) throw new Error(`REST ${verb} refused`);
    } else {
      const r = await callTaskQueue(serve.url, 'PauseQueue', 'PauseQueueRequest', { queue_name: Buffer.from('toggle'), pause: to === 'paused' });
      if (!ok('PauseQueue', r)) throw new Error(`rpc_http PauseQueue refused`);
    }
    ack.toggles.push(to);
    ack.toggleInFlight = null;
    count(`${['gRPC', 'REST', 'rpc_http'][via]} ${verb}`);
  });

  const purger = loop(async (i) => {
    for (let j = 0; j < 3; j++) {
      const name = `p-${i}-${j}`;
      if (await restCreate('purged', name)) ack.createdSincePurge.add(name);
    }
    const via = i % 3;
    ack.purgeInFlight = true;
    if (via === 0) await client.purgeQueue({ name: client.queuePath('p', 'l', 'purged') }, once);
    else if (via === 1) {
      if (!(await rest('POST', `${serve.api}/purged:purge`, {}))) throw new Error('REST purge refused');
    } else if (!ok('PurgeQueue', await callTaskQueue(serve.url, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('purged') }))) throw new Error('rpc_http PurgeQueue refused');
    ack.purgeInFlight = false;
    for (const n of ack.createdSincePurge) ack.purgedBefore.add(n);
    ack.createdSincePurge.clear();
    count(`${['gRPC', 'REST', 'rpc_http'][via]} PurgeQueue`);
  });

  const done = Promise.all([...creators, deleter, toggler, purger]).then(async () => {
    await client.close();
    return ack;
  });
  return { done, ack, stop: () => void (stopped = true) };
}

/** Every acknowledged kind has been answered at least `n` times. */
export function everyKindAcknowledged(ack: Acknowledged, n: number, options: WorkloadOptions = {}): boolean {
  const transactional = options.transactions === false ? [] : ['datastore_v3 Commit (transactional adds)'];
  const kinds = ['REST CreateTask', 'gRPC CreateTask', 'rpc_http Add (named)', 'rpc_http Add (unnamed)', 'rpc_http BulkAdd', ...transactional, 'gRPC DeleteTask', 'REST DeleteTask', 'rpc_http Delete', 'gRPC pause', 'REST resume', 'rpc_http pause', 'gRPC PurgeQueue', 'REST PurgeQueue', 'rpc_http PurgeQueue'];
  return kinds.every((k) => (ack.counts[k] ?? 0) >= n);
}

/**
 * How long the workload may take to have every kind acknowledged twice. It is waited for, so this
 * only bounds a failure; the former 10 s was nearly met: at load 19, 3.1 s (a data directory),
 * 6.9 s (PostgreSQL) and 8.3 s (a one-node cluster).
 */
const EVERY_KIND_WITHIN_MS = 45_000;

/**
 * Runs the workload against `serve` until every kind of command was acknowledged twice
 * (EVERY_KIND_WITHIN_MS at most), then kills it -9 at a moment of its own (0–200 ms later, every
 * client's next command in flight), and returns what the clients were told, checked: nothing but
 * OK while it lived, every kind acknowledged, and every client ended by the dead service (none
 * had stopped on its own).
 */
export async function killMidWorkload(serve: ServeProcess, options: WorkloadOptions = {}): Promise<Acknowledged> {
  const work = startCrashWorkload(serve, options);
  const until = Date.now() + EVERY_KIND_WITHIN_MS;
  while (!everyKindAcknowledged(work.ack, 2, options) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, Math.random() * 200));
  serve.child.kill('SIGKILL');
  expect(await serve.exited).toBe('SIGKILL');
  const ack = await work.done;
  expect(ack.surprises).toEqual([]);
  expect(everyKindAcknowledged(ack, 2, options), JSON.stringify(ack.counts)).toBe(true);
  expect(ack.endedBy.filter((e) => e === 'stopped')).toEqual([]);
  return ack;
}

/** The names of every live task of `queue` (all pages). */
export async function liveTasks(serve: ServeProcess, queue: string): Promise<Set<string>> {
  const names = new Set<string>();
  let token = '';
  do {
    const r = await api('GET', `${serve.api}/${queue}/tasks?pageSize=1000${token === '' ? '' : `&pageToken=${encodeURIComponent(token)}`}`);
    expect(r.status).toBe(200);
    for (const t of r.json.tasks ?? []) names.add(String(t.name).split('/').pop() as string);
    token = r.json.nextPageToken ?? '';
  } while (token !== '');
  return names;
}

/** `pushq replay --json`'s figures of one queue (the log as the crash left it). */
export interface ReplayedQueue {
  state: string;
  tasks_total: number;
  tasks: { pending: number; deleted: number };
}

/**
 * The restarted service holds every acknowledged command, and agrees with the replay of the log
 * the crash left: acknowledged creates are listed (unless their delete was acknowledged too),
 * acknowledged deletes are not and their names stay taken, `toggle` is as the last acknowledged
 * pause or resume left it (or as the one in flight would), `purged` holds no task created before
 * an acknowledged purge.
 */
export async function expectAcknowledgedHeld(serve: ServeProcess, ack: Acknowledged, replayed: Record<string, ReplayedQueue>): Promise<void> {
  const held = await liveTasks(serve, 'held');
  const missing = [...ack.created].filter((n) => !ack.deleted.has(n) && n !== ack.deleteInFlight && !held.has(n));
  expect(missing, 'acknowledged adds missing after the restart').toEqual([]);
  const back = [...ack.deleted].filter((n) => held.has(n));
  expect(back, 'acknowledged deletes come back after the restart').toEqual([]);
  // A deleted name stays taken (its tombstone): a create of it again is refused, in the log too.
  for (const name of [...ack.deleted].slice(-5)) {
    const again = await api('POST', `${serve.api}/held/tasks`, { task: { name: tasksPath('held', name), appEngineHttpRequest: { relativeUri: '/again' } } });
    expect(again.status, `re-create of deleted ${name}`).toBe(409);
  }
  expect(held.size, 'held: listed after the restart = pending in the crash log').toBe(replayed['held']?.tasks.pending);

  const last = ack.toggles.at(-1) ?? 'running';
  const allowed = ack.toggleInFlight === null ? [last] : [last, ack.toggleInFlight];
  const toggle = (await api('GET', `${serve.api}/toggle`)).json.state.toLowerCase();
  expect(allowed, `toggle's state after the restart (acknowledged: ${ack.toggles.length} toggles, last ${last}; in flight ${ack.toggleInFlight})`).toContain(toggle);
  expect(replayed['toggle']?.state, "toggle's state in the crash log").toBe(toggle);

  const purged = await liveTasks(serve, 'purged');
  expect([...ack.purgedBefore].filter((n) => purged.has(n)), 'tasks of acknowledged purges back after the restart').toEqual([]);
  // Created since the last acknowledged purge: still there, unless a purge in flight was taken.
  if (!ack.purgeInFlight) expect([...ack.createdSincePurge].filter((n) => !purged.has(n)), 'acknowledged creates of purged lost').toEqual([]);
  expect(purged.size, 'purged: listed after the restart = pending in the crash log').toBe(replayed['purged']?.tasks.pending);
}
