/**
 * The official Node client, `@google-cloud/tasks`, in its default mode (gRPC), unmodified, pointed
 * at `pushq serve --grpc-port 0` on loopback with insecure channel credentials: the documented
 * one-line set-up. It creates, gets, lists (with paging), runs and deletes tasks, pauses and
 * resumes a queue, and gets Cloud Tasks' errors (ALREADY_EXISTS, NOT_FOUND, INVALID_ARGUMENT,
 * FAILED_PRECONDITION) with the field in the status details. Nothing leaves loopback: the auth
 * library is told there is no metadata server to probe (test/global-setup.ts, for every test).
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { refusal } from '../helpers/cloud-tasks-clients.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let client: CloudTasksClient;
let parent: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-grpc-node-'));
  worker = await startWorker();
  serve = await startServe(['--data', join(dir, 'data'), '--target', `default=${worker.url}`]);
  expect(serve.stdout()).toMatch(new RegExp(` · gRPC 127\\.0\\.0\\.1:${serve.grpcPort} · `));
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: serve.grpcPort, sslCreds: grpc.credentials.createInsecure() });
  parent = client.queuePath('my-project', 'us-central1', 'default');
});

afterAll(async () => {
  await client?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The field a refusal's BadRequest detail names. */
function fieldOf(err: any): string | undefined {
  const bad = (err.statusDetails ?? []).find((d: any) => Array.isArray(d.fieldViolations));
  return bad?.fieldViolations[0]?.field;
}

describe('@google-cloud/tasks over gRPC against pushq serve', () => {
  it('pauses the queue, creates tasks, gets one (FULL view), lists them in pages, resumes', async () => {
    const [paused] = await client.pauseQueue({ name: parent });
    expect(paused.state).toBe('PAUSED');
    expect(paused.name).toBe(parent);

    const scheduleSeconds = Math.floor(Date.now() / 1000) + 3600;
    for (let i = 0; i < 5; i++) {
      const [task] = await client.createTask({
        parent,
        task: {
          name: `${parent}/tasks/g-${i}`,
          scheduleTime: { seconds: scheduleSeconds, nanos: 250_000_000 },
          appEngineHttpRequest: { httpMethod: 'PUT', relativeUri: `/grpc/${i}`, headers: { 'X-Job': String(i) }, body: Buffer.from(`job ${i}`) },
        },
      });
      expect(task.name).toBe(`${parent}/tasks/g-${i}`);
      expect(Number(task.scheduleTime!.seconds)).toBe(scheduleSeconds);
      expect(task.scheduleTime!.nanos).toBe(250_000_000);
      expect(task.appEngineHttpRequest!.httpMethod).toBe('PUT');
      expect(Number(task.dispatchDeadline!.seconds)).toBe(600);
    }

    const [got] = await client.getTask({ name: `${parent}/tasks/g-3`, responseView: 'FULL' });
    expect(Buffer.from(got.appEngineHttpRequest!.body as Uint8Array).toString()).toBe('job 3');
    expect(got.appEngineHttpRequest!.headers).toEqual({ 'X-Job': '3' });
    expect(got.appEngineHttpRequest!.relativeUri).toBe('/grpc/3');
    expect(got.view).toBe('FULL');
    const [basic] = await client.getTask({ name: `${parent}/tasks/g-3` });
    expect(basic.appEngineHttpRequest!.body?.length ?? 0).toBe(0);

    const pages: string[][] = [];
    let pageToken: string | undefined;
    do {
      const [page, , response] = await client.listTasks({ parent, pageSize: 2, ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false });
      pages.push(page.map((t) => t.name!.split('/').pop()!));
      pageToken = response?.nextPageToken || undefined;
    } while (pageToken !== undefined && pages.length < 10);
    expect(pages).toEqual([['g-0', 'g-1'], ['g-2', 'g-3'], ['g-4']]);
    const [all] = await client.listTasks({ parent, pageSize: 2 }); // the client's own auto-paging
    expect(all.map((t) => t.name!.split('/').pop())).toEqual(['g-0', 'g-1', 'g-2', 'g-3', 'g-4']);

    const [queues] = await client.listQueues({ parent: client.locationPath('my-project', 'us-central1') });
    expect(queues.map((q) => q.name)).toEqual([parent]);
    expect(queues[0]!.rateLimits!.maxDispatchesPerSecond).toBe(5);

    const [resumed] = await client.resumeQueue({ name: parent });
    expect(resumed.state).toBe('RUNNING');
  });

  it('runs a task now (ETA an hour ahead): the worker receives it; deletes another', async () => {
    const [ran] = await client.runTask({ name: `${parent}/tasks/g-0` });
    expect(ran.dispatchCount).toBe(1);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/grpc/0'), EVENT_BOUND_MS, 'the run task');
    const r = worker.forUrl('/grpc/0')[0]!;
    expect(r.method).toBe('PUT');
    expect(r.body.toString()).toBe('job 0');
    expect(r.headers['x-appengine-taskname']).toBe('g-0');

    await client.deleteTask({ name: `${parent}/tasks/g-1` });
    const gone = await refusal(client.getTask({ name: `${parent}/tasks/g-1` }));
    expect(gone.code).toBe(grpc.status.NOT_FOUND);
    // Deleted, its name reserved: NOT_FOUND saying so, as a second delete would (docs/errors.md).
    expect(gone.details).toMatch(/^task name "g-1" was used by a task that ended recently; .* \(TOMBSTONED_TASK\)$/);
  });

  it('a name in use is ALREADY_EXISTS; an unknown task or queue NOT_FOUND; a bad field INVALID_ARGUMENT naming it; none is logged', async () => {
    // g-0 ran: once its success is logged (the task is gone), nothing else is due to be written.
    for (let i = 0; i < 200 && (await api('GET', `${serve.api}/default/tasks/g-0`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 25));
    const log = join(dir, 'data', 'events.log');
    const logBytes = statSync(log).size;

    const exists = await refusal(client.createTask({ parent, task: { name: `${parent}/tasks/g-2`, appEngineHttpRequest: { relativeUri: '/x' } } }));
    expect(exists.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(exists.details).toMatch(/\(TASK_ALREADY_EXISTS\)$/);
    expect(exists.reason).toBe('TASK_ALREADY_EXISTS');
    expect(exists.domain).toBe('pushq');

    const tombstoned = await refusal(client.createTask({ parent, task: { name: `${parent}/tasks/g-1`, appEngineHttpRequest: {} } }));
    expect(tombstoned.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(tombstoned.details).toMatch(/\(TOMBSTONED_TASK\)$/);

    const noTask = await refusal(client.getTask({ name: `${parent}/tasks/nope` }));
    expect(noTask.code).toBe(grpc.status.NOT_FOUND);
    expect(noTask.details).toMatch(/\(UNKNOWN_TASK\)$/);
    const noQueue = await refusal(client.createTask({ parent: client.queuePath('p', 'l', 'nope'), task: { appEngineHttpRequest: {} } }));
    expect(noQueue.code).toBe(grpc.status.NOT_FOUND);
    expect(noQueue.details).toMatch(/\(UNKNOWN_QUEUE\)$/);

    const badName = await refusal(client.createTask({ parent, task: { name: `${parent}/tasks/has.dot`, appEngineHttpRequest: {} } }));
    expect(badName.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badName.details).toMatch(/\(INVALID_TASK_NAME\)$/);
    expect(fieldOf(badName)).toBe('task.name');

    const badUri = await refusal(client.createTask({ parent, task: { appEngineHttpRequest: { relativeUri: 'no-slash' } } }));
    expect(badUri.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldOf(badUri)).toBe('task.app_engine_http_request.relative_uri');

    const farEta = await refusal(client.createTask({ parent, task: { scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 31 * 86400 }, appEngineHttpRequest: {} } }));
    expect(farEta.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(farEta.details).toMatch(/more than 30 days ahead \(INVALID_ETA\)$/);
    expect(fieldOf(farEta)).toBe('task.schedule_time');

    const deadline = await refusal(client.createTask({ parent, task: { dispatchDeadline: { seconds: 5 }, appEngineHttpRequest: {} } }));
    expect(deadline.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldOf(deadline)).toBe('task.dispatch_deadline');

    const badParent = await refusal(client.listTasks({ parent: 'projects/p/queues/default' }));
    expect(badParent.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldOf(badParent)).toBe('parent');

    // Nothing of this was added (g-0 ran and succeeded, g-1 was deleted).
    const listed = await api('GET', `${serve.api}/default/tasks`);
    expect(listed.json.tasks.map((t: any) => t.name.split('/').pop())).toEqual(['g-2', 'g-3', 'g-4']);
    // And nothing of it was logged (every answer waits for the log, so the size is final here).
    expect(statSync(log).size).toBe(logBytes);
  });

  it('queue create, update and delete are FAILED_PRECONDITION (queues come from queue.yaml); IAM is UNIMPLEMENTED', async () => {
    const location = client.locationPath('p', 'l');
    for (const call of [
      client.createQueue({ parent: location, queue: { name: `${location}/queues/new` } }),
      client.updateQueue({ queue: { name: parent } }),
      client.deleteQueue({ name: parent }),
    ]) {
      const e = await refusal(call);
      expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(e.details).toMatch(/\(QUEUES_FROM_CONFIG\)$/);
    }
    const iam = await refusal(client.getIamPolicy({ resource: parent }));
    expect(iam.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('a request message over the size limit is refused from its length prefix (RESOURCE_EXHAUSTED), and adds nothing', async () => {
    const log = join(dir, 'data', 'events.log');
    const logBytes = statSync(log).size;
    const big = await refusal(client.createTask({ parent, task: { name: `${parent}/tasks/big`, appEngineHttpRequest: { body: Buffer.alloc(300 * 1024, 1) } } }));
    expect(big.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const got = await refusal(client.getTask({ name: `${parent}/tasks/big` }));
    expect(got.code).toBe(grpc.status.NOT_FOUND);
    expect(statSync(log).size).toBe(logBytes);
  });

  it('a task created over gRPC is in the same engine as REST: listed there, and durable (its story is in the log)', async () => {
    const [task] = await client.createTask({ parent, task: { appEngineHttpRequest: { relativeUri: '/grpc/generated' } } });
    const id = task.name!.split('/').pop()!;
    expect(id).toMatch(/^task\d+$/);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/grpc/generated'), EVENT_BOUND_MS, 'the generated task');
    const story = await api('GET', `${serve.url}/pushq/queues/default/tasks/${id}/story`);
    expect(story.status).toBe(200);
    expect(story.json.attempts.length).toBeGreaterThanOrEqual(1);
  });
});
