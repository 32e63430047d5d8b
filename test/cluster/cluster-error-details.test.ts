/**
 * A cluster node's own refusals (QUEUE_OWNER_UNKNOWN, QUEUE_OWNER_UNAVAILABLE) carry the
 * google.rpc.ErrorInfo every other refusal carries (reason: the code, domain: pushq), over REST
 * and gRPC: the official client reads it as `err.reason` on either transport, so a caller can tell
 * "retry, the queue is moving" from any other UNAVAILABLE without parsing the message.
 *
 * Before, the REST router answered `{error: {code, message, status}}` with no details and the gRPC
 * front sent no `grpc-status-details-bin`: `err.reason` was undefined for these codes alone.
 *
 * The fronts are the real ones (src/cluster/router.ts, grpc-front.ts) on 127.0.0.1; the ownership
 * table is given, so the two cases are certain rather than raced: `q0` has no owner, `q1`'s owner
 * is at a port where nothing listens (it died).
 */
import * as grpc from '@grpc/grpc-js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { Router } from '../../src/cluster/router.js';
import { RequestGuard } from '../../src/server/security.js';
import { grpcClient, restClient, refusal } from '../helpers/cloud-tasks-clients.js';
import { closedPort } from '../helpers/closed-port.js';

let router: Router;
let front: GrpcFront;
const clients: Record<'grpc' | 'rest', CloudTasksClient> = {} as never;

beforeAll(async () => {
  const dead = await closedPort();
  const queues = ['q0', 'q1'];
  router = await Router.start(
    {
      node: 'node-a',
      local: () => undefined,
      serveLocally: () => false,
      remote: (q) => (q === 'q1' ? `http://127.0.0.1:${dead}` : undefined),
      refresh: async () => undefined,
      queues: () => queues,
      owned: () => [],
      reload: async () => ({ ok: true, lines: [] }),
    },
    await RequestGuard.create({}),
    '127.0.0.1',
    0,
    5000,
  );
  front = await GrpcFront.start({ node: 'node-a', localGrpc: () => undefined, remoteGrpc: (q) => (q === 'q1' ? `127.0.0.1:${dead}` : undefined), queues: () => queues, owned: () => [], refresh: async () => {} }, '127.0.0.1', 0, 5000);
  clients.grpc = grpcClient(front.port);
  clients.rest = restClient(router.port);
});

afterAll(async () => {
  await clients.grpc?.close();
  await clients.rest?.close();
  await front?.close();
  await router?.close();
});

const CASES = [
  ['q0', 'QUEUE_OWNER_UNKNOWN'],
  ['q1', 'QUEUE_OWNER_UNAVAILABLE'],
] as const;

describe.each(['grpc', 'rest'] as const)('a cluster node’s own refusals over %s', (mode) => {
  it('carry the ErrorInfo: err.reason is the code, err.domain pushq, as for every other refusal', async () => {
    const client = clients[mode];
    for (const [queue, code] of CASES) {
      const name = client.queuePath('p', 'l', queue);
      for (const [call, p] of [
        ['getQueue', client.getQueue({ name }, { retry: null })],
        ['createTask', client.createTask({ parent: name, task: { appEngineHttpRequest: { relativeUri: '/x' } } }, { retry: null })],
      ] as const) {
        const e = await refusal(p);
        const what = `${mode} ${call} ${queue}`;
        expect(e.code, what).toBe(grpc.status.UNAVAILABLE);
        expect(e.message, what).toMatch(new RegExp(`\\(${code}\\)$`));
        expect(e.reason, what).toBe(code);
        expect(e.domain, what).toBe('pushq');
      }
    }
  });
});

describe('a cluster node’s own refusals over raw HTTP', () => {
  it('are Google’s error shape with the ErrorInfo last, as the single node answers', async () => {
    for (const [queue, code] of CASES) {
      const res = await fetch(`${router.url}/v2/projects/p/locations/l/queues/${queue}`);
      expect(res.status, queue).toBe(503);
      const body = (await res.json()) as { error: { code: number; status: string; message: string; details?: unknown[] } };
      expect(body.error.code).toBe(503);
      expect(body.error.status).toBe('UNAVAILABLE');
      expect(body.error.message).toMatch(new RegExp(`\\(${code}\\)$`));
      expect(body.error.details, queue).toEqual([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'pushq' }]);
    }
  });
});

describe('a cluster node’s ListQueues and the query', () => {
  it('refuses an unknown query parameter as one node does (UNKNOWN_FIELD naming it), and takes the system ones', async () => {
    const refused = await fetch(`${router.url}/v2/projects/p/locations/l/queues?pagesize=1`);
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { message: string; details: any[] } };
    expect(body.error.message).toMatch(/^unknown query parameter "pagesize" \(did you mean pageSize\?\).*\(UNKNOWN_FIELD\)$/);
    expect(body.error.details[0].fieldViolations[0].field).toBe('pagesize');
    const taken = await fetch(`${router.url}/v2/projects/p/locations/l/queues?page_size=1&$alt=json;enum-encoding=int&prettyPrint=false`);
    expect(taken.status).toBe(200);
  });
});
