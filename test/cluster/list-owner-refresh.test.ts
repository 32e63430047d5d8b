/**
 * ListQueues through a cluster node whose owner table is out of date (a node starting, queues
 * moving in a rebalance: the owners it read at its last tick do not know where a queue is now).
 * Before, the list left those live, owned queues out until the node's next tick (seen in a real
 * cluster: 3 of 4 queues, then 2 of 4, while the other node owned them); now the node reads the
 * owners again and asks once more, over REST and gRPC.
 *
 * The fronts are the real ones (src/cluster/router.ts, grpc-front.ts) on 127.0.0.1, the owner a
 * real one-node service; the owner table is given, so the stale moment is certain rather than
 * raced: it knows no owner until `refresh()` is called.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { Router } from '../../src/cluster/router.js';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { RequestGuard } from '../../src/server/security.js';
import { PushqService } from '../../src/server/service.js';
import { grpcClient, restClient } from '../helpers/cloud-tasks-clients.js';

const QUEUES = ['q0', 'q1'];
let owner: PushqService;
let router: Router;
let front: GrpcFront;
const clients: Record<'grpc' | 'rest', CloudTasksClient> = {} as never;
/** Whether the table has read the owners again since the test began; and how often it did. */
let known = false;
let refreshes = 0;

beforeAll(async () => {
  const config = requireValidConfig(parseQueueConfig(`queue:\n${QUEUES.map((q) => `- name: ${q}\n  rate: 1/s\n`).join('')}`, { file: 'queue.yaml' }));
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  owner = await PushqService.start({ config, log, targets: {} });
  const refresh = async (): Promise<void> => {
    refreshes++;
    known = true;
  };
  router = await Router.start(
    {
      node: 'node-a',
      local: () => undefined,
      serveLocally: () => false,
      remote: () => (known ? owner.url : undefined),
      refresh,
      queues: () => QUEUES,
      owned: () => [],
      reload: async () => ({ ok: true, lines: [] }),
    },
    await RequestGuard.create({}),
    '127.0.0.1',
    0,
    5000,
  );
  front = await GrpcFront.start({ node: 'node-a', localGrpc: () => undefined, remoteGrpc: () => (known ? `127.0.0.1:${owner.grpcPort}` : undefined), queues: () => QUEUES, owned: () => [], refresh }, '127.0.0.1', 0, 5000);
  clients.grpc = grpcClient(front.port);
  clients.rest = restClient(router.port);
});

afterAll(async () => {
  await Promise.all(Object.values(clients).map((c) => c?.close()));
  await front?.close();
  await router?.close();
  await owner?.close(1000);
});

describe.each(['rest', 'grpc'] as const)('ListQueues over %s through a node whose owners are out of date', (transport) => {
  it('reads the owners again and lists every live queue, reading them once for the whole page', async () => {
    known = false;
    refreshes = 0;
    const [queues] = await clients[transport].listQueues({ parent: 'projects/p/locations/l' });
    expect(queues.map((q) => q.name)).toEqual(QUEUES.map((q) => `projects/p/locations/l/queues/${q}`));
    expect(refreshes).toBe(1);
  });

  it('with every owner known, it does not read them again', async () => {
    known = true;
    refreshes = 0;
    const [queues] = await clients[transport].listQueues({ parent: 'projects/p/locations/l' });
    expect(queues).toHaveLength(QUEUES.length);
    expect(refreshes).toBe(0);
  });
});
