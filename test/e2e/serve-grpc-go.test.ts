/**
 * Google's Go client for Cloud Tasks, `cloud.google.com/go/cloudtasks/apiv2` (Debian's
 * golang-google-cloud-dev, installed by .ci/ensure-go.sh before the tests), unchanged, against
 * `pushq serve`'s gRPC API on loopback: a Go program (test/fixtures/cloudtasks-go/main.go) built
 * here in GOPATH mode, set up with option.WithEndpoint, option.WithoutAuthentication() and an
 * insecure dial option, prints what every call returned (HTTP target tasks included).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const run = promisify(execFile);
const GOPATH = '/usr/share/gocode';
const CLIENT = join(GOPATH, 'src/cloud.google.com/go/cloudtasks/apiv2/cloud_tasks_client.go');
const PARENT = 'projects/go-project/locations/us-central1/queues/default';

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let out: any;

beforeAll(async () => {
  if (!existsSync(CLIENT)) throw new Error(`Google's Cloud Tasks Go client is not at ${CLIENT}: run bash .ci/ensure-go.sh (Debian: apt-get install golang-go golang-google-cloud-dev)`);
  dir = await mkdtemp(join(tmpdir(), 'pushq-cloudtasks-go-'));
  const program = join(dir, 'cloudtasks-go');
  // GOPATH mode, as the Debian packages are laid out; the build cache is kept between runs.
  const env = { ...process.env, GO111MODULE: 'off', GOPATH, CGO_ENABLED: '0', GOCACHE: join(tmpdir(), 'pushq-gocache'), GOFLAGS: '' };
  await run('go', ['build', '-o', program, '.'], { cwd: join(ROOT, 'test/fixtures/cloudtasks-go'), env, timeout: 400_000 });
  worker = await startWorker();
  serve = await startServe(['--memory', '--target', `default=${worker.url}`]);
  const { stdout } = await run(program, [], {
    timeout: 60_000,
    // No Google credentials or metadata server are looked for (WithoutAuthentication): nothing leaves loopback.
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, PUSHQ_GRPC: `127.0.0.1:${serve.grpcPort}`, HTTP_TARGET: worker.url },
  });
  out = JSON.parse(stdout);
}, 480_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('cloud.google.com/go/cloudtasks/apiv2 over gRPC against pushq serve', () => {
  it('pauses the queue, creates tasks (ETA, method, headers, body), gets one in the FULL view, resumes', () => {
    expect(out.paused).toBe('PAUSED');
    expect(out.created).toBe(`${PARENT}/tasks/go-0`);
    expect(out.createdScheduleSeconds).toBe(out.etaSeconds);
    expect(out.createdDeadlineSeconds).toBe(600);
    expect(out.gotBody).toBe('job 3');
    expect(out.gotMethod).toBe('PUT');
    expect(out.gotHeaders).toEqual({ 'X-Job': '3' });
    expect(out.resumed).toBe('RUNNING');
  });

  it('lists tasks in pages of 2 by page token', () => {
    const ids = (out.pages as string[][]).map((page) => page.map((n) => n.split('/').pop()));
    expect(ids).toEqual([['go-0', 'go-1'], ['go-2', 'go-3'], ['go-4']]);
  });

  it('runs a task now: the worker receives it; deletes another, which is NOT_FOUND after', async () => {
    expect(out.ranDispatchCount).toBe(1);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/go/0'), EVENT_BOUND_MS, 'the run task');
    const r = worker.forUrl('/go/0')[0]!;
    expect(r.method).toBe('PUT');
    expect(r.body.toString()).toBe('job 0');
    // Deleted, its name still reserved: NOT_FOUND saying so (docs/errors.md).
    expect(out.getDeleted).toMatchObject({ code: 'NotFound', reason: 'TOMBSTONED_TASK' });
  });

  it('gets ALREADY_EXISTS, NOT_FOUND, INVALID_ARGUMENT (the field in the BadRequest detail) and FAILED_PRECONDITION', () => {
    expect(out.alreadyExists).toMatchObject({ code: 'AlreadyExists', reason: 'TASK_ALREADY_EXISTS' });
    expect(out.alreadyExists.message).toMatch(/\(TASK_ALREADY_EXISTS\)$/);
    expect(out.notFound).toMatchObject({ code: 'NotFound', reason: 'UNKNOWN_TASK' });
    expect(out.unknownQueue).toMatchObject({ code: 'NotFound', reason: 'UNKNOWN_QUEUE' });
    expect(out.badName).toMatchObject({ code: 'InvalidArgument', field: 'task.name', reason: 'INVALID_TASK_NAME' });
    expect(out.badDeadline).toMatchObject({ code: 'InvalidArgument', field: 'task.dispatch_deadline', reason: 'INVALID_DISPATCH_DEADLINE' });
    expect(out.createQueue).toMatchObject({ code: 'FailedPrecondition', reason: 'QUEUES_FROM_CONFIG' });
  });

  it('a ScheduleTime in milliseconds (a whole int64, beyond year 9999 as seconds) is INVALID_ETA saying it is out of range, not that its seconds are no whole number', () => {
    expect(out.millisEta).toMatchObject({ code: 'InvalidArgument', field: 'task.schedule_time', reason: 'INVALID_ETA' });
    expect(out.millisEta.message).toMatch(/^task\.schedule_time: \d{13} seconds is after 9999-12-31T23:59:59\.999999999Z, the last instant of a timestamp \(milliseconds or nanoseconds given as seconds\?\) \(INVALID_ETA\)$/);
  });

  it('a DispatchDeadline of nanoseconds in Seconds (a whole int64 above 10^9) is INVALID_DISPATCH_DEADLINE saying it is above every deadline, not that it is no duration', () => {
    expect(out.nanosDeadline).toMatchObject({ code: 'InvalidArgument', field: 'task.dispatch_deadline', reason: 'INVALID_DISPATCH_DEADLINE' });
    expect(out.nanosDeadline.message).toBe('task.dispatch_deadline: 30000000000 seconds is above every deadline a task may have (at most 86415 s, 1800 s for an HTTP target; nanoseconds given as seconds?) (INVALID_DISPATCH_DEADLINE)');
  });

  it('the locations calls are UNIMPLEMENTED with the why and the ErrorInfo, as over REST, not grpc-js\'s bare "does not implement"', () => {
    for (const [got, method] of [[out.getLocation, 'GetLocation'], [out.listLocations, 'ListLocations']] as const) {
      expect(got).toMatchObject({ code: 'Unimplemented', reason: 'UNSUPPORTED_METHOD' });
      expect(got.message).toBe(`google.cloud.location.Locations.${method} is not served by pushq (locations are not emulated: any project and location is accepted in a name) (UNSUPPORTED_METHOD)`);
    }
  });

  it('creates an HTTP target task with an OIDC token: sent to its URL with X-CloudTasks-* headers and a bearer ID token; a host beyond loopback is INVALID_ARGUMENT on task.http_request.url', async () => {
    expect(out.httpTarget).toBe(`${worker.url}/go/http`);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/go/http'), EVENT_BOUND_MS, 'the HTTP target task');
    const r = worker.forUrl('/go/http')[0]!;
    expect(r.body.toString()).toBe('from go');
    expect(r.headers['x-cloudtasks-taskname']).toBe('go-http');
    expect(r.headers['x-cloudtasks-queuename']).toBe('default');
    expect(r.headers['authorization']).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(out.httpTargetNotAllowed).toMatchObject({ code: 'InvalidArgument', field: 'task.http_request.url', reason: 'HTTP_TARGET_NOT_ALLOWED' });
  });

  it('the tasks are in the same engine as REST', async () => {
    const listed = await api('GET', `${serve.api}/default/tasks`);
    const ids = listed.json.tasks.map((t: any) => t.name.split('/').pop());
    for (const id of ['go-2', 'go-3', 'go-4']) expect(ids).toContain(id);
    expect(ids).not.toContain('go-1');
  });
});
