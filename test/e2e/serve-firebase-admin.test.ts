/**
 * Firebase Admin SDK's task queues (`getFunctions().taskQueue(NAME).enqueue`) against pushq, with
 * the variable the SDK honours for an emulator, CLOUD_TASKS_EMULATOR_HOST=127.0.0.1:PORT. The SDK
 * then POSTs to `http://HOST/projects/P/locations/L/queues/NAME/tasks` (no `/v2`), an HTTP target
 * task with an OIDC token for the app's service account; the queue is the function's name, defined
 * in queue.yaml. Its task URL is empty unless the caller gives one (`uri`), which pushq needs: it
 * has no functions emulator to resolve a function's URL (docs/serve.md).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getFunctions } from 'firebase-admin/functions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const SA = 'functions@demo-pushq.iam.gserviceaccount.com';

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let app: App;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-firebase-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: sendWelcome\n  rate: 10/s\n');
  worker = await startWorker();
  serve = await startServe(['--memory', '--config', join(dir, 'queue.yaml')]);
  process.env['CLOUD_TASKS_EMULATOR_HOST'] = new URL(serve.url).host;
  // A project and a service account given: the SDK looks for neither (no metadata server, no credentials file).
  app = initializeApp({ projectId: 'demo-pushq', serviceAccountId: SA }, 'pushq-test');
});

afterAll(async () => {
  delete process.env['CLOUD_TASKS_EMULATOR_HOST'];
  if (app !== undefined) await deleteApp(app);
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

it('enqueue: the function\'s queue gets an HTTP target task, sent as a JSON POST with an OIDC token naming the service account', async () => {
  const queue = getFunctions(app).taskQueue('sendWelcome');
  await queue.enqueue({ user: 42 }, { id: 'welcome-42', uri: `${worker.url}/sendWelcome`, dispatchDeadlineSeconds: 60 });
  await worker.waitFor((rs) => rs.some((r) => r.url === '/sendWelcome'), EVENT_BOUND_MS, 'the enqueued task');
  const r = worker.forUrl('/sendWelcome')[0]!;
  expect(r.method).toBe('POST');
  expect(JSON.parse(r.body.toString())).toEqual({ data: { user: 42 } });
  expect(r.headers['content-type']).toBe('application/json');
  expect(r.headers['x-cloudtasks-queuename']).toBe('sendWelcome');
  expect(r.headers['x-cloudtasks-taskname']).toBe('welcome-42');
  const claims = JSON.parse(Buffer.from((r.headers['authorization'] as string).split('.')[1]!, 'base64url').toString());
  expect(claims).toMatchObject({ email: SA, aud: `${worker.url}/sendWelcome`, iss: serve.url });

  // The same id again: the SDK's own error for a task that exists (pushq answers 409 ALREADY_EXISTS).
  await expect(queue.enqueue({ user: 42 }, { id: 'welcome-42', uri: `${worker.url}/sendWelcome` })).rejects.toMatchObject({ code: 'functions/task-already-exists' });
});

it('enqueue with a delay, then delete before it runs', async () => {
  const queue = getFunctions(app).taskQueue('sendWelcome');
  await queue.enqueue({ user: 7 }, { id: 'later-7', uri: `${worker.url}/later`, scheduleDelaySeconds: 3600 });
  const listed = await api('GET', `${serve.url}/v2/projects/demo-pushq/locations/us-central1/queues/sendWelcome/tasks`);
  expect(listed.json.tasks.map((t: any) => t.name)).toContain('projects/demo-pushq/locations/us-central1/queues/sendWelcome/tasks/later-7');
  await queue.delete('later-7');
  const after = await api('GET', `${serve.url}/v2/projects/demo-pushq/locations/us-central1/queues/sendWelcome/tasks`);
  expect((after.json.tasks ?? []).map((t: any) => t.name)).not.toContain('projects/demo-pushq/locations/us-central1/queues/sendWelcome/tasks/later-7');
  expect(worker.forUrl('/later')).toHaveLength(0);
});

it('without a uri the SDK sends an empty URL, which pushq refuses naming http_request.url', async () => {
  const queue = getFunctions(app).taskQueue('sendWelcome');
  await expect(queue.enqueue({ user: 1 })).rejects.toMatchObject({ code: 'functions/invalid-argument', message: expect.stringMatching(/httpRequest\.url is required/) });
});
