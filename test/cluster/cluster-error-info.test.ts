/**
 * A cluster node's own refusals (QUEUE_OWNER_UNAVAILABLE, QUEUE_OWNER_UNKNOWN, NOT_IN_CLUSTER_MODE)
 * carry the google.rpc.ErrorInfo every other API error carries (reason: the stable code, domain:
 * pushq), over REST and gRPC: the official clients read it as `err.reason`, and a client that
 * branches on it (retry on QUEUE_OWNER_*) saw undefined on a cluster while one node's refusals
 * had it (80ec922 gave it to REST errors, the node's own kept a bare `{code, message, status}`
 * and an empty gRPC trailer). Two nodes on the real PostgreSQL; the refusals asked for directly:
 * a call marked as forwarded to a node for a queue the other node owns is refused, not forwarded
 * again (router.ts, grpc-front.ts), and a path a node does not serve.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { FORWARDED_HEADER } from '../../src/cluster/router.js';
import { clusterFixture, ownedBy, queueYaml, startNodesEachOwning, waitUntil, writeQueueYaml } from './cluster-harness.js';

const QUEUES = ['default', 'q0', 'q1', 'q2', 'q3'];
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

const fx = clusterFixture('pushq-cluster-error-info-');

describe("a cluster node's own refusals", () => {
  it('carry the ErrorInfo with their code, over REST and gRPC', async () => {
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES.length - 1, 10, 5));
    const two = await startNodesEachOwning(fx.nodes, ['--config', yaml, '--store', await fx.pg.database(), '--lease-seconds', '4'], QUEUES);
    const ids = two.map((n) => n.id);
    await waitUntil('each queue owned by its node', async () => {
      try {
        const held = await Promise.all(two.map(ownedBy));
        return two.every((n, i) => held[i]!.join() === QUEUES.filter((q) => ownerFor(q, ids) === n.id).sort().join());
      } catch {
        return false;
      }
    }, 20_000);
    const [a, b] = two as [(typeof two)[0], (typeof two)[0]];
    // A queue node b owns: a call for it that says it was forwarded already is refused by node a.
    const remote = QUEUES.find((q) => ownerFor(q, ids) === b.id)!;

    // REST: the body's details end with the ErrorInfo, as a single node's errors do.
    const restDetails = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number; error: { status: string; message: string; details?: unknown[] } }> => {
      const res = await fetch(url, { headers });
      return { status: res.status, error: ((await res.json()) as { error: { status: string; message: string; details?: unknown[] } }).error };
    };
    const moving = await restDetails(`${a.api}/${remote}`, { [FORWARDED_HEADER]: 'another-node' });
    expect(moving.status).toBe(503);
    expect(moving.error.message).toMatch(/\(QUEUE_OWNER_UNAVAILABLE\)$/);
    expect(moving.error.details).toEqual([{ '@type': ERROR_INFO, reason: 'QUEUE_OWNER_UNAVAILABLE', domain: 'pushq' }]);
    const unserved = await restDetails(`${a.proc.url}/pushq/not-a-path`);
    expect(unserved.status).toBe(501);
    expect(unserved.error.details).toEqual([{ '@type': ERROR_INFO, reason: 'NOT_IN_CLUSTER_MODE', domain: 'pushq' }]);

    // gRPC: the official client reads the trailer's ErrorInfo as err.reason and err.domain.
    const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: a.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    try {
      // CreateTask: the client does not retry it (it retries GetQueue's UNAVAILABLE until its deadline).
      const create = { parent: `projects/p/locations/l/queues/${remote}`, task: { appEngineHttpRequest: { relativeUri: '/refused' } } };
      const err = await client.createTask(create, { otherArgs: { headers: { [FORWARDED_HEADER]: 'another-node' } } }).then(
        () => null,
        (e: unknown) => e as { code: number; details: string; reason?: string; domain?: string },
      );
      expect(err).not.toBeNull();
      expect(err!.code).toBe(grpc.status.UNAVAILABLE);
      expect(err!.details).toMatch(/\(QUEUE_OWNER_UNAVAILABLE\)$/);
      expect({ reason: err!.reason, domain: err!.domain }).toEqual({ reason: 'QUEUE_OWNER_UNAVAILABLE', domain: 'pushq' });
    } finally {
      await client.close();
    }
  }, 90_000);
});
