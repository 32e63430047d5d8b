/**
 * The official Node client, `@google-cloud/tasks`, in REST mode (it sends
 * `$alt=json;enum-encoding=int`), pointed at `pushq serve` on loopback with an auth client that
 * adds no credentials: it creates, gets, lists (with paging) and deletes tasks unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { restClient } from '../helpers/cloud-tasks-clients.js';

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let client: CloudTasksClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-client-'));
  worker = await startWorker(() => ({ status: 200, delayMs: 0 }));
  // The default queue (5/s): paused below so tasks stay listed.
  serve = await startServe(['--data', join(dir, 'data'), '--target', `default=${worker.url}`, '--scaling', 'default=basic']);
  const port = Number(new URL(serve.url).port);
  client = restClient(port);
});

afterAll(async () => {
  await client?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

it('creates, gets, lists and deletes tasks with @google-cloud/tasks (REST)', async () => {
  const parent = client.queuePath('my-project', 'us-central1', 'default');
  const [paused] = await client.pauseQueue({ name: parent });
  expect(paused.state).toBe('PAUSED');

  const scheduleSeconds = Math.floor(Date.now() / 1000) + 3600;
  const created = [];
  for (let i = 0; i < 5; i++) {
    const [task] = await client.createTask({
      parent,
      task: {
        name: `${parent}/tasks/client-${i}`,
        scheduleTime: { seconds: scheduleSeconds },
        appEngineHttpRequest: { httpMethod: 'POST', relativeUri: `/client/${i}`, headers: { 'X-Job': String(i) }, body: Buffer.from(`job ${i}`) },
      },
    });
    created.push(task);
  }
  expect(created[0]!.name).toBe(`${parent}/tasks/client-0`);
  expect(Number(created[0]!.scheduleTime!.seconds)).toBe(scheduleSeconds);
  expect(created[0]!.appEngineHttpRequest!.relativeUri).toBe('/client/0');
  expect(Number(created[0]!.dispatchDeadline!.seconds)).toBe(24 * 3600); // --scaling default=basic

  const [got] = await client.getTask({ name: `${parent}/tasks/client-3`, responseView: 'FULL' });
  expect(Buffer.from(got.appEngineHttpRequest!.body as Uint8Array).toString()).toBe('job 3');
  expect(got.appEngineHttpRequest!.headers).toEqual({ 'X-Job': '3' });
  expect(got.dispatchCount).toBe(0);

  // Paging: pages of 2, following nextPageToken by hand; then the client's own auto-paging.
  const pages: string[][] = [];
  let pageToken: string | undefined;
  do {
    const [page, , response] = await client.listTasks({ parent, pageSize: 2, ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false });
    pages.push(page.map((t) => t.name!.split('/').pop()!));
    pageToken = response?.nextPageToken || undefined;
  } while (pageToken !== undefined && pages.length < 10);
  expect(pages).toEqual([['client-0', 'client-1'], ['client-2', 'client-3'], ['client-4']]);
  const [listed] = await client.listTasks({ parent });
  expect(listed.map((t) => t.name)).toEqual(created.map((t) => t.name));

  await client.deleteTask({ name: `${parent}/tasks/client-1` });
  const [after] = await client.listTasks({ parent });
  expect(after.map((t) => t.name!.split('/').pop())).toEqual(['client-0', 'client-2', 'client-3', 'client-4']);

  // Errors arrive as the client's own errors, with the gRPC code of the Google status.
  await expect(client.createTask({ parent, task: { name: `${parent}/tasks/client-0`, appEngineHttpRequest: {} } })).rejects.toMatchObject({ code: 6 }); // ALREADY_EXISTS
  await expect(client.getTask({ name: `${parent}/tasks/nope` })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
  await expect(client.createQueue({ parent: client.locationPath('my-project', 'us-central1'), queue: { name: `${client.locationPath('my-project', 'us-central1')}/queues/new` } })).rejects.toMatchObject({ code: 9 }); // FAILED_PRECONDITION

  const [queues] = await client.listQueues({ parent: client.locationPath('my-project', 'us-central1') });
  expect(queues.map((q) => q.name)).toEqual([parent]);
  expect(queues[0]!.rateLimits!.maxBurstSize).toBe(5);
});
