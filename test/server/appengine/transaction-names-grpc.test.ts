/**
 * A name an open App Engine transaction chose for one of its tasks (`txn<handle>-<k>`, the Add's
 * `chosen_task_name`) is taken for the Cloud Tasks gRPC API too, through the real
 * @google-cloud/tasks client: a CreateTask of it is ALREADY_EXISTS, naming the transaction, and
 * leaves nothing behind, so the transaction's commit still adds its task under that name. After
 * the commit the task holds it; a rollback instead frees it (docs/app-engine.md, Transactional
 * tasks). transactions.test.ts pins the same through /rpc_http and REST.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../../src/server/appengine/messages.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../../helpers/remote-api.js';

const APP = 's~my-app';
let pushq: RunningPushq;
let client: CloudTasksClient;

beforeAll(async () => {
  pushq = await startPushq({ queueYaml: 'queue:\n- name: held\n  rate: 0\n' });
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: pushq.grpcPort, sslCreds: grpc.credentials.createInsecure() });
});

afterAll(async () => {
  await client?.close();
  await pushq?.close();
});

async function datastore(method: 'BeginTransaction' | 'Commit' | 'Rollback', value: Record<string, unknown>): Promise<any> {
  const r = await postRpc(pushq.url, envelope('datastore_v3', method, encodeMessage(method === 'BeginTransaction' ? 'BeginTransactionRequest' : 'Transaction', value)));
  expect(r.httpStatus).toBe(200);
  expect(r.response.application_error ?? null).toBeNull();
  return r.response;
}

/** A transaction with one staged task: its handle and the name chosen for the task. */
async function staged(): Promise<{ txn: { handle: number; app: string }; name: string }> {
  const t = MESSAGES.Transaction.decode((await datastore('BeginTransaction', { app: APP, mode: 2 })).response) as any;
  const txn = { handle: Number(t.handle.toString()), app: APP };
  const add = await callTaskQueue(pushq.url, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from('/in-txn'), transaction: txn }), 'AddResponse');
  return { txn, name: Buffer.from(add.value.chosen_task_name).toString() };
}

const parent = (): string => client.queuePath('p', 'l', 'held');
const create = (name: string): Promise<unknown> => client.createTask({ parent: parent(), task: { name: `${parent()}/tasks/${name}`, appEngineHttpRequest: { relativeUri: '/by-name' } } });

describe('a transaction’s chosen names and CreateTask over gRPC', () => {
  it('is ALREADY_EXISTS while the transaction is open; the commit then adds its task under that name', async () => {
    await pushq.reset();
    const { txn, name } = await staged();
    expect(name).toBe(`txn${txn.handle}-0`);
    const before = pushq.service.kernel.state.eventsApplied;
    const refused = await create(name).then(() => null, (e: { code: number; details: string }) => e);
    expect(refused?.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(refused?.details).toBe(`task "${name}" already exists in queue "held": the name was chosen for a task of open transaction ${txn.handle}, added when it commits (TASK_ALREADY_EXISTS)`);
    expect(pushq.service.kernel.state.eventsApplied).toBe(before);

    await datastore('Commit', txn);
    const [task] = await client.getTask({ name: `${parent()}/tasks/${name}` });
    expect(task.appEngineHttpRequest?.relativeUri).toBe('/in-txn');
    expect(((await create(name).then(() => null, (e: { code: number }) => e)) as { code: number } | null)?.code).toBe(grpc.status.ALREADY_EXISTS);
  });

  it('is free again after a rollback', async () => {
    await pushq.reset();
    const { txn, name } = await staged();
    await datastore('Rollback', txn);
    const [task] = (await create(name)) as [{ name: string }];
    expect(task.name).toBe(`${parent()}/tasks/${name}`);
  });
});
