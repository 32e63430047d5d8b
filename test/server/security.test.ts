/**
 * What a request must show before pushq serves it (security.ts, docs/serve.md "Security"), against
 * a real PushqService on 127.0.0.1 and raw node:http requests (fetch cannot set Host): the Host
 * check (DNS rebinding), the Origin check on state-changing requests, JSON-only bodies, the
 * token (Bearer or the dashboard's session cookie), the refusal to bind beyond loopback without
 * one, and the headers every response carries. Each refusal is a 4xx in Google's error shape
 * naming what was refused, and appends nothing to the log.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService, type ServiceOptions } from '../../src/server/service.js';
import { ServeStartError } from '../../src/server/start-errors.js';
import { closedPort } from '../helpers/closed-port.js';

const config = requireValidConfig(parseQueueConfig('queue:\n- name: q\n  rate: 0\n', { file: 'queue.yaml' }));
const TOKEN = 'correct-horse-battery-staple-42';
const newLog = () => new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });

const started: PushqService[] = [];
async function start(options: Partial<ServiceOptions> = {}): Promise<{ service: PushqService; log: MemoryEventLog }> {
  const log = newLog();
  const service = await PushqService.start({ config, targets: {}, log, ...options });
  started.push(service);
  return { service, log };
}

afterAll(async () => {
  for (const s of started) await s.close(500);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A raw request: exactly these headers (Host included), this body. */
function send(service: PushqService, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { host: `127.0.0.1:${service.port}`, ...headers };
    if (body !== undefined) all['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: '127.0.0.1', port: service.port, method, path, headers: all, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const Q = '/v2/projects/p/locations/l/queues/q';
const JSON_TYPE = { 'content-type': 'application/json' };
const createBody = (id: string) => JSON.stringify({ task: { name: `projects/p/locations/l/queues/q/tasks/${id}`, appEngineHttpRequest: { relativeUri: '/admin/drop' } } });

/** `answer` refuses with `status` and `code`, and the log did not grow. */
async function expectRefused(log: MemoryEventLog, answer: Promise<Answer>, status: number, code: string): Promise<Answer> {
  await log.flush();
  const before = log.length;
  const a = await answer;
  expect(a.status, a.text).toBe(status);
  expect(Object.keys(a.json)).toEqual(['error']);
  expect(a.json.error.code).toBe(status);
  expect(a.json.error.message).toMatch(new RegExp(` \\(${code}\\)$`));
  expect(log.length).toBe(before);
  return a;
}


/** Sends `request` as it is (no client adds a Host header) and reads the whole answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString('utf8')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('Host (DNS rebinding)', () => {
  let service: PushqService;
  let log: MemoryEventLog;
  beforeAll(async () => ({ service, log } = await start({ allowHosts: ['pushq.test'] })));

  it('serves the names of the bound address and --allow-host names, with or without the port', async () => {
    for (const host of [`127.0.0.1:${service.port}`, '127.0.0.1', `localhost:${service.port}`, 'localhost', 'LocalHost', `[::1]:${service.port}`, '[::1]', 'pushq.test', `pushq.test:${service.port}`]) {
      const a = await send(service, 'GET', Q, { host });
      expect(a.status, host).toBe(200);
    }
  });

  it.each([['evil.example:8123'], ['127.0.0.1.evil.example'], ['localhost.evil.example'], ['pushq.test.evil.example'], ['evil.example/x'], ['']])('refuses Host %j, naming it, and serves nothing', async (host) => {
    const read = await expectRefused(log, send(service, 'GET', `${Q}/tasks`, { host }), 403, 'HOST_NOT_ALLOWED');
    expect(read.json.error.status).toBe('PERMISSION_DENIED');
    const name = /^[a-z0-9.]*/.exec(host)![0];
    // --allow-host is suggested, with the name it would take, only for a value that names a host.
    if (host.includes('/') || host === '') expect(read.json.error.message).toMatch(new RegExp(`^Host ${JSON.stringify(host).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is refused: it names no host \\(a name or an address, with an optional :port\\); this server answers to [^;]*\\(HOST_NOT_ALLOWED\\)$`));
    else expect(read.json.error.message).toContain(`Host ${JSON.stringify(host)} is not an address this server answers to (127.0.0.1, localhost, [::1], pushq.test); start it with --allow-host ${name} to add it`);
    expect(read.text).not.toContain('tasks/');
    await expectRefused(log, send(service, 'POST', `${Q}/tasks`, { host, ...JSON_TYPE }, createBody('rebound')), 403, 'HOST_NOT_ALLOWED');
    await expectRefused(log, send(service, 'POST', `${Q}:purge`, { host, ...JSON_TYPE }, '{}'), 403, 'HOST_NOT_ALLOWED');
    expect((await send(service, 'GET', `${Q}/tasks/rebound`)).status).toBe(404);
  });

  it.each([['127.0.0.1:99999'], ['localhost:http'], ['[::1]:-1']])('refuses Host %j, whose host is one of its own but whose port is none: says so, not that it names no host, nor --allow-host', async (host) => {
    const read = await expectRefused(log, send(service, 'GET', `${Q}/tasks`, { host }), 403, 'HOST_NOT_ALLOWED');
    expect(read.json.error.message).toBe(`Host ${JSON.stringify(host)} is refused: its port is not a number from 0 to 65535; this server answers to 127.0.0.1, localhost, [::1], pushq.test (HOST_NOT_ALLOWED)`);
  });

  it.each([['::1'], ['2001:db8::1']])('refuses Host %j, an IPv6 address without its brackets: says they are needed, not that its port is no number', async (host) => {
    const read = await expectRefused(log, send(service, 'GET', `${Q}/tasks`, { host }), 403, 'HOST_NOT_ALLOWED');
    expect(read.json.error.message).toBe(`Host ${JSON.stringify(host)} is refused: an IPv6 address is written in brackets there, [${host}] (RFC 3986 §3.2.2); this server answers to 127.0.0.1, localhost, [::1], pushq.test (HOST_NOT_ALLOWED)`);
  });

  it.each([['a:b:c'], ['[::1]x:80']])('refuses Host %j, which names no host followed by a port: says it names no host', async (host) => {
    const read = await expectRefused(log, send(service, 'GET', `${Q}/tasks`, { host }), 403, 'HOST_NOT_ALLOWED');
    expect(read.json.error.message).toBe(`Host ${JSON.stringify(host)} is refused: it names no host (a name or an address, with an optional :port); this server answers to 127.0.0.1, localhost, [::1], pushq.test (HOST_NOT_ALLOWED)`);
  });

  it('refuses a request with no Host header at all (HTTP/1.0)', async () => {
    const a = await rawRequest(service.port, `GET ${Q} HTTP/1.0\r\n\r\n`);
    expect(a).toMatch(/^HTTP\/1\.1 403 /);
    expect(a).toContain('the request has no Host header: this server answers only to requests whose Host names one of its addresses (');
    expect(a).not.toContain('--allow-host');
  });

  it('judges a request whose target is in absolute form by the target\'s authority, not its Host header (RFC 9112 §3.2.2)', async () => {
    const own = `127.0.0.1:${service.port}`;
    const body = (a: string) => JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)) as { error: { status: string; message: string }; tasks?: unknown };
    // For evil.example, whatever its Host says: refused, naming what was judged (the target's
    // authority, not the Host the client sent) and the --allow-host that would take it.
    for (const target of [`http://evil.example${Q}/tasks`, `http://evil.example:${service.port}${Q}/tasks`]) {
      const a = await rawRequest(service.port, `GET ${target} HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
      expect(a, target).toMatch(/^HTTP\/1\.1 403 /);
      const authority = JSON.stringify(target.replace(/^\w+:\/\//, '').split('/')[0]);
      expect(body(a).error.message, target).toMatch(
        new RegExp(`^the request target's authority ${authority.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(a target in absolute form is judged by it, not by Host: RFC 9112 §3\\.2\\.2\\) is not an address this server answers to .*; start it with --allow-host evil\\.example to add it \\(HOST_NOT_ALLOWED\\)$`),
      );
      expect(body(a).error.message).not.toContain(`Host "${own}"`);
    }
    // Userinfo in the target (HTTP forbids it, RFC 9110 §4.2.4): refused, and no --allow-host, which could not help.
    const userinfo = await rawRequest(service.port, `GET HTTP://user@${own}${Q}/tasks HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect(userinfo).toMatch(/^HTTP\/1\.1 403 /);
    expect(body(userinfo).error.message).toContain(`the request target's authority "user@${own}" (a target in absolute form is judged by it, not by Host: RFC 9112 §3.2.2) is refused: it carries userinfo (before "@"), which a request must not (RFC 9110 §4.2.4): send the target without it`);
    expect(body(userinfo).error.message).not.toContain('--allow-host');
    // For this server, with another Host (or none, HTTP/1.0): served, and routed by the target's path and query.
    for (const [target, host] of [[`http://${own}${Q}/tasks?pageSize=1`, 'Host: evil.example\r\n'], [`http://localhost:${service.port}${Q}/tasks`, ''], [`http://pushq.test${Q}/tasks`, 'Host: evil.example\r\n']]) {
      const a = await rawRequest(service.port, `GET ${target} HTTP/1.${host === '' ? 0 : 1}\r\n${host}Connection: close\r\n\r\n`);
      expect(a, target).toMatch(/^HTTP\/1\.1 200 /);
      expect(body(a)).toEqual({ tasks: [] });
    }
    // A create for evil.example changes nothing.
    await log.flush();
    const before = log.length;
    const create = createBody('absolute');
    const a = await rawRequest(service.port, `POST http://evil.example${Q}/tasks HTTP/1.1\r\nHost: ${own}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(create)}\r\nConnection: close\r\n\r\n${create}`);
    expect(a).toMatch(/^HTTP\/1\.1 403 /);
    await log.flush();
    expect(log.length).toBe(before);
  });

  it('refuses an HTTP/1.1 request with no Host header the same way: 403 HOST_NOT_ALLOWED in Google\'s shape, not a bare 400', async () => {
    const a = await rawRequest(service.port, `GET ${Q} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    expect(a).toMatch(/^HTTP\/1\.1 403 /);
    const body = JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('PERMISSION_DENIED');
    expect(body.error.message).toMatch(/^the request has no Host header: .*\(HOST_NOT_ALLOWED\)$/);
  });
});

describe('Origin (cross-site requests from a browser)', () => {
  let service: PushqService;
  let log: MemoryEventLog;
  beforeAll(async () => ({ service, log } = await start({ allowOrigins: ['http://localhost:3000'] })));

  it('refuses a state-changing request from another origin, naming it; the queue is unchanged', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${service.port + 1}`, 'null', `http://127.0.0.1:${service.port}.evil.example`, `https://evil.example`]) {
      const a = await expectRefused(log, send(service, 'POST', `${Q}:resume`, { origin, ...JSON_TYPE }, '{}'), 403, 'ORIGIN_NOT_ALLOWED');
      expect(a.json.error.message).toContain(`a POST from Origin ${JSON.stringify(origin)} is refused`);
      await expectRefused(log, send(service, 'POST', `${Q}/tasks`, { origin, ...JSON_TYPE }, createBody('cross')), 403, 'ORIGIN_NOT_ALLOWED');
      await expectRefused(log, send(service, 'DELETE', `${Q}/tasks/x`, { origin }), 403, 'ORIGIN_NOT_ALLOWED');
    }
    expect((await send(service, 'GET', Q)).json.state).toBe('PAUSED');
  });

  it('accepts pushq\'s own origin (the one its Host names), and an --allow-origin one with CORS', async () => {
    const own = await send(service, 'POST', `${Q}/tasks`, { origin: `http://127.0.0.1:${service.port}`, ...JSON_TYPE }, createBody('own'));
    expect(own.status, own.text).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
    const byName = await send(service, 'DELETE', `${Q}/tasks/own`, { host: `localhost:${service.port}`, origin: `http://localhost:${service.port}` });
    expect(byName.status, byName.text).toBe(200);

    const preflight = await send(service, 'OPTIONS', `${Q}/tasks`, { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(preflight.headers['access-control-allow-headers']).toContain('content-type');
    const allowed = await send(service, 'POST', `${Q}/tasks`, { origin: 'http://localhost:3000', ...JSON_TYPE }, createBody('allowed'));
    expect(allowed.status, allowed.text).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('leaves reads alone (a page cannot read the answer: no CORS header for another origin)', async () => {
    const a = await send(service, 'GET', `${Q}/tasks`, { origin: 'http://evil.example' });
    expect(a.status).toBe(200);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await send(service, 'OPTIONS', `${Q}/tasks`, { origin: 'http://evil.example', 'access-control-request-method': 'POST' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('Content-Type (bodies are JSON only)', () => {
  let service: PushqService;
  let log: MemoryEventLog;
  beforeAll(async () => ({ service, log } = await start()));

  it.each([
    ['text/plain holding CreateTask JSON', { 'content-type': 'text/plain' }],
    ['text/plain;charset=UTF-8 (what a no-cors fetch sends)', { 'content-type': 'text/plain;charset=UTF-8' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['a +json type', { 'content-type': 'application/json-patch+json' }],
    ['no Content-Type', {}],
  ])('refuses %s with 415, naming the type; nothing is added', async (_what, headers) => {
    const a = await expectRefused(log, send(service, 'POST', `${Q}/tasks`, headers, createBody('typed')), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(a.json.error.status).toBe('INVALID_ARGUMENT');
    const type = (headers as Record<string, string>)['content-type'];
    expect(a.json.error.message).toContain(type === undefined ? 'a body without a Content-Type' : `Content-Type ${JSON.stringify(type)}`);
    expect((await send(service, 'GET', `${Q}/tasks/typed`)).status).toBe(404);
  });

  it('refuses a text/plain command even with an empty body; takes JSON with a charset, in any case', async () => {
    await expectRefused(log, send(service, 'POST', `${Q}:purge`, { 'content-type': 'text/plain' }, ''), 415, 'UNSUPPORTED_MEDIA_TYPE');
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      const a = await send(service, 'POST', `${Q}/tasks`, { 'content-type': type }, createBody(`ok-${type.length}`));
      expect(a.status, `${type}: ${a.text}`).toBe(200);
    }
    // A command with no body needs no type (curl -X POST): browsers cannot send one cross-origin without an Origin.
    expect((await send(service, 'POST', `${Q}:purge`)).status).toBe(200);
  });
});

describe('headers on every response', () => {
  let service: PushqService;
  beforeAll(async () => ({ service } = await start()));

  it('nosniff, no framing, no caching: on answers, refusals, errors and the dashboard', async () => {
    for (const [method, path, headers] of [
      ['GET', Q, {}],
      ['GET', '/pushq/health', {}],
      ['GET', '/nope', {}],
      ['GET', Q, { host: 'evil.example' }],
      ['POST', `${Q}/tasks`, { 'content-type': 'text/plain' }],
      ['GET', '/', {}],
      ['GET', '/pushq/assets/dashboard.js', {}],
    ] as const) {
      const a = await send(service, method, path, headers, method === 'POST' ? '{}' : undefined);
      expect(a.headers['x-content-type-options'], path).toBe('nosniff');
      expect(a.headers['x-frame-options'], path).toBe('DENY');
      expect(a.headers['cache-control'], path).toBe('no-store');
      expect(a.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
    }
  });
});

describe('--auth-token', () => {
  let service: PushqService;
  let log: MemoryEventLog;
  beforeAll(async () => ({ service, log } = await start({ authToken: TOKEN })));
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('every API request needs Authorization: Bearer TOKEN', async () => {
    const none = await expectRefused(log, send(service, 'GET', Q), 401, 'AUTH_REQUIRED');
    expect(none.json.error.status).toBe('UNAUTHENTICATED');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="pushq"');
    expect(none.json.error.message).toContain('needs Authorization: Bearer TOKEN');
    const wrong = await expectRefused(log, send(service, 'GET', Q, { authorization: 'Bearer not-the-token-at-all' }), 401, 'AUTH_REQUIRED');
    expect(wrong.json.error.message).toContain('does not carry this server\'s token');
    await expectRefused(log, send(service, 'POST', `${Q}/tasks`, JSON_TYPE, createBody('anon')), 401, 'AUTH_REQUIRED');
    await expectRefused(log, send(service, 'GET', '/pushq/health'), 401, 'AUTH_REQUIRED');
    await expectRefused(log, send(service, 'GET', '/pushq/dashboard.json', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }), 401, 'AUTH_REQUIRED');

    expect((await send(service, 'GET', Q, bearer)).status).toBe(200);
    expect((await send(service, 'GET', Q, { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    const created = await send(service, 'POST', `${Q}/tasks`, { ...bearer, ...JSON_TYPE }, createBody('authed'));
    expect(created.status, created.text).toBe(200);
  });

  it('the dashboard asks for the token once: a login page, then an HttpOnly SameSite=Strict session cookie', async () => {
    const page = await send(service, 'GET', '/');
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<form class="login" id="login">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // The login page's own files need no session; nothing else does without one.
    expect((await send(service, 'GET', '/pushq/assets/login.js')).status).toBe(200);
    await expectRefused(log, send(service, 'GET', '/pushq/queues/q/tasks'), 401, 'AUTH_REQUIRED');

    await expectRefused(log, send(service, 'POST', '/pushq/login', JSON_TYPE, JSON.stringify({ token: 'guess-guess-guess-guess' })), 401, 'AUTH_REQUIRED');
    await expectRefused(log, send(service, 'POST', '/pushq/login', { 'content-type': 'application/x-www-form-urlencoded' }, `token=${TOKEN}`), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefused(log, send(service, 'POST', '/pushq/login', { ...JSON_TYPE, origin: 'http://evil.example' }, JSON.stringify({ token: TOKEN })), 403, 'ORIGIN_NOT_ALLOWED');
    const login = await send(service, 'POST', '/pushq/login', JSON_TYPE, JSON.stringify({ token: TOKEN }));
    expect(login.status, login.text).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^pushq_session_${service.port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;

    const dashboard = await send(service, 'GET', '/', { cookie });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('<title>pushq dashboard</title>');
    expect((await send(service, 'GET', '/pushq/dashboard.json', { cookie: `other=1; ${cookie}` })).status).toBe(200);
    expect((await send(service, 'POST', `${Q}:purge`, { cookie })).status).toBe(200);
    await expectRefused(log, send(service, 'GET', Q, { cookie: `${cookie}x` }), 401, 'AUTH_REQUIRED');
  });

  it('the files served without the token open nothing else: dot segments, encoded or not, are resolved before the check', async () => {
    const created = await send(service, 'POST', `${Q}/tasks`, { ...bearer, ...JSON_TYPE }, JSON.stringify({ task: { name: 'projects/p/locations/l/queues/q/tasks/private', appEngineHttpRequest: { relativeUri: '/x', body: Buffer.from('the secret payload').toString('base64') } } }));
    expect(created.status, created.text).toBe(200);
    const traversals = [
      `/pushq/assets/../..${Q}/tasks?responseView=FULL`,
      `/pushq/assets/%2e%2e/%2E%2E${Q}/tasks/private?responseView=FULL`,
      '/pushq/assets/../queues/q/tasks/private/story',
      '/pushq/assets/../dashboard.json',
      '/.well-known/../pushq/queues/*/tasks',
      '/.well-known/x/../../pushq/series.json',
    ];
    for (const path of traversals) {
      const a = await expectRefused(log, send(service, 'GET', path), 401, 'AUTH_REQUIRED');
      expect(a.text, path).not.toContain('private');
    }
    // What is public stays public, however it is written.
    expect((await send(service, 'GET', '/pushq/assets/./login.js')).status).toBe(200);
    expect((await send(service, 'GET', '/.well-known/jwks.json')).status).toBe(200);
    expect((await send(service, 'GET', '/.well-known/openid-configuration')).status).toBe(200);
  });

  it('a session of another token does not open this server', async () => {
    const { service: other } = await start({ authToken: `${TOKEN}-other` });
    const login = await send(other, 'POST', '/pushq/login', JSON_TYPE, JSON.stringify({ token: `${TOKEN}-other` }));
    const value = String(login.headers['set-cookie']).split(';')[0]!.split('=')[1];
    const a = await send(service, 'GET', Q, { cookie: `pushq_session_${service.port}=${value}` });
    expect(a.status).toBe(401);
  });
});

describe('binding beyond loopback', () => {
  it('without --auth-token or --insecure-public fails before binding, with a stable code', async () => {
    const port = await closedPort();
    for (const host of ['0.0.0.0', '::']) {
      const err = await PushqService.start({ config, targets: {}, log: newLog(), host, port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ServeStartError);
      expect((err as ServeStartError).code).toBe('UNPROTECTED_PUBLIC_BIND');
      expect((err as Error).message).toMatch(new RegExp(`^--host ${host.replace(/[.]/g, '\\.')} is not a loopback address: .*--auth-token TOKEN.*--insecure-public.* \\(UNPROTECTED_PUBLIC_BIND\\)$`));
    }
    // Nothing was bound: the port is still free.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '0.0.0.0', () => resolve()));
    await new Promise((r) => probe.close(r));
  });

  it('starts with a token (which every request then needs), or with --insecure-public', async () => {
    const { service } = await start({ host: '0.0.0.0', authToken: TOKEN });
    expect((await send(service, 'GET', Q)).status).toBe(401);
    expect((await send(service, 'GET', Q, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const open = await start({ host: '0.0.0.0', insecurePublic: true });
    expect((await send(open.service, 'GET', Q)).status).toBe(200);
  });

  it("a server bound to every address, in any spelling (0, 00, 0.0.0.0), answers at the machine's own addresses", async () => {
    const own = Object.values(networkInterfaces()).flatMap((list) => list ?? []).find((i) => !i.internal && i.family === 'IPv4')?.address;
    expect(own, 'this machine has a non-loopback IPv4 address').toBeDefined();
    for (const host of ['0', '00', '0.0.0.0']) {
      const { service } = await start({ host, authToken: TOKEN });
      const a = await send(service, 'GET', Q, { authorization: `Bearer ${TOKEN}`, host: `${own}:${service.port}` });
      expect(a.status, `--host ${host}: ${JSON.stringify(a.json)}`).toBe(200);
    }
  });

  it('loopback names need neither', async () => {
    for (const host of ['127.0.0.1', 'localhost', '127.0.0.2']) {
      const { service } = await start({ host });
      expect(service.port).toBeGreaterThan(0);
    }
  });

  it.each<[Partial<ServiceOptions>, string]>([
    [{ authToken: 'short' }, 'AUTH_TOKEN_INVALID'],
    [{ authToken: 'has spaces in it, which a header cannot carry' }, 'AUTH_TOKEN_INVALID'],
    [{ allowHosts: ['http://pushq.test'] }, 'ALLOW_HOST_INVALID'],
    [{ allowHosts: ['pushq.test:8123'] }, 'ALLOW_HOST_INVALID'],
    [{ allowOrigins: ['pushq.test'] }, 'ALLOW_ORIGIN_INVALID'],
    [{ allowOrigins: ['http://pushq.test/path'] }, 'ALLOW_ORIGIN_INVALID'],
  ])('refuses %j at start (%s)', async (options, code) => {
    const err = await PushqService.start({ config, targets: {}, log: newLog(), ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ServeStartError).code).toBe(code);
    expect((err as Error).message).toMatch(new RegExp(`\\(${code}\\)$`));
  });
});

describe('docs/errors.md', () => {
  it('lists exactly the start error codes', () => {
    const root = join(import.meta.dirname, '..', '..');
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    const section = doc.split(/^## /m).find((s) => s.startsWith('Serve start'));
    const documented = [...(section ?? '').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
    const src = readFileSync(join(root, 'src', 'server', 'start-errors.ts'), 'utf8');
    const union = /export type ServeStartErrorCode =([^;]*);/.exec(src)?.[1] ?? '';
    expect(documented.sort()).toEqual([...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!).sort());
    expect(documented.length).toBe(8);
  });
});

