/**
 * Transactional tasks through `POST /rpc_http` in-process (PushqService on a memory log), with raw
 * remote_api calls: datastore_v3.BeginTransaction, taskqueue.Add / BulkAdd with the transaction,
 * Commit / Rollback. Commit adds every task in one step (replay of the log gives the live state);
 * begin, staging and rollback log nothing; App Engine's refusals and codes: a named task
 * INVALID_TASK_NAME (5), a sixth task and a call over several transactions DATASTORE_ERROR +
 * BAD_REQUEST (10001), a request over 1 MiB TRANSACTIONAL_REQUEST_TOO_LARGE (23), a task over
 * 100 KiB TASK_TOO_LARGE (4); Commit / Rollback of an unknown or ended transaction BAD_REQUEST (1);
 * a commit the engine refuses adds none of its tasks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../../src/config/load.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../../src/log/event-log.js';
import { MemoryEventLog } from '../../../src/log/memory-log.js';
import { replay, stateDigest } from '../../../src/log/replay.js';
import { DATASTORE_ERROR, MESSAGES, RPC_ERROR, TASK_QUEUE_ERROR } from '../../../src/server/appengine/messages.js';
import { PushqService } from '../../../src/server/service.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../../helpers/remote-api.js';

const YAML = `
total_storage_limit: 8K
queue:
- name: held
  rate: 0
- name: other
  rate: 0
`;
const APP = 's~my-app';

let dir: string;
let log: MemoryEventLog;
let service: PushqService;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-rpc-txn-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  const result = await loadQueueConfigFile(join(dir, 'queue.yaml'));
  log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: result.config!, configPath: join(dir, 'queue.yaml'), targets: {}, log, allowReset: true });
  base = service.url;
});

afterAll(async () => {
  await service?.close(1000);
  await rm(dir, { recursive: true, force: true });
});

const events = (): number => service.kernel.state.eventsApplied;
const heldCount = (queue = 'held'): number => service.kernel.state.queueByName.get(queue)!.countByState.reduce((a, b) => a + b, 0);

async function datastore(method: string, type: 'BeginTransactionRequest' | 'Transaction', value: Record<string, unknown>): Promise<any> {
  const r = await postRpc(base, envelope('datastore_v3', method, encodeMessage(type, value)));
  expect(r.httpStatus).toBe(200);
  return r.response;
}

/** The whole answer, for appError. */
async function datastoreCall(method: string, type: 'BeginTransactionRequest' | 'Transaction', value: Record<string, unknown>): Promise<{ response: any }> {
  return { response: await datastore(method, type, value) };
}

async function begin(): Promise<{ handle: number; app: string }> {
  const r = await datastore('BeginTransaction', 'BeginTransactionRequest', { app: APP, mode: 2 });
  expect(r.application_error ?? null).toBeNull();
  const t = MESSAGES.Transaction.decode(r.response) as any;
  expect(t.app).toBe(APP);
  return { handle: Number(t.handle.toString()), app: t.app };
}

const txAdd = (txn: { handle: number; app: string }, url: string, fields: Record<string, unknown> = {}, queue = 'held'): Record<string, unknown> => addRequest(queue, { url: Buffer.from(url), transaction: txn, ...fields });

function appError(r: { response: any }): { code: number; detail: string } {
  expect(r.response?.application_error, 'an application_error').toBeTruthy();
  return r.response.application_error;
}

describe('transactional tasks on /rpc_http', () => {
  it('tasks added in a transaction are nowhere until its commit, which adds them all in one step; begin and staging log nothing', async () => {
    const before = events();
    const txn = await begin();
    const one = await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/t/one'), 'AddResponse');
    expect(one.response.application_error ?? null).toBeNull();
    // Named at the Add, as the development server names it: the task is added under it at the commit.
    const chosen = [Buffer.from(one.value.chosen_task_name).toString()];
    expect(chosen[0]).toBe(`txn${txn.handle}-0`);
    // A batch over two queues in one transaction (App Engine's AddActions takes any queue).
    const bulk = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [txAdd(txn, '/t/two'), txAdd(txn, '/t/three', {}, 'other')] }, 'BulkAddResponse');
    expect(bulk.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.OK, TASK_QUEUE_ERROR.OK]);
    chosen.push(...bulk.value.taskResult.map((t: any) => Buffer.from(t.chosen_task_name).toString()));
    expect(chosen).toEqual([`txn${txn.handle}-0`, `txn${txn.handle}-1`, `txn${txn.handle}-2`]);
    expect(events()).toBe(before);
    expect(heldCount()).toBe(0);

    const r = await datastore('Commit', 'Transaction', txn);
    expect(r.application_error ?? null).toBeNull();
    expect(r.rpc_error ?? null).toBeNull();
    MESSAGES.CommitResponse.decode(r.response);
    const added = log.toArray().slice(before);
    expect(added.map((e) => e.type)).toEqual(['TaskAdded', 'TaskAdded', 'TaskAdded']);
    expect(added.map((e) => (e.type === 'TaskAdded' ? `${e.queue}/${e.options?.name}` : ''))).toEqual([`held/${chosen[0]}`, `held/${chosen[1]}`, `other/${chosen[2]}`]);
    expect(new Set(added.map((e) => e.t)).size, 'one step: one time').toBe(1);
    expect(heldCount()).toBe(2);
    expect(heldCount('other')).toBe(1);
    expect(stateDigest(replay(log.toArray()))).toBe(stateDigest(service.kernel.state));

    const again = appError(await datastoreCall('Commit', 'Transaction', txn));
    expect(again.code).toBe(DATASTORE_ERROR.BAD_REQUEST);
    expect(again.detail).toMatch(new RegExp(`cannot commit transaction ${txn.handle} of app "s~my-app": pushq has no such open transaction .*\\(BAD_REQUEST\\)$`));
    expect(heldCount()).toBe(2);
  });

  it('a name chosen for a staged task is taken until the transaction ends: an add of it by name (rpc_http, REST) is TASK_ALREADY_EXISTS; a rollback frees it', async () => {
    const txn = await begin();
    const staged = await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/reserved'), 'AddResponse');
    const name = Buffer.from(staged.value.chosen_task_name).toString();
    const before = events();
    const byName = appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from('/by-name'), task_name: Buffer.from(name) })));
    expect(byName.code).toBe(TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS);
    expect(byName.detail).toContain(`task "${name}" already exists in queue "held": the name was chosen for a task of open transaction ${txn.handle}, added when it commits`);
    // In a batch only that slot fails; the others are added.
    const bulk = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [addRequest('held', { url: Buffer.from('/b0'), task_name: Buffer.from(name) }), addRequest('held', { url: Buffer.from('/b1') })] }, 'BulkAddResponse');
    expect(bulk.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS, TASK_QUEUE_ERROR.OK]);
    const rest = await fetch(`${base}/v2/projects/p/locations/l/queues/held/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/held/tasks/${name}`, appEngineHttpRequest: { relativeUri: '/rest' } } }) });
    expect(rest.status).toBe(409);
    expect(((await rest.json()) as any).error.status).toBe('ALREADY_EXISTS');
    expect(events() - before, 'only the unnamed task of the batch').toBe(1);
    expect((await datastore('Rollback', 'Transaction', txn)).application_error ?? null).toBeNull();
    const free = await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from('/after'), task_name: Buffer.from(name) }));
    expect(free.response.application_error ?? null).toBeNull();
  });

  it('rollback drops the staged tasks: nothing is added or logged; a rollback of an ended transaction is BAD_REQUEST', async () => {
    const before = events();
    const txn = await begin();
    await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/rolled-back'));
    const r = await datastore('Rollback', 'Transaction', txn);
    expect(r.application_error ?? null).toBeNull();
    expect(appError(await datastoreCall('Rollback', 'Transaction', txn)).detail).toMatch(/cannot roll back transaction/);
    expect(appError(await datastoreCall('Commit', 'Transaction', txn)).code).toBe(DATASTORE_ERROR.BAD_REQUEST);
    expect(events()).toBe(before);
  });

  it('a named task is INVALID_TASK_NAME (5), its batch refused (the others SKIPPED), nothing staged', async () => {
    const txn = await begin();
    const single = appError(await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/n', { task_name: Buffer.from('named') })));
    expect(single.code).toBe(TASK_QUEUE_ERROR.INVALID_TASK_NAME);
    expect(single.detail).toMatch(/task "named" is bound to a transaction: a task bound to a transaction cannot be named/);
    const bulk = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [txAdd(txn, '/a'), txAdd(txn, '/n', { task_name: Buffer.from('named') })] }, 'BulkAddResponse');
    expect(bulk.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.SKIPPED, TASK_QUEUE_ERROR.INVALID_TASK_NAME]);
    const before = events();
    expect((await datastore('Commit', 'Transaction', txn)).application_error ?? null).toBeNull();
    expect(events()).toBe(before);
  });

  it('a sixth task is DATASTORE_ERROR + BAD_REQUEST (10001), in one call or over several; none of that call is staged', async () => {
    const txn = await begin();
    const six = appError(await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: Array.from({ length: 6 }, (_, i) => txAdd(txn, `/six/${i}`)) }));
    expect(six.code).toBe(TASK_QUEUE_ERROR.DATASTORE_ERROR + DATASTORE_ERROR.BAD_REQUEST);
    expect(six.code).toBe(10001);
    expect(six.detail).toMatch(/6 more would make 6 .*at most 5; none of these was added \(DATASTORE_ERROR \+ BAD_REQUEST\)$/);
    for (let i = 0; i < 5; i++) expect((await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, `/five/${i}`))).response.application_error ?? null).toBeNull();
    expect(appError(await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/sixth'))).code).toBe(10001);
    const before = heldCount();
    await datastore('Commit', 'Transaction', txn);
    expect(heldCount()).toBe(before + 5);
  });

  it('one call over two transactions, or bound and unbound tasks mixed, is 10001 and adds nothing; an unknown transaction too', async () => {
    const a = await begin();
    const b = await begin();
    const before = events();
    const two = appError(await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [txAdd(a, '/x'), txAdd(b, '/y')] }));
    expect(two.code).toBe(10001);
    expect(two.detail).toMatch(/cannot add requests to different transactions: task 1 is bound to transaction \d+ and task 0 to transaction \d+/);
    for (const add_request of [[txAdd(a, '/x'), addRequest('held')], [addRequest('held'), txAdd(a, '/x')]]) {
      expect(appError(await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request })).detail).toMatch(/different transactions: task \d is bound to none/);
    }
    const unknown = appError(await callTaskQueue(base, 'Add', 'AddRequest', txAdd({ handle: 12345, app: APP }, '/u')));
    expect(unknown.code).toBe(10001);
    expect(unknown.detail).toMatch(/cannot add tasks to transaction 12345 .*no such open transaction/);
    expect(events()).toBe(before);
    for (const t of [a, b]) expect((await datastore('Commit', 'Transaction', t)).application_error ?? null).toBeNull();
    expect(events()).toBe(before);
  });

  it('sizes: a task over 100 KiB is TASK_TOO_LARGE (4); a request over 1 MiB is TRANSACTIONAL_REQUEST_TOO_LARGE (23)', async () => {
    const txn = await begin();
    expect(appError(await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/big', { body: Buffer.alloc(101 * 1024) }))).code).toBe(TASK_QUEUE_ERROR.TASK_TOO_LARGE);
    // Twelve tasks of 90 KiB: each fits, the request does not (the size is checked before the count).
    const huge = appError(await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: Array.from({ length: 12 }, (_, i) => txAdd(txn, `/h/${i}`, { body: Buffer.alloc(90 * 1024) })) }));
    expect(huge.code).toBe(TASK_QUEUE_ERROR.TRANSACTIONAL_REQUEST_TOO_LARGE);
    expect(huge.detail).toMatch(/one transactional request may be at most 1048576 bytes; nothing was added/);
    await datastore('Rollback', 'Transaction', txn);
  });

  it('a commit the engine refuses (here the storage limit, passed by the tasks together) adds none of them and ends the transaction', async () => {
    const txn = await begin();
    for (const i of [0, 1]) expect((await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, `/store/${i}`, { body: Buffer.alloc(5000) }))).response.application_error ?? null).toBeNull();
    const before = events();
    const r = await datastore('Commit', 'Transaction', txn);
    expect(r.rpc_error.code).toBe(RPC_ERROR.OVER_QUOTA);
    expect(r.rpc_error.detail).toMatch(/storage/i);
    expect(events()).toBe(before);
    expect(appError(await datastoreCall('Commit', 'Transaction', txn)).detail).toMatch(/no such open transaction/);
  });

  it('POST /pushq/reset drops open transactions with their tasks', async () => {
    const txn = await begin();
    await callTaskQueue(base, 'Add', 'AddRequest', txAdd(txn, '/reset'));
    expect((await fetch(`${base}/pushq/reset`, { method: 'POST' })).status).toBe(200);
    const before = events();
    expect(appError(await datastoreCall('Commit', 'Transaction', txn)).detail).toMatch(/no such open transaction/);
    expect(events()).toBe(before);
  });

  it('a transaction call whose message does not decode is PARSE_ERROR naming it', async () => {
    const r = await postRpc(base, envelope('datastore_v3', 'Commit', Buffer.from([0x12, 0x01, 0x61])));
    expect(r.response.rpc_error.code).toBe(RPC_ERROR.PARSE_ERROR);
    expect(r.response.rpc_error.detail).toMatch(/datastore_v3\.Commit is not a Transaction: missing required 'handle'/);
  });
});
