/**
 * Generated task names through every API (PushqService on a memory log, real HTTP and gRPC
 * servers and a worker on loopback): only the canonical `task<N>` (no leading zeros) names the
 * unnamed task N. `task01`, `task001`… are explicit names like any other: reading or deleting
 * one does not reach task1, and creating one is not refused because task1 exists.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../src/config/load.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { PushqService } from '../../src/server/service.js';
import { addRequest, callTaskQueue } from '../helpers/remote-api.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';

let dir: string;
let worker: Worker;
let service: PushqService;
let client: CloudTasksClient;
const QUEUE = 'projects/p/locations/l/queues/held';
let tasksUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-names-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: held\n  rate: 0\n');
  const result = await loadQueueConfigFile(join(dir, 'queue.yaml'));
  worker = await startWorker();
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: result.config!, configPath: join(dir, 'queue.yaml'), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: service.grpcPort!, sslCreds: grpc.credentials.createInsecure() });
  tasksUrl = `${service.url}/v2/${QUEUE}/tasks`;
});

afterAll(async () => {
  await client?.close();
  await service?.close(1000);
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Creates an unnamed task through REST and returns its generated name (`taskN`). */
async function createUnnamed(): Promise<string> {
  const r = await api('POST', tasksUrl, { task: { appEngineHttpRequest: {} } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return (r.json.name as string).slice(QUEUE.length + '/tasks/'.length);
}

/** The gRPC status code a call rejects with. */
async function grpcCode(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: number }).code;
  }
  return undefined;
}

describe('a name with leading zeros is an explicit name, not a generated one', () => {
  it('REST: GET and DELETE of task0N do not reach taskN; creating task0N succeeds beside it', async () => {
    const generated = await createUnnamed();
    const id = generated.slice('task'.length);
    expect(generated).toMatch(/^task(0|[1-9]\d*)$/);
    const padded = `task0${id}`;
    expect((await api('GET', `${tasksUrl}/${padded}`)).status).toBe(404);
    expect((await api('DELETE', `${tasksUrl}/${padded}`)).status).toBe(404);
    expect((await api('GET', `${tasksUrl}/${generated}`)).status).toBe(200);
    const created = await api('POST', tasksUrl, { task: { name: `${QUEUE}/tasks/${padded}`, appEngineHttpRequest: {} } });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.name).toBe(`${QUEUE}/tasks/${padded}`);
    expect((await api('DELETE', `${tasksUrl}/${padded}`)).status).toBe(200);
    // The unnamed task is still there, untouched by the delete of the padded name.
    expect((await api('GET', `${tasksUrl}/${generated}`)).status).toBe(200);
  });

  it('gRPC: getTask / deleteTask of task00N are NOT_FOUND; createTask of task00N succeeds', async () => {
    const generated = await createUnnamed();
    const padded = `task00${generated.slice('task'.length)}`;
    expect(await grpcCode(client.getTask({ name: `${QUEUE}/tasks/${padded}` }))).toBe(grpc.status.NOT_FOUND);
    expect(await grpcCode(client.deleteTask({ name: `${QUEUE}/tasks/${padded}` }))).toBe(grpc.status.NOT_FOUND);
    const [task] = await client.createTask({ parent: QUEUE, task: { name: `${QUEUE}/tasks/${padded}`, appEngineHttpRequest: { relativeUri: '/x' } } });
    expect(task.name).toBe(`${QUEUE}/tasks/${padded}`);
    const [still] = await client.getTask({ name: `${QUEUE}/tasks/${generated}` });
    expect(still.name).toBe(`${QUEUE}/tasks/${generated}`);
  });

  it('/rpc_http: Add of task000N is OK, Delete of task0000N is UNKNOWN_TASK', async () => {
    const generated = await createUnnamed();
    const id = generated.slice('task'.length);
    const add = await callTaskQueue(service.url, 'Add', 'AddRequest', addRequest('held', { task_name: Buffer.from(`task000${id}`) }), 'AddResponse');
    expect(add.response?.application_error ?? null).toBeNull();
    const del = await callTaskQueue(service.url, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('held'), task_name: [Buffer.from(`task0000${id}`)] }, 'DeleteResponse');
    expect(del.value.result).toEqual([TASK_QUEUE_ERROR.UNKNOWN_TASK]);
    expect((await api('GET', `${tasksUrl}/${generated}`)).status).toBe(200);
    // The canonical name still names the unnamed task: adding it is refused.
    const again = await callTaskQueue(service.url, 'Add', 'AddRequest', addRequest('held', { task_name: Buffer.from(generated) }), 'AddResponse');
    expect(again.response?.application_error?.code).toBe(TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS);
  });
});

describe('a generated name never takes a name a later task of the same batch gives', () => {
  it('/rpc_http BulkAdd [unnamed, named task<N+1>]: the unnamed one is task<N+1>-1, each name holds one task', async () => {
    const n = Number((await createUnnamed()).slice('task'.length));
    const taken = `task${n + 1}`;
    const r = await callTaskQueue(service.url, 'BulkAdd', 'BulkAddRequest', { add_request: [addRequest('held'), addRequest('held', { task_name: Buffer.from(taken) })] }, 'BulkAddResponse');
    expect(r.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.OK, TASK_QUEUE_ERROR.OK]);
    expect(Buffer.from(r.value.taskResult[0].chosen_task_name).toString()).toBe(`${taken}-1`);
    const list = await api('GET', `${tasksUrl}?pageSize=1000`);
    const names = (list.json.tasks as { name: string }[]).map((t) => t.name.slice(QUEUE.length + '/tasks/'.length));
    expect(names.filter((x) => x === taken)).toHaveLength(1);
    expect(names).toContain(`${taken}-1`);
  });
});
