/**
 * `--auth-token` covers the gRPC API too: a call without the metadata `authorization: Bearer
 * TOKEN`, or with another token, is UNAUTHENTICATED (AUTH_REQUIRED) and changes nothing; with it,
 * the official client works. The OIDC issuer's public documents need no token.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const TOKEN = 'grpc-test-token-0123456789abcdef';

let serve: ServeProcess;
let client: CloudTasksClient;

beforeAll(async () => {
  serve = await startServe(['--memory', '--auth-token', TOKEN]);
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: serve.grpcPort, sslCreds: grpc.credentials.createInsecure() });
});

afterAll(async () => {
  await client?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
});

const withToken = (token: string) => ({ otherArgs: { headers: { authorization: `Bearer ${token}` } } });

it('a call needs the token in its metadata', async () => {
  const parent = client.queuePath('p', 'l', 'default');
  for (const options of [undefined, withToken('not-the-token-at-all-0000')]) {
    const err: any = await client.createTask({ parent, task: {} }, options).then(() => null, (e: unknown) => e);
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toMatch(/\(AUTH_REQUIRED\)$/);
  }
  const [task] = await client.createTask({ parent, task: { appEngineHttpRequest: { relativeUri: '/ok' } } }, withToken(TOKEN));
  expect(task.name).toMatch(/\/tasks\/task0$/); // the refused calls added nothing
  const [queues] = await client.listQueues({ parent: client.locationPath('p', 'l') }, withToken(TOKEN));
  expect(queues).toHaveLength(1);
});

it('the OIDC discovery document and JWKS are public', async () => {
  expect((await fetch(`${serve.url}/.well-known/openid-configuration`)).status).toBe(200);
  expect((await fetch(`${serve.url}/.well-known/jwks.json`)).status).toBe(200);
  expect((await fetch(`${serve.url}/pushq/health`)).status).toBe(401);
});
