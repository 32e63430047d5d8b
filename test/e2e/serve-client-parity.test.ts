/**
 * The official Node client, `@google-cloud/tasks`, over gRPC and over its REST fallback against
 * one `pushq serve` on loopback: the same call gets the same answer on both transports, for the
 * calls pushq does not serve (IAM, locations: UNIMPLEMENTED, never a NOT_FOUND the client would
 * read as "no such queue") as for the ones it does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { grpcClient, restClient, refusal } from '../helpers/cloud-tasks-clients.js';

let dir: string;
let serve: ServeProcess;
const clients: Record<'grpc' | 'rest', CloudTasksClient> = {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-client-parity-'));
  serve = await startServe(['--memory']);
  clients.grpc = grpcClient(serve.grpcPort);
  clients.rest = restClient(Number(new URL(serve.url).port));
});

afterAll(async () => {
  await clients.grpc?.close();
  await clients.rest?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.each(['grpc', 'rest'] as const)('@google-cloud/tasks over %s', (mode) => {
  it('the IAM calls are UNIMPLEMENTED, naming the call and why, for a queue that exists as for one that does not', async () => {
    const client = clients[mode];
    for (const queue of ['default', 'no-such-queue']) {
      const resource = client.queuePath('my-project', 'us-central1', queue);
      for (const [name, call] of [
        ['GetIamPolicy', () => client.getIamPolicy({ resource })],
        ['SetIamPolicy', () => client.setIamPolicy({ resource, policy: { bindings: [{ role: 'roles/cloudtasks.enqueuer', members: ['user:a@example.com'] }] } })],
        ['TestIamPermissions', () => client.testIamPermissions({ resource, permissions: ['cloudtasks.tasks.create'] })],
      ] as const) {
        const e = await refusal(call());
        expect(e.code, `${name} ${queue}`).toBe(grpc.status.UNIMPLEMENTED);
        expect(e.message, `${name} ${queue}`).toContain(`google.cloud.tasks.v2.CloudTasks.${name} is not served by pushq (IAM is not emulated`);
        expect(e.message, `${name} ${queue}`).toMatch(/\(UNSUPPORTED_METHOD\)$/);
      }
    }
  });

  it('the location calls are UNIMPLEMENTED, not NOT_FOUND', async () => {
    const client = clients[mode];
    const got = await refusal(client.getLocation({ name: client.locationPath('my-project', 'us-central1') }));
    expect(got.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(got.message).toMatch(/GetLocation/);
    const listed = await refusal((async () => {
      for await (const _ of client.listLocationsAsync({ name: 'projects/my-project' })) break;
    })());
    expect(listed.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(listed.message).toMatch(/ListLocations/);
  });
});

describe.each(['grpc', 'rest'] as const)('ListQueues over %s', (mode) => {
  it('takes a page size up to 9800, the maximum Cloud Tasks documents for it (ListTasks: 1000), and a larger one as 9800', async () => {
    const client = clients[mode];
    const parent = client.locationPath('my-project', 'us-central1');
    for (const pageSize of [1001, 9800, 9801, 2 ** 31 - 1]) {
      const [queues, , response] = await client.listQueues({ parent, pageSize }, { autoPaginate: false });
      expect(queues.map((q) => q.name), `pageSize ${pageSize}`).toEqual([`${parent}/queues/default`]);
      expect(response?.nextPageToken ?? '').toBe('');
    }
    const negative = await refusal(client.listQueues({ parent, pageSize: -1 }, { autoPaginate: false }));
    expect(negative.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(negative.message).toMatch(/pageSize "-1" must be a whole number from 0 to 2147483647, an int32 .*\(INVALID_FIELD\)$/);
  });
});

describe('ListTasks with a page size above its maximum (1000)', () => {
  it('answers a page of 1000 and the next page\'s token, over gRPC and REST, as the field\'s contract allows ("fewer tasks than requested might be returned"); AIP-158: coerce down', async () => {
    // 1001 tasks an hour ahead: parked, never dispatched meanwhile; purged at the end.
    const queue = clients.grpc.queuePath('my-project', 'us-central1', 'default');
    const at = Math.floor(Date.now() / 1000) + 3600;
    const ids = Array.from({ length: 1001 }, (_, i) => `page-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map(async (id) => {
        const res = await fetch(`${serve.url}/v2/${queue}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { name: `${queue}/tasks/${id}`, scheduleTime: new Date(at * 1000).toISOString(), appEngineHttpRequest: { relativeUri: '/page' } } }) });
        expect(res.status, id).toBe(200);
      }));
    }
    try {
      for (const mode of ['grpc', 'rest'] as const) {
        const client = clients[mode];
        for (const pageSize of [1001, 5000, 2 ** 31 - 1]) {
          const [first, next] = await client.listTasks({ parent: queue, pageSize }, { autoPaginate: false });
          expect(first.length, `${mode} pageSize ${pageSize}`).toBe(1000);
          expect(next?.pageToken, `${mode} pageSize ${pageSize}`).toBeTruthy();
          const [rest, after] = await client.listTasks({ parent: queue, pageSize, pageToken: next!.pageToken! }, { autoPaginate: false });
          expect([...first, ...rest].map((t) => t.name!.split('/').pop()).sort()).toEqual([...ids].sort());
          expect(after).toBeNull();
        }
      }
    } finally {
      await clients.grpc.purgeQueue({ name: queue });
    }
  });
});

describe.each(['grpc', 'rest'] as const)('error details over %s', (mode) => {
  it('every refusal carries a google.rpc.ErrorInfo (reason: the code, domain: pushq), which the client promotes to err.reason and err.domain; a field at fault is named by a BadRequest too', async () => {
    const client = clients[mode];
    const parent = client.queuePath('my-project', 'us-central1', 'default');
    // No field at fault: ErrorInfo only.
    const unknown = await refusal(client.getQueue({ name: client.queuePath('my-project', 'us-central1', 'no-such-queue') }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.reason).toBe('UNKNOWN_QUEUE');
    expect(unknown.domain).toBe('pushq');
    // A field at fault: ErrorInfo and the BadRequest naming it.
    const far = { seconds: Math.floor(Date.now() / 1000) + 40 * 86_400 };
    const eta = await refusal(client.createTask({ parent, task: { scheduleTime: far, appEngineHttpRequest: { relativeUri: '/x' } } }));
    expect(eta.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(eta.reason).toBe('INVALID_ETA');
    expect(eta.domain).toBe('pushq');
    const violations = (eta.statusDetails ?? []).flatMap((d: any) => d.fieldViolations ?? []);
    expect(violations.map((v: any) => v.field)).toEqual(['task.schedule_time']);
  });
});

describe.each(['grpc', 'rest'] as const)('task headers over %s', (mode) => {
  it('one header name under two spellings (content-type and Content-Type) is refused, App Engine and HTTP targets alike: a map repeats no header, and the worker would get two Content-Types', async () => {
    const client = clients[mode];
    const parent = client.queuePath('my-project', 'us-central1', 'default');
    const headers = { 'content-type': 'text/plain', 'Content-Type': 'application/json' };
    for (const [task, field] of [
      [{ appEngineHttpRequest: { relativeUri: '/x', headers, body: Buffer.from('{}') } }, 'task.app_engine_http_request.headers[Content-Type]'],
      [{ httpRequest: { url: 'http://127.0.0.1:9/x', headers, body: Buffer.from('{}') } }, 'task.http_request.headers[Content-Type]'],
    ] as const) {
      const e = await refusal(client.createTask({ parent, task }));
      expect(e.code, field).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.reason, field).toBe('INVALID_HEADER');
      expect(e.message, field).toMatch(/Content-Type.*content-type.*\(INVALID_HEADER\)$/);
      expect((e.statusDetails ?? []).flatMap((d: any) => d.fieldViolations ?? []).map((v: any) => v.field)).toEqual([field]);
    }
  });
});

describe.each(['grpc', 'rest'] as const)('CreateTask without a message type over %s', (mode) => {
  it('a task with neither appEngineHttpRequest nor httpRequest is INVALID_ARGUMENT naming task.message_type, as Cloud Tasks refuses it (the proto: "Required"); {} of either is a task', async () => {
    const client = clients[mode];
    const parent = client.queuePath('my-project', 'us-central1', 'default');
    for (const task of [{}, { name: `${parent}/tasks/no-type-${mode}` }, { scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } }]) {
      const e = await refusal(client.createTask({ parent, task }));
      expect(e.code, JSON.stringify(task)).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.reason).toBe('INVALID_FIELD');
      expect(e.message).toMatch(/needs appEngineHttpRequest .* or httpRequest .*\(INVALID_FIELD\)$/);
      expect((e.statusDetails ?? []).flatMap((d: any) => d.fieldViolations ?? []).map((v: any) => v.field)).toEqual(['task.message_type']);
    }
    // Nothing was taken: the named one is not there, and its name is free.
    expect((await refusal(client.getTask({ name: `${parent}/tasks/no-type-${mode}` }))).code).toBe(grpc.status.NOT_FOUND);
    // An empty AppEngineHttpRequest is a task: a POST to /, as Cloud Tasks defaults it.
    const [made] = await client.createTask({ parent, task: { name: `${parent}/tasks/no-type-${mode}`, scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 }, appEngineHttpRequest: {} } });
    expect(made.appEngineHttpRequest?.relativeUri).toBe('/');
    expect(String(made.appEngineHttpRequest?.httpMethod)).toMatch(/^(POST|1)$/);
    await client.deleteTask({ name: made.name! });
  });
});

describe.each(['grpc', 'rest'] as const)('a Unix time in milliseconds, a deadline in nanoseconds, over %s', (mode) => {
  // Easy slips (Date.now() as seconds; a Go time.Duration's nanoseconds as seconds): the REST client
  // writes them as "+058906-...Z" and "30000000000s", gRPC as int64s. Either way the refusal says
  // what is wrong, not that the value is no timestamp or no duration.
  it('is refused saying the value is past the last instant, or above every deadline, with nothing added', async () => {
    const client = clients[mode];
    const parent = client.queuePath('my-project', 'us-central1', 'default');
    const name = `${parent}/tasks/slip-${mode}`;
    const ms = Date.now() + 3_600_000;
    const eta = await refusal(client.createTask({ parent, task: { name, appEngineHttpRequest: {}, scheduleTime: { seconds: ms } } }));
    expect(eta.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(eta.reason).toBe('INVALID_ETA');
    expect(eta.message).toMatch(/task\.schedule_time: .* is after 9999-12-31T23:59:59\.999999999Z, the last instant of a timestamp \(milliseconds or nanoseconds given as seconds\?\) \(INVALID_ETA\)$/);
    const deadline = await refusal(client.createTask({ parent, task: { name, appEngineHttpRequest: {}, dispatchDeadline: { seconds: 30_000_000_000 } } }));
    expect(deadline.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(deadline.reason).toBe('INVALID_DISPATCH_DEADLINE');
    expect(deadline.message).toContain('task.dispatch_deadline: 30000000000 seconds is above every deadline a task may have (at most 86415 s, 1800 s for an HTTP target; nanoseconds given as seconds?) (INVALID_DISPATCH_DEADLINE)');
    expect((await refusal(client.getTask({ name }))).code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('CreateTask without a message type over raw HTTP', () => {
  it('is 400 INVALID_ARGUMENT with a BadRequest on task.message_type, and a null message type is none', async () => {
    for (const task of [{}, { appEngineHttpRequest: null }, { httpRequest: null, appEngineHttpRequest: null }]) {
      const res = await fetch(`${serve.url}/v2/projects/p/locations/l/queues/default/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task }) });
      expect(res.status, JSON.stringify(task)).toBe(400);
      const { error } = (await res.json()) as { error: { status: string; details: any[] } };
      expect(error.status).toBe('INVALID_ARGUMENT');
      expect(error.details[0].fieldViolations[0].field).toBe('task.message_type');
    }
  });
});

describe('REST query parameters', () => {
  const base = () => `${serve.url}/v2/projects/p/locations/l/queues`;
  const get = async (path: string): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base()}${path}`);
    return { status: res.status, json: await res.json() };
  };
  const post = async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };
  const field = (json: any): string | undefined => json.error?.details?.[0]?.fieldViolations?.[0]?.field;

  it('an unknown one is INVALID_ARGUMENT naming it (a typo is not taken as no parameter), on every call; nothing is done', async () => {
    const task = (id: string) => ({ task: { name: `projects/p/locations/l/queues/default/tasks/${id}`, scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), appEngineHttpRequest: { relativeUri: '/q', body: 'aGk=' } } });
    expect((await post('/default/tasks', task('q-1'))).status).toBe(200);
    for (const [path, name, hint] of [
      ['/default/tasks?pagesize=5', 'pagesize', 'did you mean pageSize?'],
      ['/default/tasks/q-1?responseview=FULL', 'responseview', 'did you mean responseView?'],
      ['?responseView=FULL', 'response_view', 'this call takes pageSize, pageToken, filter'],
      ['/default?view=FULL', 'view', 'this call takes none'],
      ['/default/tasks?limit=5', 'limit', undefined],
    ] as const) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.json.error.status).toBe('INVALID_ARGUMENT');
      expect(r.json.error.message, path).toMatch(/^unknown query parameter .*\(UNKNOWN_FIELD\)$/);
      if (hint !== undefined) expect(r.json.error.message, path).toContain(hint);
      expect(field(r.json), path).toBe(name);
    }
    // A call whose fields are all in the body (body: "*") takes none in the query: refused before it runs.
    const created = await post('/default/tasks?responseView=FULL', task('q-2'));
    expect(created.status).toBe(400);
    expect(field(created.json)).toBe('response_view');
    expect((await get('/default/tasks/q-2')).status).toBe(404);
    expect((await post('/default:pause?force=true', {})).status).toBe(400);
    expect((await get('/default')).json.state).toBe('RUNNING');
    // Given twice, or under both its names: which one would count? Refused.
    for (const q of ['pageSize=1&pageSize=2', 'pageSize=1&page_size=2']) {
      const r = await get(`/default/tasks?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.message, q).toMatch(/^query parameter pageSize is given twice .*\(INVALID_FIELD\)$/);
      expect(field(r.json)).toBe('page_size');
    }
    expect((await fetch(`${base()}/default/tasks/q-1`, { method: 'DELETE' })).status).toBe(200);
  });

  it('a call\'s own parameters are taken under their proto names too (page_size, response_view), as Google\'s transcoding takes them', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    for (const id of ['s-1', 's-2']) expect((await post('/default/tasks', { task: { name: `projects/p/locations/l/queues/default/tasks/${id}`, scheduleTime: at, appEngineHttpRequest: { relativeUri: '/s', body: 'aGk=' } } })).status).toBe(200);
    const page = await get('/default/tasks?page_size=1&response_view=FULL');
    expect(page.status, JSON.stringify(page.json)).toBe(200);
    expect(page.json.tasks).toHaveLength(1);
    expect(page.json.tasks[0].appEngineHttpRequest.body).toBe('aGk=');
    const next = await get(`/default/tasks?page_size=1&page_token=${page.json.nextPageToken}`);
    expect(next.json.tasks).toHaveLength(1);
    expect(next.json.tasks[0].name).not.toBe(page.json.tasks[0].name);
    expect((await get('/default/tasks/s-1?response_view=FULL')).json.appEngineHttpRequest.body).toBe('aGk=');
    for (const id of ['s-1', 's-2']) expect((await fetch(`${base()}/default/tasks/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it("Google's system parameters are taken (and ignored) on every call, as the clients send them", async () => {
    const system = '$alt=json%3Benum-encoding%3Dint&alt=json&%24fields=x&fields=tasks&key=k&%24key=k&prettyPrint=false&%24prettyPrint=false&quotaUser=u&%24quotaUser=u&callback=c&upload_protocol=raw&uploadType=media&access_token=t&%24.xgafv=2';
    expect((await get(`?${system}`)).status).toBe(200);
    expect((await get(`/default?${system}`)).status).toBe(200);
    expect((await get(`/default/tasks?pageSize=1&${system}`)).status).toBe(200);
    const created = await post(`/default/tasks?${system}`, { task: { name: 'projects/p/locations/l/queues/default/tasks/sys-1', scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), appEngineHttpRequest: {} } });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect((await get(`/default/tasks/sys-1?responseView=FULL&${system}`)).status).toBe(200);
    expect((await fetch(`${base()}/default/tasks/sys-1?${system}`, { method: 'DELETE' })).status).toBe(200);
  });
});
