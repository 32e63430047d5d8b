/**
 * `POST /rpc_http` in-process (PushqService on a memory log, a real HTTP server and worker on
 * loopback), called with raw remote_api bytes: every error path answers an RPC error naming the
 * problem and logs nothing; the taskqueue methods reach the same engine as the Cloud Tasks API,
 * with App Engine's batch rules and error codes.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../../src/config/load.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../../src/log/event-log.js';
import { MemoryEventLog } from '../../../src/log/memory-log.js';
import { RPC_ERROR, TASK_QUEUE_ERROR } from '../../../src/server/appengine/messages.js';
import { RPC_REQUEST_BYTES_MAX } from '../../../src/server/appengine/rpc-http.js';
import { PushqService } from '../../../src/server/service.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc, RPC_HEADERS } from '../../helpers/remote-api.js';
import { api } from '../../helpers/serve-process.js';
import { startWorker, type Worker } from '../../helpers/worker.js';
import { EVENT_BOUND_MS } from '../../helpers/event-bound.js';

const YAML = `
queue:
- name: fast
  rate: 100/s
- name: held
  rate: 0
- name: tenpm
  rate: 10/m
  bucket_size: 2
- name: pullq
  mode: pull
`;

let dir: string;
let worker: Worker;
let service: PushqService;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-rpc-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  const result = await loadQueueConfigFile(join(dir, 'queue.yaml'));
  worker = await startWorker();
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: result.config!, configPath: join(dir, 'queue.yaml'), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  base = service.url;
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

const events = (): number => service.kernel.state.eventsApplied;

function rpcError(r: { httpStatus: number; response: any }): { code: number; detail: string } {
  expect(r.httpStatus).toBe(200);
  expect(r.response?.rpc_error, 'an rpc_error').toBeDefined();
  return r.response.rpc_error;
}

/** The call succeeded: neither error is set (protobufjs decodes an absent message field as null). */
function ok(r: { httpStatus: number; response: any }): void {
  expect(r.httpStatus).toBe(200);
  expect(r.response?.application_error ?? null, 'no application_error').toBeNull();
  expect(r.response?.rpc_error ?? null, 'no rpc_error').toBeNull();
}

function appError(r: { httpStatus: number; response: any }): { code: number; detail: string } {
  expect(r.httpStatus).toBe(200);
  expect(r.response?.application_error, 'an application_error').toBeDefined();
  return r.response.application_error;
}

/**
 * Sends a body with a declared Content-Length, writing only `sent` bytes of it (or all, chunked).
 * On a connection of its own (agent: false): a body cut short of its Content-Length leaves the
 * server reading the rest, so that connection cannot carry another request.
 */
function rawPost(path: string, headers: Record<string, string | number>, chunks: Buffer[]): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('bad input: an RPC error naming the problem, nothing logged', () => {
  it('a body that is not a remote_api Request, empty or garbage, is PARSE_ERROR', async () => {
    const before = events();
    for (const body of [new Uint8Array(0), Buffer.from('not a protobuf at all \xff\xff\xff')]) {
      const e = rpcError(await postRpc(base, body));
      expect(e.code).toBe(RPC_ERROR.PARSE_ERROR);
      expect(e.detail).toMatch(/not a remote_api Request/);
    }
    expect(events()).toBe(before);
  });

  it("a Request whose taskqueue message does not decode is PARSE_ERROR naming the method's message", async () => {
    const before = events();
    const e = rpcError(await postRpc(base, envelope('taskqueue', 'Add', Buffer.from([0x0a, 0xff, 0xff]))));
    expect(e.code).toBe(RPC_ERROR.PARSE_ERROR);
    expect(e.detail).toMatch(/taskqueue\.Add is not a TaskQueueAddRequest/);
    expect(events()).toBe(before);
  });

  it('an unknown taskqueue method is CALL_NOT_FOUND naming it and listing what pushq serves', async () => {
    const e = rpcError(await postRpc(base, envelope('taskqueue', 'Frobnicate', new Uint8Array(0))));
    expect(e.code).toBe(RPC_ERROR.CALL_NOT_FOUND);
    expect(e.detail).toMatch(/taskqueue\.Frobnicate\(\) was not found/);
    expect(e.detail).toMatch(/Add, BulkAdd, Delete, PurgeQueue, FetchQueueStats/);
  });

  it('another service (datastore_v3, memcache) is CALL_NOT_FOUND naming it: pushq serves only the task queue', async () => {
    for (const service of ['datastore_v3', 'memcache', 'logservice']) {
      const e = rpcError(await postRpc(base, envelope(service, 'Get', new Uint8Array(0))));
      expect(e.code).toBe(RPC_ERROR.CALL_NOT_FOUND);
      expect(e.detail).toContain(`${service}.Get()`);
      expect(e.detail).toMatch(/serves only the task queue/);
    }
    // Of datastore_v3, only the transaction calls of transactional tasks are answered.
    for (const method of ['Get', 'Put', 'RunQuery', 'AddActions']) {
      const e = rpcError(await postRpc(base, envelope('datastore_v3', method, new Uint8Array(0))));
      expect(e.code).toBe(RPC_ERROR.CALL_NOT_FOUND);
      expect(e.detail).toMatch(new RegExp(`datastore_v3\\.${method}\\(\\) was not found: pushq serves only the task queue \\(service "taskqueue"\\) and no Datastore: of datastore_v3 it answers only BeginTransaction, Commit, Rollback, for transactional tasks`));
    }
  });

  it("logservice.Flush, which the Go library sends at the end of every request the app serves, is taken (its lines dropped) and changes nothing", async () => {
    // Before: CALL_NOT_FOUND, and the library printed `internal.flushLog: Flush RPC: ...` on the
    // app's stderr for every request it served. A FlushRequest as the library writes it: field 1,
    // the bytes of a UserAppLogGroup holding one UserAppLogLine (field 2: time, level, message).
    const line = protobuf.Writer.create().uint32((1 << 3) | 0).int64(Date.now() * 1000).uint32((2 << 3) | 0).int64(1).uint32((3 << 3) | 2).string('handled /work').finish();
    const group = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(line).finish();
    const flush = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(group).finish();
    const before = events();
    for (const request of [flush, new Uint8Array(0)]) ok(await postRpc(base, envelope('logservice', 'Flush', request)));
    expect(events()).toBe(before);
    // Only Flush: the log service's other calls (reading logs) are not served.
    expect(rpcError(await postRpc(base, envelope('logservice', 'Read', new Uint8Array(0)))).code).toBe(RPC_ERROR.CALL_NOT_FOUND);
  });

  it('a missing service header is BAD_REQUEST naming the header; a wrong one is CALL_NOT_FOUND', async () => {
    const before = events();
    const body = envelope('taskqueue', 'Add', encodeMessage('AddRequest', addRequest('fast')));
    for (const missing of ['x-google-rpc-service-endpoint', 'x-google-rpc-service-method']) {
      const headers: Record<string, string> = { ...RPC_HEADERS };
      delete headers[missing];
      const e = rpcError(await postRpc(base, body, headers));
      expect(e.code).toBe(RPC_ERROR.BAD_REQUEST);
      expect(e.detail).toContain(`the ${missing} header is missing`);
    }
    const e = rpcError(await postRpc(base, body, { ...RPC_HEADERS, 'x-google-rpc-service-method': '/Other.Call' }));
    expect(e.code).toBe(RPC_ERROR.CALL_NOT_FOUND);
    expect(e.detail).toContain('/Other.Call');
    expect(events()).toBe(before);
  });

  it('a JSON body is BAD_REQUEST; a text/plain one is refused by the Content-Type rule (415) as everywhere; both name the type received and the one accepted', async () => {
    const before = events();
    const body = envelope('taskqueue', 'Add', encodeMessage('AddRequest', addRequest('fast')));
    const e = rpcError(await postRpc(base, body, { ...RPC_HEADERS, 'content-type': 'application/json' }));
    expect(e.code).toBe(RPC_ERROR.BAD_REQUEST);
    expect(e.detail).toBe('Content-Type "application/json": /rpc_http accepts only Content-Type: application/octet-stream, the protobuf body of an App Engine API call (BAD_REQUEST)');
    const plain = await postRpc(base, body, { ...RPC_HEADERS, 'content-type': 'text/plain' });
    expect(plain.httpStatus).toBe(415);
    // Not "must be JSON": JSON is what this path does not take.
    const said = JSON.parse(plain.text).error.message as string;
    expect(said).toBe('Content-Type "text/plain" is refused: /rpc_http accepts only Content-Type: application/octet-stream, the protobuf body of an App Engine API call (UNSUPPORTED_MEDIA_TYPE)');
    expect(readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'app-engine.md'), 'utf8'), 'docs/app-engine.md quotes it').toContain(`\n\`\`\`\n${said}\n\`\`\`\n`);
    const { 'content-type': _, ...untyped } = RPC_HEADERS;
    const none = await postRpc(base, body, untyped);
    expect(none.httpStatus).toBe(415);
    expect(JSON.parse(none.text).error.message).toBe('a body without a Content-Type is refused: /rpc_http accepts only Content-Type: application/octet-stream, the protobuf body of an App Engine API call (UNSUPPORTED_MEDIA_TYPE)');
    expect(events()).toBe(before);
  });

  it('a request over the size limit is REQUEST_TOO_LARGE, declared or streamed, without reading it whole', async () => {
    const before = events();
    const declared = await rawPost('/rpc_http', { ...RPC_HEADERS, 'content-length': RPC_REQUEST_BYTES_MAX + 1 }, [Buffer.alloc(1024)]);
    expect(declared.status).toBe(200);
    const d = await import('../../../src/server/appengine/messages.js').then((m) => m.MESSAGES.Response.decode(declared.body) as any);
    expect(d.rpc_error.code).toBe(RPC_ERROR.REQUEST_TOO_LARGE);
    expect(d.rpc_error.detail).toMatch(/larger than 33554432 bytes/);
    const chunk = Buffer.alloc(1024 * 1024);
    const streamed = await rawPost('/rpc_http', { ...RPC_HEADERS, 'transfer-encoding': 'chunked' }, Array.from({ length: 33 }, () => chunk));
    const s = await import('../../../src/server/appengine/messages.js').then((m) => m.MESSAGES.Response.decode(streamed.body) as any);
    expect(s.rpc_error.code).toBe(RPC_ERROR.REQUEST_TOO_LARGE);
    expect(events()).toBe(before);
  });

  it('GET /rpc_http is BAD_REQUEST (the API takes POST)', async () => {
    const res = await fetch(`${base}/rpc_http`);
    expect(res.status).toBe(200);
    const { MESSAGES } = await import('../../../src/server/appengine/messages.js');
    const r = MESSAGES.Response.decode(new Uint8Array(await res.arrayBuffer())) as any;
    expect(r.rpc_error.code).toBe(RPC_ERROR.BAD_REQUEST);
    expect(r.rpc_error.detail).toMatch(/takes POST/);
  });

  it('what pushq does not serve is refused by name: pull tasks, leasing, Cloud Datastore transactions, queue changes', async () => {
    const before = events();
    const pull = appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('pullq', { mode: 1 })));
    expect(pull.code).toBe(TASK_QUEUE_ERROR.INVALID_QUEUE_MODE);
    expect(pull.detail).toMatch(/push queues only/);
    const lease = appError(await postRpc(base, envelope('taskqueue', 'QueryAndOwnTasks', new Uint8Array(0))));
    expect(lease.code).toBe(TASK_QUEUE_ERROR.INVALID_QUEUE_MODE);
    const txn = appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('fast', { datastore_transaction: Buffer.from([1, 2, 3]) })));
    expect(txn.code).toBe(TASK_QUEUE_ERROR.INVALID_REQUEST);
    expect(txn.detail).toMatch(/Cloud Datastore transaction \(datastore_transaction\): pushq serves no Datastore/);
    const update = appError(await postRpc(base, envelope('taskqueue', 'UpdateQueue', new Uint8Array(0))));
    expect(update.code).toBe(TASK_QUEUE_ERROR.PERMISSION_DENIED);
    expect(update.detail).toMatch(/queue\.yaml/);
    const unknown = appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('nosuch')));
    expect(unknown.code).toBe(TASK_QUEUE_ERROR.UNKNOWN_QUEUE);
    expect(unknown.detail).toMatch(/"nosuch"/);
    expect(events()).toBe(before);
  });
});

describe('the taskqueue methods', () => {
  it('Add: the task lands in the engine (the REST API sees it) and reaches the worker with its headers and App Engine\'s', async () => {
    const header = [
      { key: Buffer.from('Content-Type'), value: Buffer.from('application/x-www-form-urlencoded') },
      { key: Buffer.from('X-Appengine-Current-Namespace'), value: Buffer.from('') },
    ];
    const r = await callTaskQueue(base, 'Add', 'AddRequest', addRequest('fast', { url: Buffer.from('/work/one'), header, body: Buffer.from('a=1&b=2') }), 'AddResponse');
    ok(r);
    const chosen = Buffer.from(r.value.chosen_task_name).toString();
    expect(chosen).not.toBe('');
    const rest = await api('GET', `${base}/v2/projects/p/locations/l/queues/fast/tasks`);
    expect(rest.status).toBe(200);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/work/one'), EVENT_BOUND_MS, 'the task');
    const got = worker.forUrl('/work/one')[0]!;
    expect(got.method).toBe('POST');
    expect(got.body.toString()).toBe('a=1&b=2');
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.headers['x-appengine-current-namespace']).toBe('');
    expect(got.headers['x-appengine-queuename']).toBe('fast');
    expect(got.headers['x-appengine-taskname']).toBe(chosen);
    expect(got.headers['x-appengine-taskretrycount']).toBe('0');
  });

  it('Add of a name already queued is TASK_ALREADY_EXISTS (10); after it ran, TOMBSTONED_TASK (11)', async () => {
    const named = addRequest('held', { task_name: Buffer.from('once') });
    ok(await callTaskQueue(base, 'Add', 'AddRequest', named));
    const again = appError(await callTaskQueue(base, 'Add', 'AddRequest', named));
    expect(again.code).toBe(TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS);
    expect(again.detail).toMatch(/"once" already exists/);
    await callTaskQueue(base, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('held'), task_name: [Buffer.from('once')] });
    const tomb = appError(await callTaskQueue(base, 'Add', 'AddRequest', named));
    expect(tomb.code).toBe(TASK_QUEUE_ERROR.TOMBSTONED_TASK);
  });

  it('Add with a bad rule: INVALID_ETA (over 30 days), INVALID_TASK_NAME, TASK_TOO_LARGE, INVALID_URL', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ eta_usec: (Date.now() + 31 * 86_400_000) * 1000 }, TASK_QUEUE_ERROR.INVALID_ETA],
      [{ task_name: Buffer.from('bad name!') }, TASK_QUEUE_ERROR.INVALID_TASK_NAME],
      [{ body: Buffer.alloc(200 * 1024) }, TASK_QUEUE_ERROR.TASK_TOO_LARGE],
      [{ url: Buffer.from('no-slash') }, TASK_QUEUE_ERROR.INVALID_URL],
    ];
    for (const [fields, code] of cases) expect(appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', fields))).code).toBe(code);
  });

  it('BulkAdd: a name that exists fails only its slot; the others are added, with the names pushq chose', async () => {
    await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', { task_name: Buffer.from('taken') }));
    const add_request = [addRequest('held'), addRequest('held', { task_name: Buffer.from('taken') }), addRequest('held', { task_name: Buffer.from('fresh') })];
    const r = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request }, 'BulkAddResponse');
    const results = r.value.taskResult.map((t: any) => t.result);
    expect(results).toEqual([TASK_QUEUE_ERROR.OK, TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS, TASK_QUEUE_ERROR.OK]);
    expect(Buffer.from(r.value.taskResult[0].chosen_task_name).toString()).not.toBe('');
    expect(Object.hasOwn(r.value.taskResult[2], 'chosen_task_name'), 'no chosen name for a named task').toBe(false);
  });

  it('BulkAdd: a name twice in one batch refuses the batch (DUPLICATE_TASK_NAME, the rest SKIPPED); so does one bad task', async () => {
    const before = events();
    const dup = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [addRequest('held', { task_name: Buffer.from('d') }), addRequest('held'), addRequest('held', { task_name: Buffer.from('d') })] }, 'BulkAddResponse');
    expect(dup.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.DUPLICATE_TASK_NAME, TASK_QUEUE_ERROR.SKIPPED, TASK_QUEUE_ERROR.DUPLICATE_TASK_NAME]);
    const bad = await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: [addRequest('held'), addRequest('held', { eta_usec: -5 })] }, 'BulkAddResponse');
    expect(bad.value.taskResult.map((t: any) => t.result)).toEqual([TASK_QUEUE_ERROR.SKIPPED, TASK_QUEUE_ERROR.INVALID_ETA]);
    const many = appError(await callTaskQueue(base, 'BulkAdd', 'BulkAddRequest', { add_request: Array.from({ length: 101 }, () => addRequest('held')) }));
    expect(many.code).toBe(TASK_QUEUE_ERROR.TOO_MANY_TASKS);
    expect(events()).toBe(before);
  });

  it('Delete: each name on its own (OK, UNKNOWN_TASK, TOMBSTONED_TASK); an unknown queue answers UNKNOWN_QUEUE per name', async () => {
    await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', { task_name: Buffer.from('del1') }));
    const r = await callTaskQueue(base, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('held'), task_name: ['del1', 'never', 'del1'].map((n) => Buffer.from(n)) }, 'DeleteResponse');
    expect(r.value.result).toEqual([TASK_QUEUE_ERROR.OK, TASK_QUEUE_ERROR.UNKNOWN_TASK, TASK_QUEUE_ERROR.TOMBSTONED_TASK]);
    const q = await callTaskQueue(base, 'Delete', 'DeleteRequest', { queue_name: Buffer.from('nosuch'), task_name: [Buffer.from('x')] }, 'DeleteResponse');
    expect(q.value.result).toEqual([TASK_QUEUE_ERROR.UNKNOWN_QUEUE]);
  });

  it('FetchQueueStats: tasks not yet run and the oldest ETA; an unknown queue has none; PurgeQueue empties a queue', async () => {
    const stats = async (...names: string[]): Promise<any[]> =>
      (await callTaskQueue(base, 'FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: names.map((n) => Buffer.from(n)) }, 'FetchQueueStatsResponse')).value.queueStats;
    const eta = (Date.now() - 5000) * 1000;
    await callTaskQueue(base, 'Add', 'AddRequest', addRequest('held', { eta_usec: eta }));
    const [held, none] = await stats('held', 'nosuch');
    expect(held.num_tasks).toBeGreaterThanOrEqual(4);
    expect(Number(held.oldest_eta_usec)).toBeLessThanOrEqual(eta);
    expect(held.scanner_info.requests_in_flight).toBe(0);
    expect(held.scanner_info.enforced_rate).toBe(0);
    expect(none.num_tasks).toBe(0);
    expect(Number(none.oldest_eta_usec)).toBe(-1);
    const [fast] = await stats('fast');
    expect(Number(fast.scanner_info.executed_last_minute)).toBeGreaterThanOrEqual(1);
    expect(fast.scanner_info.enforced_rate).toBe(100);
    ok(await callTaskQueue(base, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('held') }));
    const [after] = await stats('held');
    expect(after.num_tasks).toBe(0);
    expect(Number(after.oldest_eta_usec)).toBe(-1);
    expect(appError(await callTaskQueue(base, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('nosuch') })).code).toBe(TASK_QUEUE_ERROR.UNKNOWN_QUEUE);
  });

  it('an unknown queue is said in one text by Add, ForceRun and PurgeQueue, the REST API\'s, which names no file (the configuration may be queue.xml)', async () => {
    // Before: Add and ForceRun said `... is not defined in queue.yaml`, also to an app whose
    // queues came from queue.xml, and PurgeQueue the engine's text.
    const rest = await api('POST', `${base}/v2/projects/-/locations/-/queues/nosuch/tasks`, { task: { appEngineHttpRequest: {} } });
    expect(rest.json.error.message).toBe('queue "nosuch" is not defined in the queue configuration (UNKNOWN_QUEUE)');
    const details = [
      appError(await callTaskQueue(base, 'Add', 'AddRequest', addRequest('nosuch'))).detail,
      appError(await callTaskQueue(base, 'ForceRun', 'ForceRunRequest', { queue_name: Buffer.from('nosuch'), task_name: Buffer.from('t') })).detail,
      appError(await callTaskQueue(base, 'PurgeQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('nosuch') })).detail,
    ];
    expect(details).toEqual([rest.json.error.message, rest.json.error.message, rest.json.error.message]);
  });

  it('FetchQueues: the queues of queue.yaml with their rate, bucket, state and retry parameters', async () => {
    const r = await callTaskQueue(base, 'FetchQueues', 'FetchQueuesRequest', { max_rows: 100 }, 'FetchQueuesResponse');
    const byName = new Map<string, any>(r.value.queue.map((q: any) => [Buffer.from(q.queue_name).toString(), q]));
    expect([...byName.keys()]).toEqual(['default', 'fast', 'held', 'pullq', 'tenpm']);
    const tenpm = byName.get('tenpm');
    expect(tenpm.user_specified_rate).toBe('10/m');
    expect(tenpm.bucket_capacity).toBe(2);
    expect(tenpm.bucket_refill_per_second).toBeCloseTo(1 / 6);
    expect(byName.get('held').paused).toBe(true);
    expect(byName.get('default').retry_parameters.max_doublings).toBe(16);
    expect(byName.get('pullq').mode).toBe(1);
    expect((await callTaskQueue(base, 'FetchQueues', 'FetchQueuesRequest', { max_rows: 2 }, 'FetchQueuesResponse')).value.queue).toHaveLength(2);
  });

  it('PauseQueue pauses and resumes; a queue paused by rate 0 cannot be resumed (INVALID_REQUEST, saying why)', async () => {
    const pause = (queue: string, p: boolean) => callTaskQueue(base, 'PauseQueue', 'PauseQueueRequest', { queue_name: Buffer.from(queue), pause: p });
    ok(await pause('tenpm', true));
    expect(service.kernel.state.queueByName.get('tenpm')!.paused).toBe(true);
    ok(await pause('tenpm', false));
    expect(service.kernel.state.queueByName.get('tenpm')!.paused).toBe(false);
    const e = appError(await pause('held', false));
    expect(e.code).toBe(TASK_QUEUE_ERROR.INVALID_REQUEST);
    expect(e.detail).toMatch(/rate 0/);
  });

  it('the Cloud Tasks API still refuses X-AppEngine-* headers from users (the namespace one included)', async () => {
    const r = await api('POST', `${base}/v2/projects/p/locations/l/queues/held/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/x', headers: { 'X-AppEngine-Current-Namespace': '' } } } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/INVALID_HEADER/);
  });
});
