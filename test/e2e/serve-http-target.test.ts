/**
 * HTTP targets (Cloud Tasks `httpRequest`) through `pushq serve`, over REST and gRPC: the task is
 * sent to its absolute URL with Cloud Tasks' X-CloudTasks-* headers (and the retry ones after a
 * failure); an OIDC token is an RS256 ID token that `jose` verifies against pushq's own issuer
 * (its discovery document and JWKS); an OAuth token names itself as pushq's; a URL outside
 * `--allow-http-target` (loopback by default) is INVALID_ARGUMENT naming http_request.url; a
 * refused connection is recorded with its address; dispatchDeadline has HTTP targets' range.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { closedPort } from '../helpers/closed-port.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const SA = 'hooks@my-project.iam.gserviceaccount.com';
const YAML = `
queue:
- name: hooks
  rate: 50/s
  bucket_size: 10
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.2
`;

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let hooks: string;

function create(task: Record<string, unknown>, base = serve.api): Promise<{ status: number; json: any }> {
  return api('POST', `${base}/hooks/tasks`, { task, responseView: 'FULL' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-http-target-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  worker = await startWorker((r, n) => (r.url.startsWith('/flaky') && n === 0 ? 503 : 200));
  serve = await startServe(['--memory', '--config', join(dir, 'queue.yaml')]);
  hooks = `${serve.api}/hooks`;
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('HTTP target tasks', () => {
  it('are sent to their URL with method, headers, body and the X-CloudTasks-* headers; the resource shows httpRequest', async () => {
    const r = await create({
      name: `projects/p/locations/l/queues/hooks/tasks/hook-1`,
      httpRequest: { url: `${worker.url}/hook/1?from=test`, httpMethod: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Mine': 'yes' }, body: Buffer.from('{"n":1}').toString('base64') },
    });
    expect(r.status).toBe(200);
    expect(r.json.httpRequest).toEqual({ httpMethod: 'PUT', url: `${worker.url}/hook/1?from=test`, headers: { 'Content-Type': 'application/json', 'X-Mine': 'yes' }, body: Buffer.from('{"n":1}').toString('base64') });
    expect(r.json.appEngineHttpRequest).toBeUndefined();
    expect(r.json.dispatchDeadline).toBe('600s');
    await worker.waitFor((rs) => rs.some((x) => x.url === '/hook/1?from=test'), EVENT_BOUND_MS, 'hook-1');
    const got = worker.forUrl('/hook/1')[0]!;
    expect(got.method).toBe('PUT');
    expect(got.body.toString()).toBe('{"n":1}');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-mine']).toBe('yes');
    expect(got.headers['user-agent']).toBe('Google-Cloud-Tasks');
    expect(got.headers['x-cloudtasks-queuename']).toBe('hooks');
    expect(got.headers['x-cloudtasks-taskname']).toBe('hook-1');
    expect(got.headers['x-cloudtasks-taskretrycount']).toBe('0');
    expect(got.headers['x-cloudtasks-taskexecutioncount']).toBe('0');
    expect(got.headers['x-cloudtasks-tasketa']).toMatch(/^\d+\.\d{6}$/);
    expect(got.headers['x-cloudtasks-taskpreviousresponse']).toBeUndefined();
    expect(got.headers['x-appengine-queuename']).toBeUndefined();
    expect(got.headers['authorization']).toBeUndefined();
  });

  it('after a failed attempt, the retry carries X-CloudTasks-TaskPreviousResponse and -TaskRetryReason', async () => {
    expect((await create({ name: 'projects/p/locations/l/queues/hooks/tasks/flaky', httpRequest: { url: `${worker.url}/flaky` } })).status).toBe(200);
    await worker.waitFor((rs) => rs.filter((x) => x.url === '/flaky').length === 2, EVENT_BOUND_MS, 'the retry');
    const [first, second] = worker.forUrl('/flaky');
    expect(first!.headers['x-cloudtasks-taskretrycount']).toBe('0');
    expect(second!.headers['x-cloudtasks-taskretrycount']).toBe('1');
    expect(second!.headers['x-cloudtasks-taskexecutioncount']).toBe('1');
    expect(second!.headers['x-cloudtasks-taskpreviousresponse']).toBe('503');
    expect(second!.headers['x-cloudtasks-taskretryreason']).toBe('http-status-503');
  });

  it('an OIDC token is an RS256 ID token that jose verifies with pushq\'s discovery document and JWKS', async () => {
    const discovery = await api('GET', `${serve.url}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(discovery.json.issuer).toBe(serve.url);
    expect(discovery.json.id_token_signing_alg_values_supported).toEqual(['RS256']);
    const jwks = createRemoteJWKSet(new URL(discovery.json.jwks_uri));

    expect((await create({ httpRequest: { url: `${worker.url}/oidc/aud`, oidcToken: { serviceAccountEmail: SA, audience: 'https://my-worker.example' } } })).status).toBe(200);
    expect((await create({ httpRequest: { url: `${worker.url}/oidc/url`, oidcToken: { serviceAccountEmail: SA } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.filter((x) => x.url.startsWith('/oidc/')).length === 2, EVENT_BOUND_MS, 'the OIDC tasks');

    const bearer = (url: string): string => /^Bearer (.+)$/.exec(worker.forUrl(url)[0]!.headers['authorization'] as string)![1]!;
    const { payload, protectedHeader } = await jwtVerify(bearer('/oidc/aud'), jwks, { issuer: serve.url, audience: 'https://my-worker.example', algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.email).toBe(SA);
    expect(payload.email_verified).toBe(true);
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(payload.sub).toMatch(/^\d{21}$/);

    // Without an audience, the audience is the task's URL.
    const { payload: byUrl } = await jwtVerify(bearer('/oidc/url'), jwks, { issuer: serve.url, audience: `${worker.url}/oidc/url` });
    expect(byUrl.email).toBe(SA);
    // A token for one audience is not good for another, and a changed token does not verify.
    await expect(jwtVerify(bearer('/oidc/aud'), jwks, { issuer: serve.url, audience: 'https://other.example' })).rejects.toThrow();
    const forged = bearer('/oidc/aud').replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...decodeJwt(bearer('/oidc/aud')), email: 'root@evil' })).toString('base64url')}.`);
    expect(forged).not.toBe(bearer('/oidc/aud'));
    await expect(jwtVerify(forged, jwks, { issuer: serve.url })).rejects.toThrow();
  });

  it('an OAuth token is a bearer token that names itself as pushq\'s, with the scope (default cloud-platform)', async () => {
    expect((await create({ httpRequest: { url: `${worker.url}/oauth/1`, oauthToken: { serviceAccountEmail: SA } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/oauth/1'), EVENT_BOUND_MS, 'the OAuth task');
    const auth = worker.forUrl('/oauth/1')[0]!.headers['authorization'] as string;
    expect(auth).toMatch(/^Bearer pushq-local-access-token\./);
    const claims = JSON.parse(Buffer.from(auth.slice('Bearer pushq-local-access-token.'.length), 'base64url').toString());
    expect(claims).toMatchObject({ email: SA, scope: 'https://www.googleapis.com/auth/cloud-platform', iss: serve.url });
  });

  it('a URL outside loopback is INVALID_ARGUMENT naming http_request.url, and adds nothing', async () => {
    const before = (await api('GET', `${hooks}/tasks`)).json.tasks?.length ?? 0;
    // Names are not resolved, so only `localhost` itself counts as loopback: a subdomain of it
    // (hooks.localhost) goes to the system resolver like any name, which may answer any address.
    for (const url of ['https://example.com/hook', 'http://10.0.0.5:8080/x', 'http://localtest.me/x', 'http://hooks.localhost/x', 'http://a.b.LOCALHOST:8080/x']) {
      const r = await create({ httpRequest: { url } });
      expect(r.status, url).toBe(400);
      expect(r.json.error.status).toBe('INVALID_ARGUMENT');
      expect(r.json.error.message).toMatch(/http_request\.url: .* is not a host pushq may send tasks to \(loopback only\); start pushq serve with --allow-http-target .* \(HTTP_TARGET_NOT_ALLOWED\)$/);
      expect(r.json.error.details[0].fieldViolations[0].field).toBe('task.http_request.url');
    }
    for (const [url, why] of [['ftp://127.0.0.1/x', /must be an absolute URL starting with http:\/\/ or https:\/\//], ['/relative', /must be an absolute URL/], ['http://127.0.0.1/a b', /spaces/]] as const) {
      const r = await create({ httpRequest: { url } });
      expect(r.status, url).toBe(400);
      expect(r.json.error.message).toMatch(why);
      expect(r.json.error.details[0].fieldViolations[0].field).toBe('task.http_request.url');
    }
    const both = await create({ httpRequest: { url: `${worker.url}/x` }, appEngineHttpRequest: { relativeUri: '/x' } });
    expect(both.status).toBe(400);
    const reserved = await create({ httpRequest: { url: `${worker.url}/x`, headers: { 'X-CloudTasks-TaskName': 'x' } } });
    expect(reserved.json.error.details[0].fieldViolations[0].field).toBe('task.http_request.headers[X-CloudTasks-TaskName]');
    const twoTokens = await create({ httpRequest: { url: `${worker.url}/x`, oidcToken: { serviceAccountEmail: SA }, oauthToken: { serviceAccountEmail: SA } } });
    expect(twoTokens.status).toBe(400);
    const noEmail = await create({ httpRequest: { url: `${worker.url}/x`, oidcToken: {} } });
    expect(noEmail.json.error.details[0].fieldViolations[0].field).toBe('task.http_request.oidc_token');
    expect(((await api('GET', `${hooks}/tasks`)).json.tasks?.length ?? 0)).toBe(before);
  });

  it('dispatchDeadline: HTTP targets take 15 s to 30 min, App Engine targets 15 s to 24 h 15 s; outside is INVALID_ARGUMENT', async () => {
    const url = `${worker.url}/deadline`;
    await api('POST', `${hooks}:pause`, {});
    try {
      expect((await create({ httpRequest: { url }, dispatchDeadline: '1800s' })).json.dispatchDeadline).toBe('1800s');
      expect((await create({ httpRequest: { url }, dispatchDeadline: '15s' })).json.dispatchDeadline).toBe('15s');
      for (const d of ['1801s', '14s']) {
        const r = await create({ httpRequest: { url }, dispatchDeadline: d });
        expect(r.status, d).toBe(400);
        expect(r.json.error.message).toMatch(/\(INVALID_DISPATCH_DEADLINE\)$/);
        expect(r.json.error.details[0].fieldViolations[0].field).toBe('task.dispatch_deadline');
      }
      expect((await create({ appEngineHttpRequest: { relativeUri: '/x' }, dispatchDeadline: '86400s' })).status).toBe(200);
      expect((await create({ appEngineHttpRequest: { relativeUri: '/x' }, dispatchDeadline: '86416s' })).status).toBe(400);
      expect((await create({ appEngineHttpRequest: { relativeUri: '/x' }, dispatchDeadline: '14s' })).status).toBe(400);
    } finally {
      await api('POST', `${hooks}:purge`, {});
      await api('POST', `${hooks}:resume`, {});
    }
  });

  it('a refused connection is recorded with its address: in the task\'s last attempt and on the dashboard', async () => {
    const port = await closedPort();
    const r = await create({ name: 'projects/p/locations/l/queues/hooks/tasks/refused', httpRequest: { url: `http://127.0.0.1:${port}/down` } });
    expect(r.status).toBe(200);
    const want = `connection-refused: ECONNREFUSED 127.0.0.1:${port}`;
    let task: any;
    for (let i = 0; i < 100; i++) {
      task = (await api('GET', `${hooks}/tasks/refused`)).json;
      if (task.lastAttempt?.responseStatus !== undefined) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(task.lastAttempt.responseStatus).toEqual({ code: 14, message: want });
    const list = await api('GET', `${serve.url}/pushq/queues/hooks/tasks?limit=100`);
    const row = list.json.tasks.find((t: any) => t.name === 'refused');
    expect(row.lastError).toBe(want);
    expect(row.url).toBe(`http://127.0.0.1:${port}/down`); // the dashboard shows an HTTP target's absolute URL
    await api('DELETE', `${hooks}/tasks/refused`);
  });

  it('over gRPC: the official Node client creates an HTTP target task with an OIDC token; it is dispatched and read back', async () => {
    const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: serve.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    try {
      const parent = client.queuePath('p', 'l', 'hooks');
      const [task] = await client.createTask({
        parent,
        task: { name: `${parent}/tasks/grpc-hook`, httpRequest: { url: `${worker.url}/grpc/hook`, httpMethod: 'POST', body: Buffer.from('hi'), oidcToken: { serviceAccountEmail: SA } } },
      });
      expect(task.httpRequest!.url).toBe(`${worker.url}/grpc/hook`);
      expect(task.httpRequest!.oidcToken!.serviceAccountEmail).toBe(SA);
      expect(task.httpRequest!.oidcToken!.audience).toBe(`${worker.url}/grpc/hook`);
      await worker.waitFor((rs) => rs.some((x) => x.url === '/grpc/hook'), EVENT_BOUND_MS, 'the gRPC hook');
      const got = worker.forUrl('/grpc/hook')[0]!;
      expect(got.body.toString()).toBe('hi');
      expect(got.headers['x-cloudtasks-taskname']).toBe('grpc-hook');
      const token = /^Bearer (.+)$/.exec(got.headers['authorization'] as string)![1]!;
      const jwks = createRemoteJWKSet(new URL(`${serve.url}/.well-known/jwks.json`));
      expect((await jwtVerify(token, jwks, { issuer: serve.url, audience: `${worker.url}/grpc/hook` })).payload.email).toBe(SA);

      const refused = await client.createTask({ parent, task: { httpRequest: { url: 'https://example.com/x' } } }).then(
        () => null,
        (e: any) => e,
      );
      expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refused.details).toMatch(/\(HTTP_TARGET_NOT_ALLOWED\)$/);
      expect(refused.statusDetails.find((d: any) => d.fieldViolations)?.fieldViolations[0].field).toBe('task.http_request.url');
    } finally {
      await client.close();
    }
  });
});

describe('--allow-http-target', () => {
  it('lets tasks name the hosts it matches (and still loopback); others stay refused', async () => {
    const other = await startServe(['--memory', '--config', join(dir, 'queue.yaml'), '--allow-http-target', '*.example.test', '--allow-http-target', 'api.internal:8443']);
    try {
      const base = other.api;
      // Paused: nothing is sent anywhere but loopback.
      expect((await api('POST', `${base}/hooks:pause`, {})).status).toBe(200);
      for (const url of ['https://a.example.test/x', 'http://b.c.example.test:9000/y', 'https://api.internal:8443/z', `${worker.url}/allowed`]) {
        expect((await create({ httpRequest: { url } }, base)).status, url).toBe(200);
      }
      for (const url of ['https://example.test/x', 'https://api.internal/z', 'https://example.com/']) {
        const r = await create({ httpRequest: { url } }, base);
        expect(r.status, url).toBe(400);
        expect(r.json.error.message).toContain('(loopback and *.example.test, api.internal:8443)');
      }
      await api('POST', `${base}/hooks:purge`, {});
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
  });

  it('a value that is no host pattern stops the start (exit 1, ALLOW_HTTP_TARGET_INVALID)', async () => {
    await expect(startServe(['--memory', '--allow-http-target', 'https://example.com/path'])).rejects.toThrow(/ALLOW_HTTP_TARGET_INVALID/);
  });
});
