/**
 * ResumeQueue on a DISABLED queue (one a reload left out of queue.yaml), with the official Node
 * client over gRPC and over REST against a real `pushq serve` and a real worker on loopback.
 * cloudtasks.proto: "This method resumes a queue after it has been PAUSED or DISABLED ... after
 * calling this method it will be set to RUNNING." The queue runs under its last configuration
 * until a reload that still leaves it out disables it again (gcloud's deploy does the same). A
 * queue whose configuration gives it rate 0 has no rate to run at: still QUEUE_NOT_RESUMABLE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { grpcClient, restClient, refusal } from '../helpers/cloud-tasks-clients.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = 'queue:\n- name: default\n  rate: 5/s\n- name: stopped\n  rate: 0\n- name: leaving-grpc\n  rate: 20/s\n- name: leaving-rest\n  rate: 20/s\n';

let dir: string;
let yaml: string;
let serve: ServeProcess;
let worker: Worker;
const clients: Record<'grpc' | 'rest', CloudTasksClient> = {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-resume-disabled-'));
  yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, YAML);
  worker = await startWorker();
  serve = await startServe(['--memory', '--config', yaml, '--target', `default=${worker.url}`]);
  clients.grpc = grpcClient(serve.grpcPort);
  clients.rest = restClient(Number(new URL(serve.url).port));
}, 30_000);

afterAll(async () => {
  await clients.grpc?.close();
  await clients.rest?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// Sequential: both cases reload the one file, and a reload that leaves a queue out disables it again.
describe.sequential.each(['grpc', 'rest'] as const)('ResumeQueue over %s', (mode) => {
  it('resumes a DISABLED queue to RUNNING, and its tasks are dispatched; a rate-0 queue is still refused', async () => {
    const client = clients[mode];
    const queue = `leaving-${mode}`;
    const name = client.queuePath('p', 'l', queue);
    // Held by a pause, then left out of the file: DISABLED, its task kept and not dispatched.
    await client.pauseQueue({ name });
    await client.createTask({ parent: name, task: { name: `${name}/tasks/kept`, appEngineHttpRequest: { relativeUri: `/kept-${mode}` } } });
    await writeFile(yaml, YAML.replace(`- name: ${queue}\n  rate: 20/s\n`, ''));
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    const [disabled] = await client.getQueue({ name });
    expect(disabled.state).toBe('DISABLED');

    const [resumed] = await client.resumeQueue({ name });
    expect(resumed.state).toBe('RUNNING');
    expect(resumed.rateLimits?.maxDispatchesPerSecond).toBe(20); // its last configuration
    await worker.waitFor((r) => r.some((x) => x.url === `/kept-${mode}`), EVENT_BOUND_MS, `the kept task of ${queue}`);

    // A reload that still leaves it out disables it again, as each deploy does.
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    expect((await client.getQueue({ name }))[0].state).toBe('DISABLED');
    await writeFile(yaml, YAML);
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);

    const stopped = await refusal(client.resumeQueue({ name: client.queuePath('p', 'l', 'stopped') }));
    expect(stopped.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(stopped.message).toMatch(/has rate 0 in the queue configuration.*\(QUEUE_NOT_RESUMABLE\)$/);
  });
});
