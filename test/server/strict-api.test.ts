/**
 * The API is strict, as Cloud Tasks is (issue 12): an unknown field anywhere in a request body is
 * INVALID_ARGUMENT naming its path, and changes nothing; proto3 JSON's other spelling of a field
 * (`relative_uri`) is the same field; every error message ends with its stable code; times in
 * messages are RFC 3339. In-process PushqService on a memory log, real HTTP on loopback.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { API_ERROR_CODES } from '../../src/server/errors.js';
import { PushqService } from '../../src/server/service.js';
import { ROOT, api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';

const config = requireValidConfig(parseQueueConfig('queue:\n- name: held\n  rate: 0\n- name: b\n  rate: 10/s\n', { file: 'queue.yaml' }));
const DAY_US = 86_400_000_000;

let worker: Worker;
let log: MemoryEventLog;
let service: PushqService;
let base: string;

beforeAll(async () => {
  worker = await startWorker();
  log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config, targets: { default: { scaling: 'automatic', url: worker.url } }, log, tombstoneSeconds: 9 * 86_400 });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
});

const name = (queue: string, id: string) => `projects/p/locations/l/queues/${queue}/tasks/${id}`;
const fieldOf = (error: any): string | undefined => error?.details?.[0]?.fieldViolations?.[0]?.field;

/** A raw request: the body sent exactly as given, with a JSON content type. */
async function raw(method: string, url: string, body?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
  return { status: res.status, json: await res.json() };
}

/** `send` is refused with INVALID_ARGUMENT and appends nothing to the log. */
async function refusedUnchanged(send: () => Promise<{ status: number; json: any }>): Promise<any> {
  await log.flush();
  const before = log.length;
  const r = await send();
  expect(r.status, JSON.stringify(r.json)).toBe(400);
  expect(r.json.error.status).toBe('INVALID_ARGUMENT');
  expect(log.length).toBe(before);
  return r.json.error;
}

describe('unknown fields', () => {
  it.each([
    ['a misspelt relativeUri', { task: { appEngineHttpRequest: { relativeUrl: '/admin' } } }, 'task.appEngineHttpRequest.relativeUrl', 'did you mean relativeUri?'],
    ['a field beside task', { task: {}, view: 'FULL' }, 'view', undefined],
    ['a field of the task', { task: { eta: '2030-01-01T00:00:00Z' } }, 'task.eta', undefined],
    ['a field of appEngineRouting', { task: { appEngineHttpRequest: { appEngineRouting: { servce: 'worker' } } } }, 'task.appEngineHttpRequest.appEngineRouting.servce', 'did you mean service?'],
    ['a field of a scheduleTime object', { task: { scheduleTime: { seconds: 1, nano: 5 } } }, 'task.scheduleTime.nano', 'did you mean nanos?'],
    ['a pull task (not in the v2 API)', { task: { pullMessage: { payload: 'eA==' } } }, 'task.pullMessage', undefined],
    ['a proto name with a typo', { task: { app_engine_http_request: { relative_url: '/x' } } }, 'task.app_engine_http_request.relative_url', 'did you mean relativeUri?'],
  ])('CreateTask with %s is INVALID_ARGUMENT naming the path, and adds nothing', async (_what, body, path, hint) => {
    const error = await refusedUnchanged(() => api('POST', `${base}/b/tasks`, body));
    expect(fieldOf(error)).toBe(path);
    expect(error.message).toMatch(new RegExp(`^unknown field ${path.replace(/\./g, '\\.')}.*\\(UNKNOWN_FIELD\\)$`));
    if (hint !== undefined) expect(error.message).toContain(hint);
    expect(worker.received).toHaveLength(0);
  });

  it('pause, resume, purge, delete, reload take no fields; run takes responseView only', async () => {
    expect((await api('POST', `${base}/held/tasks`, { task: { name: name('held', 'stays'), appEngineHttpRequest: {} } })).status).toBe(200);
    for (const [method, url, fields] of [
      ['POST', `${base}/b:pause`, 'the fields here are name'],
      ['POST', `${base}/b:resume`, 'the fields here are name'],
      ['POST', `${base}/held:purge`, 'the fields here are name'],
      ['DELETE', `${base}/held/tasks/stays`, 'the fields here are name'],
      ['POST', `${service.url}/pushq/reload`, 'this call takes no fields'],
    ] as const) {
      const error = await refusedUnchanged(() => api(method, url, { force: true }));
      expect(error.message, url).toBe(`unknown field force: ${fields} (UNKNOWN_FIELD)`);
    }
    const run = await refusedUnchanged(() => api('POST', `${base}/held/tasks/stays:run`, { responseVeiw: 'FULL' }));
    expect(run.message).toBe('unknown field responseVeiw (did you mean responseView?) (UNKNOWN_FIELD)');
    expect((await api('GET', `${base}/b`)).json.state).toBe('RUNNING');
    expect((await api('GET', `${base}/held/tasks/stays`)).json.dispatchCount).toBe(0);
    // The same calls with an empty object, or no body at all, are accepted.
    expect((await api('POST', `${base}/b:pause`, {})).status).toBe(200);
    expect((await raw('POST', `${base}/b:resume`)).status).toBe(200);
    // The resource's name may be repeated in the body, but must be the one in the path.
    expect((await api('POST', `${base}/b:pause`, { name: 'projects/p/locations/l/queues/b' })).status).toBe(200);
    const other = await refusedUnchanged(() => api('POST', `${base}/b:resume`, { name: 'projects/p/locations/l/queues/held' }));
    expect(other.message).toBe('name "projects/p/locations/l/queues/held" in the body is not projects/p/locations/l/queues/b, named by the request path (INVALID_FIELD)');
    expect((await api('GET', `${base}/b`)).json.state).toBe('PAUSED');
    expect((await api('POST', `${base}/b:resume`, { name: 'projects/p/locations/l/queues/b' })).status).toBe(200);
    const parent = await refusedUnchanged(() => api('POST', `${base}/b/tasks`, { parent: 'projects/p/locations/l/queues/held', task: {} }));
    expect(parent.message).toMatch(/^parent .* \(INVALID_FIELD\)$/);
  });

  it('proto field names are the same fields as the camelCase ones', async () => {
    const r = await api('POST', `${base}/held/tasks`, {
      response_view: 'FULL',
      task: { name: name('held', 'snake'), app_engine_http_request: { http_method: 'PUT', relative_uri: '/snake', body: 'aGk=', app_engine_routing: { service: 'w' } }, dispatch_deadline: '30s' },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.appEngineHttpRequest).toEqual({ httpMethod: 'PUT', appEngineRouting: { service: 'w' }, relativeUri: '/snake', body: 'aGk=' });
    expect(r.json.dispatchDeadline).toBe('30s');
    const twice = await refusedUnchanged(() => api('POST', `${base}/held/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/a', relative_uri: '/b' } } }));
    expect(twice.message).toBe('field task.appEngineHttpRequest.relative_uri is given twice (as relativeUri and as relative_uri) (INVALID_FIELD)');
  });

  it('a Task read back (with its output-only fields) can be sent again under a new name', async () => {
    const got = (await api('GET', `${base}/held/tasks/snake?responseView=FULL`)).json;
    expect(got.createTime).toBeDefined();
    const again = await api('POST', `${base}/held/tasks`, { task: { ...got, name: name('held', 'snake-again') } });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(again.json.appEngineHttpRequest.relativeUri).toBe('/snake');
  });

  it("a page token is for its own list: another queue's tasks (or the queues) refuse it", async () => {
    const first = await api('GET', `${base}/held/tasks?pageSize=1`);
    const token = first.json.nextPageToken as string;
    expect(typeof token).toBe('string');
    expect((await api('GET', `${base}/held/tasks?pageSize=1&pageToken=${token}`)).status).toBe(200);
    for (const other of [`${base}/b/tasks?pageToken=${token}`, `${base}?pageToken=${token}`]) {
      const r = await api('GET', other);
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(/^pageToken is for another list \(the tasks of queue held\), not (the tasks of queue b|the queues) \(INVALID_FIELD\)$/);
    }
  });

  it('a page token that does not decode or verify (corrupted, made up) is invalid, never "for another list"', async () => {
    const token = (await api('GET', `${base}/held/tasks?pageSize=1`)).json.nextPageToken as string;
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const corrupted = [...token].map((c, i) => (i === 4 ? (c === 'A' ? 'B' : 'A') : c)).join('');
    const bad = [
      corrupted,
      `${token}AA`,
      token.slice(0, -2),
      b64('garbage:1'),
      b64('tasks/b:1'), // a token's list and position without its check value
      b64('tasks/b:1:00000000'),
      b64('queues:1'),
      'not a token!',
    ];
    for (const t of bad) {
      for (const list of [`${base}/held/tasks`, `${base}/b/tasks`, base]) {
        const r = await api('GET', `${list}?pageToken=${encodeURIComponent(t)}`);
        expect(r.status, `${t} on ${list}`).toBe(400);
        expect(r.json.error.message, `${t} on ${list}`).toBe('pageToken is invalid: not a page token this server gave (give a nextPageToken back unchanged) (INVALID_FIELD)');
        expect(fieldOf(r.json.error)).toBe('page_token');
      }
    }
  });
});

describe('pageSize', () => {
  // Cloud Tasks' maxima: ListTasks 1000, ListQueues 9800 (cloudtasks.proto).
  const lists = () => [
    { list: `${base}/held/tasks`, max: 1000 },
    { list: base, max: 9800 },
  ];

  it.each(['0x10', '1e2', ' ', '+5', '1.0', '5abc', '-1', '2147483648', '99999999999999999999'])('%j is INVALID_FIELD on page_size, not read as a number (nor one beyond int32)', async (given) => {
    for (const { list, max } of lists()) {
      const size = given;
      const r = await api('GET', `${list}?pageSize=${encodeURIComponent(size)}`);
      expect(r.status, `${size} on ${list}: ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.json.error.message).toBe(`pageSize ${JSON.stringify(size)} must be a whole number from 0 to 2147483647, an int32 (0, or more than ${max}: pages of ${max}, the most this list gives) (INVALID_FIELD)`);
      expect(fieldOf(r.json.error)).toBe('page_size');
    }
  });

  it.each(['1', '0', '', 'MAX', '0001', 'MAX+1', '2147483647'])('%j is a page size (0, none or more than the maximum: the largest)', async (given) => {
    for (const { list, max } of lists()) {
      const size = given === 'MAX' ? String(max) : given === 'MAX+1' ? String(max + 1) : given;
      const r = await api('GET', `${list}?pageSize=${size}`);
      expect(r.status, `${size} on ${list}: ${JSON.stringify(r.json)}`).toBe(200);
    }
  });
});

describe('error messages end with their stable code', () => {
  const codes = new Set<string>([...API_ERROR_CODES, ...unionMembers('src/core/errors.ts', 'PushqErrorCode')]);

  it.each([
    ['an unknown task', 'GET', 'held/tasks/ghost', undefined, 'UNKNOWN_TASK'],
    ['a missing task', 'POST', 'held/tasks', '{}', 'INVALID_FIELD'],
    ['a body that is not base64', 'POST', 'held/tasks', JSON.stringify({ task: { appEngineHttpRequest: { body: 'not base64!' } } }), 'INVALID_FIELD'],
    ['a body that is not JSON', 'POST', 'held/tasks', '{"task": ', 'INVALID_JSON'],
    ['a task.name of another queue', 'POST', 'held/tasks', JSON.stringify({ task: { name: name('b', 'x'), appEngineHttpRequest: {} } }), 'INVALID_TASK_NAME'],
    ['a PUT', 'PUT', 'held/tasks', '{}', 'UNSUPPORTED_METHOD'],
    ['an unknown queue', 'GET', 'nope', undefined, 'UNKNOWN_QUEUE'],
    ['an unknown path', 'GET', 'held/tasks/x/y', undefined, 'UNKNOWN_PATH'],
    ['a bad pageSize', 'GET', 'held/tasks?pageSize=-1', undefined, 'INVALID_FIELD'],
    ['a bad scheduleTime', 'POST', 'held/tasks', JSON.stringify({ task: { scheduleTime: 'tomorrow', appEngineHttpRequest: {} } }), 'INVALID_ETA'],
    ['a bad httpMethod', 'POST', 'held/tasks', JSON.stringify({ task: { appEngineHttpRequest: { httpMethod: 'BREW' } } }), 'INVALID_TASK'],
    ['a queue created through the API', 'POST', '', '{}', 'QUEUES_FROM_CONFIG'],
  ])('%s', async (_what, method, path, body, code) => {
    const r = await raw(method, path === '' ? base : `${base}/${path}`, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json.error.message).toMatch(new RegExp(` \\(${code}\\)$`));
    expect(codes.has(code)).toBe(true);
  });

  // JSON can send an object whose own `toString` is not a function, which String() or a template
  // literal cannot turn into text (TypeError): a message quoting what was sent must not do that.
  // responseView and httpMethod quoted it so and answered 500 INTERNAL (found by spec/api-fuzz).
  const UNPRINTABLE = [{ toString: 0 }, [{ valueOf: 0, toString: 'x' }]];
  const PLACES: readonly [string, (v: unknown) => unknown][] = [
    ['responseView', (v) => ({ task: { appEngineHttpRequest: {} }, responseView: v })],
    ['task', (v) => ({ task: v })],
    ['task.name', (v) => ({ task: { name: v, appEngineHttpRequest: {} } })],
    ['task.scheduleTime', (v) => ({ task: { scheduleTime: v, appEngineHttpRequest: {} } })],
    ['task.scheduleTime.seconds', (v) => ({ task: { scheduleTime: { seconds: v }, appEngineHttpRequest: {} } })],
    ['task.dispatchDeadline', (v) => ({ task: { dispatchDeadline: v, appEngineHttpRequest: {} } })],
    ['task.appEngineHttpRequest', (v) => ({ task: { appEngineHttpRequest: v } })],
    ['task.appEngineHttpRequest.httpMethod', (v) => ({ task: { appEngineHttpRequest: { httpMethod: v } } })],
    ['task.appEngineHttpRequest.relativeUri', (v) => ({ task: { appEngineHttpRequest: { relativeUri: v } } })],
    ['task.appEngineHttpRequest.headers', (v) => ({ task: { appEngineHttpRequest: { headers: v } } })],
    ['a header value', (v) => ({ task: { appEngineHttpRequest: { headers: { 'X-A': v } } } })],
    ['task.appEngineHttpRequest.body', (v) => ({ task: { appEngineHttpRequest: { body: v } } })],
    ['task.appEngineHttpRequest.appEngineRouting.service', (v) => ({ task: { appEngineHttpRequest: { appEngineRouting: { service: v } } } })],
    ['task.httpRequest.url', (v) => ({ task: { httpRequest: { url: v } } })],
  ];
  it.each(PLACES)('an object with a toString key as %s is INVALID_ARGUMENT, not INTERNAL', async (_where, bodyWith) => {
    for (const value of UNPRINTABLE) {
      const error = await refusedUnchanged(() => api('POST', `${base}/held/tasks`, bodyWith(value)));
      expect(error.message).toMatch(/ \([A-Z_]+\)$/);
    }
  });

  it('a tombstoned name says until when, in RFC 3339 whole seconds', async () => {
    expect((await api('POST', `${base}/held/tasks`, { task: { name: name('held', 'tomb'), appEngineHttpRequest: {} } })).status).toBe(200);
    const deletedAt = Date.now();
    expect((await api('DELETE', `${base}/held/tasks/tomb`)).status).toBe(200);
    const r = await api('POST', `${base}/held/tasks`, { task: { name: name('held', 'tomb'), appEngineHttpRequest: {} } });
    expect(r.status).toBe(409);
    const m = /^task name "tomb" was used by a task that ended recently; it is reserved until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(TOMBSTONED_TASK\)$/.exec(r.json.error.message);
    expect(m, r.json.error.message).not.toBeNull();
    const until = Date.parse(m![1]!);
    expect(until).toBeGreaterThanOrEqual(deletedAt + (9 * DAY_US) / 1000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + (9 * DAY_US) / 1000 + 1000);
  });
});

describe('docs/errors.md', () => {
  it('lists exactly the API\'s own codes', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('HTTP API'));
    expect(section).toBeDefined();
    const documented = [...section!.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual([...API_ERROR_CODES].sort());
  });
});

/** The string literals of a `type X = | 'A' | 'B'` union in a source file. */
function unionMembers(file: string, typeName: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const body = new RegExp(`export type ${typeName} =([\\s\\S]*?);`).exec(src)?.[1] ?? '';
  return [...body.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
}
