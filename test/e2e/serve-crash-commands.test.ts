/**
 * A crash loses no acknowledged command, of any kind, over any transport (docs/serve.md: "Every
 * change is acknowledged only after its event is on disk"): `pushq serve --data DIR` is killed -9
 * while REST, gRPC and /rpc_http clients add (named, unnamed, in batches, in transactions),
 * delete, pause, resume and purge (test/helpers/crash-workload.ts). The restarted service holds
 * every acknowledged change and agrees with `pushq replay` of the log the crash left. And each
 * kind of command alone, the service killed the moment its answer arrives (a queue.yaml reload
 * too): the restart holds it. An answer sent before the command's bytes reach the file (left to
 * the background flush) fails these tests; one sent after the write but before its fdatasync
 * cannot (a process's kill keeps the kernel's page cache): test/server/answer-after-sync.test.ts
 * checks that order.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MESSAGES } from '../../src/server/appengine/messages.js';
import { pushq } from '../helpers/cli.js';
import { CRASH_QUEUE_YAML, expectAcknowledgedHeld, killMidWorkload, type ReplayedQueue } from '../helpers/crash-workload.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../helpers/remote-api.js';
import { api, killEveryStarted, startServe, type ServeProcess } from '../helpers/serve-process.js';

let dir: string;

/**
 * A test of two or three processes one after another (a start, a kill, a replay, a restart): 1-2 s
 * each alone, but 5-10 s at load 19, where the groups' tests (seven starts each) ran out of their
 * former 40 s, and the others took 20 s of their 30-40 s. Each start is bounded by itself.
 */
const PROCESSES_TEST_MS = 120_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-crash-commands-'));
});

afterAll(async () => {
  await killEveryStarted();
  await rm(dir, { recursive: true, force: true });
});

/** `pushq replay LOG --json`'s queues: the state the log describes. */
async function replayQueues(log: string): Promise<Record<string, ReplayedQueue>> {
  const r = await pushq(['replay', log, '--json'], { timeoutMs: 20_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).queues;
}

it('every command acknowledged over REST, gRPC and /rpc_http holds after kill -9 and a restart, as the replay of the log says', async () => {
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, CRASH_QUEUE_YAML);
  const args = ['--config', yaml, '--data', join(dir, 'data')];
  const first = await startServe(args);
  // The kill lands at a moment of its own (once every kind was acknowledged a few times), with
  // every client's next command in flight.
  const ack = await killMidWorkload(first);

  const replayed = await replayQueues(join(dir, 'data', 'events.log'));
  const second = await startServe(args);
  await expectAcknowledgedHeld(second, ack, replayed);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, PROCESSES_TEST_MS);

it('a reload answered 200 is in the log when the service is killed right after the answer', async () => {
  const sub = join(dir, 'reload');
  const yaml = join(dir, 'reload.yaml');
  await writeFile(yaml, 'queue:\n- name: base\n  rate: 1/s\n');
  const args = ['--config', yaml, '--data', sub];
  const first = await startServe(args);
  // The new file adds a queue: it is in the log only if the reload's ConfigApplied is.
  await writeFile(yaml, 'queue:\n- name: base\n  rate: 1/s\n- name: added\n  rate: 2/s\n');
  const r = await api('POST', `${first.url}/pushq/reload`);
  first.child.kill('SIGKILL');
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(await first.exited).toBe('SIGKILL');
  const replayed = await replayQueues(join(sub, 'events.log'));
  expect(Object.keys(replayed).sort()).toEqual(['added', 'base', 'default']);
  // The restart finds the file it was given already applied: no second deploy.
  const second = await startServe(args);
  expect((await api('GET', `${second.api}/added`)).json.rateLimits.maxDispatchesPerSecond).toBe(2);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, PROCESSES_TEST_MS);

/** A command, and how the restarted service shows it held. `act` runs its preparation (answered), then the command itself last. */
interface OneCommand {
  kind: string;
  act(s: ServeProcess, client: CloudTasksClient): Promise<(restarted: ServeProcess) => Promise<void>>;
}

const taskName = (queue: string, task: string): string => `projects/p/locations/l/queues/${queue}/tasks/${task}`;
const restCreate = async (s: ServeProcess, queue: string, task: string): Promise<void> => {
  const r = await api('POST', `${s.api}/${queue}/tasks`, { task: { name: taskName(queue, task), appEngineHttpRequest: { relativeUri: `/${task}` } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
};
const status = async (s: ServeProcess, queue: string, task: string): Promise<number> => (await api('GET', `${s.api}/${queue}/tasks/${task}`)).status;
const listed = (task: string) => async (s: ServeProcess): Promise<void> => void expect(await status(s, 'held', task), `${task} after the restart`).toBe(200);
const gone = (queue: string, task: string) => async (s: ServeProcess): Promise<void> => void expect(await status(s, queue, task), `${task} after the restart`).toBe(404);
const queueState = (want: string) => async (s: ServeProcess): Promise<void> => void expect((await api('GET', `${s.api}/toggle`)).json.state).toBe(want);
const rpcOk = (r: { httpStatus: number; response: any }): void => {
  expect(r.httpStatus).toBe(200);
  expect(r.response.application_error ?? null).toBeNull();
};
const chosenName = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

const ONE_EACH: OneCommand[] = [
  { kind: 'REST CreateTask', act: async (s) => (await restCreate(s, 'held', 'one-rest'), listed('one-rest')) },
  {
    kind: 'gRPC CreateTask',
    act: async (_s, c) => {
      await c.createTask({ parent: c.queuePath('p', 'l', 'held'), task: { name: c.taskPath('p', 'l', 'held', 'one-grpc'), appEngineHttpRequest: { relativeUri: '/g' } } });
      return listed('one-grpc');
    },
  },
  {
    kind: 'rpc_http Add (named)',
    act: async (s) => (rpcOk(await callTaskQueue(s.url, 'Add', 'AddRequest', addRequest('held', { task_name: Buffer.from('one-add') }), 'AddResponse')), listed('one-add')),
  },
  {
    kind: 'rpc_http Add (unnamed)',
    act: async (s) => {
      const r = await callTaskQueue(s.url, 'Add', 'AddRequest', addRequest('held'), 'AddResponse');
      rpcOk(r);
      return listed(chosenName(r.value.chosen_task_name));
    },
  },
  {
    kind: 'rpc_http BulkAdd',
    act: async (s) => {
      const r = await callTaskQueue(s.url, 'BulkAdd', 'BulkAddRequest', { add_request: [addRequest('held', { task_name: Buffer.from('one-bulk') }), addRequest('held')] }, 'BulkAddResponse');
      rpcOk(r);
      const other = chosenName(r.value.taskResult[1].chosen_task_name);
      return async (restarted) => (await listed('one-bulk')(restarted), await listed(other)(restarted));
    },
  },
  {
    kind: 'datastore_v3 Commit',
    act: async (s) => {
      const begun = await postRpc(s.url, envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: 's~crash-app' })));
      const t = MESSAGES.Transaction.decode(begun.response.response) as any;
      const txn = { handle: Number(t.handle.toString()), app: t.app };
      const r = await callTaskQueue(s.url, 'Add', 'AddRequest', addRequest('held', { transaction: txn }), 'AddResponse');
      rpcOk(r);
      rpcOk(await postRpc(s.url, envelope('datastore_v3', 'Commit', encodeMessage('Transaction', txn))));
      return listed(chosenName(r.value.chosen_task_name));
    },
  },
  {
    kind: 'REST DeleteTask',
    act: async (s) => {
      await restCreate(s, 'held', 'del-rest');
      expect((await api('DELETE', `${s.api}/held/tasks/del-rest`)).status).toBe(200);
      return gone('held', 'del-rest');
    },
  },
  {
    kind: 'gRPC DeleteTask',
    act: async (s, c) => {
      await restCreate(s, 'held', 'del-grpc');
      await c.deleteTask({ name: c.taskPath('p', 'l', 'held', 'del-grpc') });
      return gone('held', 'del-grpc');
    },
  },
  {
    kind: 'rpc_http Delete',
    act: async (s) => {
      await restCreate(s, 'held', 'del-rpc');
      rpcOk(await callTaskQueue(s.url, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('held'), task_name: [Buffer.from('del-rpc')] }, 'DeleteResponse'));
      return gone('held', 'del-rpc');
    },
  },
  { kind: 'REST pause', act: async (s) => (expect((await api('POST', `${s.api}/toggle:pause`, {})).status).toBe(200), queueState('PAUSED')) },
  { kind: 'gRPC ResumeQueue', act: async (_s, c) => (await c.resumeQueue({ name: c.queuePath('p', 'l', 'toggle') }), queueState('RUNNING')) },
  { kind: 'gRPC PauseQueue', act: async (_s, c) => (await c.pauseQueue({ name: c.queuePath('p', 'l', 'toggle') }), queueState('PAUSED')) },
  { kind: 'REST resume', act: async (s) => (expect((await api('POST', `${s.api}/toggle:resume`, {})).status).toBe(200), queueState('RUNNING')) },
  { kind: 'rpc_http PauseQueue', act: async (s) => (rpcOk(await callTaskQueue(s.url, 'PauseQueue', 'PauseQueueRequest', { queue_name: Buffer.from('toggle'), pause: true })), queueState('PAUSED')) },
  {
    kind: 'REST purge',
    act: async (s) => {
      await restCreate(s, 'purged', 'pur-rest');
      expect((await api('POST', `${s.api}/purged:purge`, {})).status).toBe(200);
      return gone('purged', 'pur-rest');
    },
  },
  {
    kind: 'gRPC PurgeQueue',
    act: async (s, c) => {
      await restCreate(s, 'purged', 'pur-grpc');
      await c.purgeQueue({ name: c.queuePath('p', 'l', 'purged') });
      return gone('purged', 'pur-grpc');
    },
  },
  {
    kind: 'rpc_http PurgeQueue',
    act: async (s) => {
      await restCreate(s, 'purged', 'pur-rpc');
      rpcOk(await callTaskQueue(s.url, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('purged') }));
      return gone('purged', 'pur-rpc');
    },
  },
];

/** The commands in groups, each its own test on its own data directory (a restart a command: about a second each). */
const GROUPS: [string, OneCommand[]][] = [
  ['adds', ONE_EACH.filter((c) => /Create|Add|Commit/.test(c.kind))],
  ['deletes and purges', ONE_EACH.filter((c) => /Delete|purge|Purge/.test(c.kind))],
  ['pauses and resumes', ONE_EACH.filter((c) => /pause|resume|Pause|Resume/.test(c.kind) && !/Purge/.test(c.kind))],
];

it.each(GROUPS)('each kind of command (%s) holds when the service is killed -9 the moment its answer arrives', async (group, commands) => {
  const sub = join(dir, `one-each-${group.replaceAll(' ', '-')}`);
  const yaml = join(dir, 'one-each.yaml');
  await writeFile(yaml, CRASH_QUEUE_YAML);
  const args = ['--config', yaml, '--data', sub];
  let serve = await startServe(args);
  for (const command of commands) {
    const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: serve.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    const check = await command.act(serve, client);
    serve.child.kill('SIGKILL');
    expect(await serve.exited).toBe('SIGKILL');
    await client.close();
    serve = await startServe(args);
    await check(serve).catch((err: Error) => {
      throw new Error(`${command.kind}, answered, then kill -9: ${err.message}`);
    });
  }
  serve.child.kill('SIGTERM');
  expect(await serve.exited).toBe(0);
}, PROCESSES_TEST_MS * 2);

it('the groups take every command once', () => {
  expect(GROUPS.flatMap(([, c]) => c.map((x) => x.kind)).sort()).toEqual(ONE_EACH.map((c) => c.kind).sort());
});
