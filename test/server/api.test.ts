/**
 * The REST API in-process (PushqService on a memory log, a real HTTP server on loopback): every
 * error status and field path, the body-size guard, the storage limit, reload with deploy
 * semantics, and queues being read-only.
 */
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushqService } from '../../src/server/service.js';
import { api } from '../helpers/serve-process.js';
import { startYamlService, type YamlService } from '../helpers/yaml-service.js';

const YAML = `
total_storage_limit: 2K
queue:
- name: a
  rate: 0
- name: b
  rate: 10/s
`;

let fx: YamlService;
let dir: string;
let service: PushqService;
let base: string;

beforeAll(async () => {
  fx = await startYamlService(YAML, 'pushq-api-');
  ({ dir, service, base } = fx);
});

afterAll(async () => {
  await fx?.close();
});

const name = (queue: string, id: string) => `projects/p/locations/l/queues/${queue}/tasks/${id}`;

/**
 * A refused create of `task`: one with no message type gets an empty App Engine request (a POST to
 * /), so the refusal is about the field the case is about, not the missing Task.message_type.
 */
async function createError(queue: string, task: Record<string, unknown>): Promise<{ status: number; error: any }> {
  const typed = 'appEngineHttpRequest' in task || 'httpRequest' in task ? task : { ...task, appEngineHttpRequest: {} };
  const r = await api('POST', `${base}/${queue}/tasks`, { task: typed });
  return { status: r.status, error: r.json.error };
}

function fieldOf(error: any): string | undefined {
  return error?.details?.[0]?.fieldViolations?.[0]?.field;
}

describe('task.dispatchDeadline', () => {
  it('is taken as a Duration, kept, and returned in the Task resource; without one, the scaling deadline', async () => {
    const created: string[] = [];
    for (const [id, given, shown] of [
      ['dl-15', '15s', '15s'],
      ['dl-frac', '15.5s', '15.500s'],
      ['dl-micro', '20.000001s', '20.000001s'],
      ['dl-nanos', '30.0000009s', '30s'], // below a microsecond: truncated, like timestamps
      ['dl-max', '86415s', '86415s'], // Cloud Tasks' maximum, 24 h 15 s
      ['dl-object', { seconds: '45', nanos: 500_000_000 }, '45.500s'],
      ['dl-zero', '0s', '600s'], // Cloud Tasks: 0 is the default deadline
      ['dl-none', undefined, '600s'], // automatic scaling: 10 minutes
    ] as const) {
      const r = await api('POST', `${base}/a/tasks`, { task: { name: name('a', id), appEngineHttpRequest: {}, ...(given === undefined ? {} : { dispatchDeadline: given }) } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.dispatchDeadline, id).toBe(shown);
      expect((await api('GET', `${base}/a/tasks/${id}`)).json.dispatchDeadline, id).toBe(shown);
      created.push(id);
    }
    const listed = (await api('GET', `${base}/a/tasks`)).json.tasks.find((t: any) => t.name === name('a', 'dl-15'));
    expect(listed.dispatchDeadline).toBe('15s');
    for (const id of created) expect((await api('DELETE', `${base}/a/tasks/${id}`)).status).toBe(200);
  });

  it('an out-of-range value names the field and the engine code', async () => {
    const r = await createError('a', { name: name('a', 'dl-short'), dispatchDeadline: '10s' });
    expect(r).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    expect(fieldOf(r.error)).toBe('task.dispatch_deadline');
    expect(r.error.message).toContain('INVALID_DISPATCH_DEADLINE');
    expect((await api('GET', `${base}/a/tasks/dl-short`)).status).toBe(404);
  });
});

describe('a Unix time in milliseconds, a deadline in nanoseconds, in their REST forms', () => {
  // What the official REST clients write for Date.now() given as seconds (Date#toISOString past
  // year 9999) and for a Go time.Duration given as seconds: refused saying what is wrong.
  it('a scheduleTime with a year past 9999 is after the last instant, not "not an RFC 3339 timestamp"', async () => {
    const r = await createError('a', { name: name('a', 'slip-eta'), scheduleTime: '+058906-07-29T10:15:30.000Z' });
    expect(r.status).toBe(400);
    expect(fieldOf(r.error)).toBe('task.schedule_time');
    expect(r.error.message).toBe('task.schedule_time: "+058906-07-29T10:15:30.000Z" is after 9999-12-31T23:59:59.999999999Z, the last instant of a timestamp (milliseconds or nanoseconds given as seconds?) (INVALID_ETA)');
    // Not every odd string: a year of 9999 or less in that form is still no RFC 3339 timestamp.
    expect((await createError('a', { scheduleTime: '+002026-07-29T10:15:30Z' })).error.message).toMatch(/is not an RFC 3339 timestamp \(INVALID_ETA\)$/);
  });

  it('a dispatchDeadline string of more seconds than any deadline says so, not "not a duration"; leading zeros are no large number', async () => {
    for (const given of ['30000000000s', '30000000000.5s']) {
      const r = await createError('a', { name: name('a', 'slip-deadline'), dispatchDeadline: given });
      expect(r.status, given).toBe(400);
      expect(fieldOf(r.error)).toBe('task.dispatch_deadline');
      expect(r.error.message, given).toBe('task.dispatch_deadline: 30000000000 seconds is above every deadline a task may have (at most 86415 s, 1800 s for an HTTP target; nanoseconds given as seconds?) (INVALID_DISPATCH_DEADLINE)');
    }
    for (const given of ['0000000030s', { seconds: '0000000030' }]) {
      expect((await createError('a', { dispatchDeadline: given })).error.message, JSON.stringify(given)).toMatch(/is not a duration such as "30s" or "1\.5s" \(INVALID_DISPATCH_DEADLINE\)$/);
    }
    expect((await api('GET', `${base}/a/tasks/slip-deadline`)).status).toBe(404);
  });
});

/** A raw GET, so the request target is sent exactly as written (`//...`). */
function rawGet(target: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(service.url);
    const req = request({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('found by spec/api-fuzz.spec.ts', () => {
  it('a scheduleTime outside the Timestamp range is INVALID_ARGUMENT and adds nothing; the queue stays readable', async () => {
    for (const [id, scheduleTime] of [
      ['ts-far-past', { seconds: -1e15 }],
      ['ts-nanos', { seconds: 0, nanos: -1e20 }],
      ['ts-year-minus-1', '0000-01-01T00:00:00+23:59'],
    ] as const) {
      const r = await createError('a', { name: name('a', id), scheduleTime });
      expect(r.status, JSON.stringify(r.error)).toBe(400);
      expect(fieldOf(r.error)).toBe('task.schedule_time');
      expect((await api('GET', `${base}/a/tasks/${id}`)).status).toBe(404);
    }
    expect((await api('GET', `${base}/a/tasks`)).status).toBe(200);
    // The range's first instant is a timestamp like any other (in the past: it becomes now).
    const before = Date.now();
    const first = await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'ts-first'), appEngineHttpRequest: {}, scheduleTime: '0001-01-01T00:00:00Z' } });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(Date.parse(first.json.scheduleTime)).toBeGreaterThanOrEqual(before - 1);
    expect((await api('DELETE', `${base}/a/tasks/ts-first`)).status).toBe(200);
  });

  it('a request target starting with // is a path, not a URL with a host', async () => {
    const bare = await rawGet('//');
    expect(bare.status).toBe(404);
    expect(bare.json.error.status).toBe('NOT_FOUND');
    // Not routed as /v2/projects/p/locations/l/queues (host "x").
    const hosted = await rawGet('//x/v2/projects/p/locations/l/queues');
    expect(hosted.status).toBe(404);
    expect(hosted.json.error.message).toContain('//x/v2/projects/p/locations/l/queues');
  });

  it('RunTask with a body that is not a JSON object is INVALID_ARGUMENT and runs nothing', async () => {
    expect((await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'run-body'), appEngineHttpRequest: {} } })).status).toBe(200);
    for (const body of [null, [], 'FULL']) {
      const r = await api('POST', `${base}/a/tasks/run-body:run`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    }
    expect((await api('GET', `${base}/a/tasks/run-body`)).json.dispatchCount).toBe(0);
    expect((await api('DELETE', `${base}/a/tasks/run-body`)).status).toBe(200);
  });
});

describe('errors in the Google JSON shape', () => {
  it('a scheduleTime in the past becomes now, as in Cloud Tasks; a future one is kept to the microsecond', async () => {
    const before = Date.now();
    const past = await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'st-past'), appEngineHttpRequest: {}, scheduleTime: new Date(before - 3_600_000).toISOString() } });
    expect(past.status, JSON.stringify(past.json)).toBe(200);
    const at = Date.parse(past.json.scheduleTime);
    // The service's clock is monotonic, set from the wall clock at its start (wall-driver.ts); the
    // wall clock may be slewed since (a fresh-clone run measured 3 ms): now, not an hour ago.
    const SLEW_MS = 100;
    expect(at).toBeGreaterThanOrEqual(before - SLEW_MS);
    expect(at).toBeLessThanOrEqual(Date.now() + SLEW_MS);
    const ahead = `${new Date(before + 10 * 86_400_000).toISOString().slice(0, 19)}.123456Z`;
    const future = await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'st-future'), appEngineHttpRequest: {}, scheduleTime: ahead } });
    expect(future.json.scheduleTime).toBe(ahead);
  });

  it('ALREADY_EXISTS for a live duplicate and for a tombstoned name', async () => {
    expect((await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'dup'), appEngineHttpRequest: {} } })).status).toBe(200);
    const dup = await createError('a', { name: name('a', 'dup') });
    expect(dup).toMatchObject({ status: 409, error: { code: 409, status: 'ALREADY_EXISTS' } });
    expect(dup.error.message).toContain('TASK_ALREADY_EXISTS');
    expect((await api('DELETE', `${base}/a/tasks/dup`)).status).toBe(200);
    const tomb = await createError('a', { name: name('a', 'dup') });
    expect(tomb).toMatchObject({ status: 409, error: { status: 'ALREADY_EXISTS' } });
    expect(tomb.error.message).toContain('TOMBSTONED_TASK');
    // ...but a tombstoned task is NOT_FOUND for get, delete and run, each saying TOMBSTONED_TASK.
    for (const [method, path] of [['GET', 'dup'], ['DELETE', 'dup'], ['POST', 'dup:run']] as const) {
      const r = await api(method, `${base}/a/tasks/${path}`, method === 'POST' ? {} : undefined);
      expect([r.status, r.json.error.status, method], r.json.error.message).toEqual([404, 'NOT_FOUND', method]);
      expect(r.json.error.message).toMatch(/\(TOMBSTONED_TASK\)$/);
    }
  });

  it.each([
    ['a bad task name', { name: name('a', 'bad name!') }, 'task.name'],
    ['a name in another queue', { name: name('b', 'x') }, 'task.name'],
    ['an ETA more than 30 days ahead', { scheduleTime: new Date(Date.now() + 31 * 86400_000).toISOString() }, 'task.schedule_time'],
    ['a malformed scheduleTime', { scheduleTime: 'tomorrow' }, 'task.schedule_time'],
    ['a scheduleTime on February 30th', { scheduleTime: '2026-02-30T00:00:00Z' }, 'task.schedule_time'],
    ['a scheduleTime at hour 24', { scheduleTime: '2026-12-01T24:00:00Z' }, 'task.schedule_time'],
    ['a scheduleTime object with seconds: true', { scheduleTime: { seconds: true } }, 'task.schedule_time'],
    ['a scheduleTime object with fractional seconds', { scheduleTime: { seconds: 1.5 } }, 'task.schedule_time'],
    ['a scheduleTime object with nanos out of range', { scheduleTime: { seconds: 0, nanos: 1e9 } }, 'task.schedule_time'],
    ['a Host header', { appEngineHttpRequest: { headers: { Host: 'x' } } }, 'task.app_engine_http_request.headers[Host]'],
    ['an X-AppEngine-* header', { appEngineHttpRequest: { headers: { 'X-AppEngine-QueueName': 'x' } } }, 'task.app_engine_http_request.headers[X-AppEngine-QueueName]'],
    ['an X-Google-* header', { appEngineHttpRequest: { headers: { 'x-google-foo': 'x' } } }, 'task.app_engine_http_request.headers[x-google-foo]'],
    ['a relativeUri without a leading /', { appEngineHttpRequest: { relativeUri: 'work' } }, 'task.app_engine_http_request.relative_uri'],
    ['a relativeUri that leaves the target', { appEngineHttpRequest: { relativeUri: '//evil.example/x' } }, 'task.app_engine_http_request.relative_uri'],
    ['a Content-Length header', { appEngineHttpRequest: { headers: { 'Content-Length': '3' }, body: 'aGVsbG8=' } }, 'task.app_engine_http_request.headers[Content-Length]'],
    ['a header value beyond Latin-1', { appEngineHttpRequest: { headers: { 'X-Name': '日本' } } }, 'task.app_engine_http_request.headers[X-Name]'],
    ['a relativeUri that is not ASCII', { appEngineHttpRequest: { relativeUri: '/ok/日本' } }, 'task.app_engine_http_request.relative_uri'],
    ['a relativeUri with a .. segment', { appEngineHttpRequest: { relativeUri: '/work/../admin' } }, 'task.app_engine_http_request.relative_uri'],
    ['a relativeUri with a percent-encoded .. segment', { appEngineHttpRequest: { relativeUri: '/%2e%2E/admin' } }, 'task.app_engine_http_request.relative_uri'],
    ['a relativeUri ending in ..', { appEngineHttpRequest: { relativeUri: '/a/.%2e?x=1' } }, 'task.app_engine_http_request.relative_uri'],
    ['a body over 100 KiB', { appEngineHttpRequest: { body: Buffer.alloc(102_400).toString('base64') } }, 'task.app_engine_http_request.body'],
    ['a body on a GET', { appEngineHttpRequest: { httpMethod: 'GET', body: 'aGk=' } }, 'task.app_engine_http_request.body'],
    ['an unknown method', { appEngineHttpRequest: { httpMethod: 'BREW' } }, 'task.app_engine_http_request.http_method'],
    ['an HTTP target outside loopback (--allow-http-target)', { httpRequest: { url: 'http://x' } }, 'task.http_request.url'],
    ['an appEngineRouting that is not an object', { appEngineHttpRequest: { appEngineRouting: 'worker' } }, 'task.app_engine_http_request.app_engine_routing'],
    ['an appEngineRouting.service that is not a string', { appEngineHttpRequest: { appEngineRouting: { service: 7 } } }, 'task.app_engine_http_request.app_engine_routing.service'],
    // A dot in either field made it another target: service "v2.worker" was taken as version v2 of
    // service worker (and echoed so), version "a.b" with service "w" failed as target "a.b.w".
    ['an appEngineRouting.service with a dot (version.service in one field)', { appEngineHttpRequest: { appEngineRouting: { service: 'v2.worker' } } }, 'task.app_engine_http_request.app_engine_routing.service'],
    ['an appEngineRouting.version with a dot', { appEngineHttpRequest: { appEngineRouting: { service: 'w', version: 'a.b' } } }, 'task.app_engine_http_request.app_engine_routing.version'],
    ['an appEngineRouting.service in capitals', { appEngineHttpRequest: { appEngineRouting: { service: 'Worker' } } }, 'task.app_engine_http_request.app_engine_routing.service'],
    ['a dispatchDeadline that is not a duration', { dispatchDeadline: '30' }, 'task.dispatch_deadline'],
    ['a dispatchDeadline in minutes', { dispatchDeadline: '1m' }, 'task.dispatch_deadline'],
    ['a negative dispatchDeadline', { dispatchDeadline: '-20s' }, 'task.dispatch_deadline'],
    ['a dispatchDeadline as a number', { dispatchDeadline: 30 }, 'task.dispatch_deadline'],
    ['a dispatchDeadline below 15 s', { dispatchDeadline: '14.999999s' }, 'task.dispatch_deadline'],
    ['a dispatchDeadline below a microsecond but not zero', { dispatchDeadline: '0.0000001s' }, 'task.dispatch_deadline'],
    ['a dispatchDeadline above 24 h 15 s', { dispatchDeadline: '86415.000001s' }, 'task.dispatch_deadline'],
  ])('INVALID_ARGUMENT naming the field for %s', async (_what, task, field) => {
    const r = await createError('a', task);
    expect(r.status).toBe(400);
    expect(r.error.status).toBe('INVALID_ARGUMENT');
    expect(fieldOf(r.error)).toBe(field);
  });

  it('NOT_FOUND for an unknown queue, task or path', async () => {
    expect((await createError('nope', {})).error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect((await api('GET', `${base}/nope`)).status).toBe(404);
    expect((await api('GET', `${base}/a/tasks/ghost`)).json.error.status).toBe('NOT_FOUND');
    expect((await api('GET', `${service.url}/v1/whatever`)).status).toBe(404);
  });

  it('FAILED_PRECONDITION for creating, patching or deleting a queue', async () => {
    for (const [method, url] of [['POST', base], ['PATCH', `${base}/a`], ['DELETE', `${base}/a`]] as const) {
      const r = await api(method, url, { name: 'x' });
      expect(r.status).toBe(400);
      expect(r.json.error.status).toBe('FAILED_PRECONDITION');
      expect(r.json.error.message).toContain('queue.yaml');
    }
  });

  it('FAILED_PRECONDITION for resuming a queue with rate 0 in queue.yaml; it stays PAUSED', async () => {
    const r = await api('POST', `${base}/a:resume`, {});
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ status: 'FAILED_PRECONDITION', message: expect.stringContaining('rate 0') });
    expect((await api('GET', `${base}/a`)).json.state).toBe('PAUSED');
  });

  it('RESOURCE_EXHAUSTED past total_storage_limit, and nothing is added', async () => {
    const before = (await api('GET', `${base}/a/tasks`)).json.tasks?.length ?? 0;
    const body = Buffer.alloc(700).toString('base64');
    let r = await api('POST', `${base}/a/tasks`, { task: { appEngineHttpRequest: { body } } });
    for (let i = 0; i < 5 && r.status === 200; i++) r = await api('POST', `${base}/a/tasks`, { task: { appEngineHttpRequest: { body } } });
    expect(r.status).toBe(429);
    expect(r.json.error.status).toBe('RESOURCE_EXHAUSTED');
    const after = (await api('GET', `${base}/a/tasks`)).json.tasks.length;
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThan(before + 5);
  });

  it('refuses a request body over the limit before reading it whole', async () => {
    // Declared too large: refused from the headers alone, though no byte of the body was sent.
    const declared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/a/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(declared.status).toBe(400);
    expect(JSON.parse(declared.body).error.status).toBe('INVALID_ARGUMENT');
    // Chunked, with no length: refused once the bytes pass the limit.
    const big = JSON.stringify({ task: { appEngineHttpRequest: { body: Buffer.alloc(400 * 1024).toString('base64') } } });
    const chunked = await fetch(`${base}/a/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob([big]).stream(), duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(400);
    expect(fieldOf(((await chunked.json()) as { error: unknown }).error)).toBe('task.app_engine_http_request.body');
  });

  it('a client that goes away mid-body is no internal error: nothing logged, nothing added, the service carries on', async () => {
    const writes: string[] = [];
    const original = process.stderr.write;
    const realWrite = original.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(String(chunk));
      return (realWrite as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const before = (await api('GET', `${base}/a/tasks`)).json.tasks?.length ?? 0;
    try {
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const req = request(`${base}/a/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
          req.on('error', () => resolve());
          req.write('{"task": {"name": "projects/p/locations/l/queues/a/tasks/gone');
          setTimeout(() => {
            req.destroy();
            setTimeout(resolve, 20);
          }, 10);
        });
      }
    } finally {
      // The very function it was (files after this one share the process).
      process.stderr.write = original;
    }
    expect(writes.filter((w) => w.includes('internal error'))).toEqual([]);
    expect((await api('GET', `${base}/a/tasks`)).json.tasks?.length ?? 0).toBe(before);
    expect((await api('GET', `${base}/a`)).status).toBe(200);
  });
});

describe('queues', () => {
  it('shows queue.yaml queues in the Cloud Tasks shape (rate 0 = PAUSED)', async () => {
    const { json } = await api('GET', base);
    expect(json.queues.map((q: { name: string; state: string }) => [q.name.split('/').pop(), q.state])).toEqual([['default', 'RUNNING'], ['a', 'PAUSED'], ['b', 'RUNNING']]);
    const b = json.queues[2];
    expect(b.rateLimits).toEqual({ maxDispatchesPerSecond: 10, maxBurstSize: 5, maxConcurrentDispatches: 1000 });
    expect(b.retryConfig).toMatchObject({ maxAttempts: -1, minBackoff: '0.100s', maxBackoff: '3600s', maxDoublings: 16 });
  });

  it('reload applies deploy semantics: a removed queue is DISABLED with its tasks, rate 0 pauses, a bad file changes nothing', async () => {
    await api('POST', `${base}/a/tasks`, { task: { name: name('a', 'kept'), appEngineHttpRequest: {} } });
    await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: b\n  rate: 0\n');
    const r = await api('POST', `${service.url}/pushq/reload`, {});
    expect(r.status).toBe(200);
    const states = (await api('GET', base)).json.queues.map((q: { name: string; state: string }) => [q.name.split('/').pop(), q.state]);
    expect(states).toEqual([['default', 'RUNNING'], ['a', 'DISABLED'], ['b', 'PAUSED']]);
    expect((await api('GET', `${base}/a/tasks/kept`)).status).toBe(200);

    await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: b\n  rate: fast\n');
    const bad = await api('POST', `${service.url}/pushq/reload`, {});
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('queue.yaml');
    expect((await api('GET', `${base}/b`)).json.state).toBe('PAUSED');
  });
});
