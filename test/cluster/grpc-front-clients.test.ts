/**
 * A cluster node's gRPC front keeps one client (one HTTP/2 connection) per address it forwards
 * to, and lets go of each once no queue's owner nor local service answers there (docs/cluster.md,
 * "API calls"): owners that restart on new ports, or that stop owning anything while they run,
 * would otherwise leave a client each, held for as long as the node runs, and a connection open
 * to every address still listening.
 *
 * The front here is the real one, in process, with a table whose owner of q0 moves from address to
 * address, as the node's table does at its ticks; the owners are real gRPC services (stopping
 * ones: they refuse every call at once, which is all a hop needs), half of them stopped on the way.
 * The node calls closeUnused at every tick, once it has read the owners; so does this test.
 *
 * Once closing, the front makes no client: a call that waited for the owners to be read again
 * past the forced shutdown made one after close had swept them, never closed.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { GrpcService } from '../../src/server/grpc/grpc-service.js';
import { SERVICE_NAME, cloudTasksProtos } from '../../src/server/grpc/protos.js';
import type { ApiContext } from '../../src/server/operations.js';
import { waitUntil } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const Q = 'projects/p/locations/l/queues/q0';

function getQueue(client: grpc.Client): Promise<string> {
  const type = cloudTasksProtos().root.lookupType('google.cloud.tasks.v2.GetQueueRequest');
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICE_NAME}/GetQueue`, same, same, Buffer.from(type.encode(type.fromObject({ name: Q })).finish()), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(err === null ? 'OK' : err.details));
  });
}

/** This process's open TCP sockets that keep it alive (Node's active resources): one per connection the front opens here. */
const openSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('pushq serve --cluster: the gRPC front’s clients to owners', () => {
  it('closes the client of an address no owner answers at any more, and its connection with it', async () => {
    const owners = await Promise.all(Array.from({ length: 6 }, () => GrpcService.start({ stopping: true } as ApiContext, { host: '127.0.0.1', port: 0 })));
    let owner = 0;
    const table = { node: 'test-node', localGrpc: () => undefined, remoteGrpc: () => `127.0.0.1:${owners[owner]!.port}`, queues: () => ['q0'], owned: () => [], refresh: async () => {} };
    const front = await GrpcFront.start(table, '127.0.0.1', 0, 10_000);
    const client = new grpc.Client(`127.0.0.1:${front.port}`, grpc.credentials.createInsecure());
    const stopped = new Set<number>();
    try {
      // The first owner answers (its refusal comes back as it is): the front holds one connection to it.
      expect(await getQueue(client)).toMatch(/\(SHUTTING_DOWN\)$/);
      const baseline = openSockets();
      for (let next = 1; next < owners.length; next++) {
        owner = next;
        // Every other former owner restarts elsewhere (its address dead); the rest keep running, owning nothing.
        if (next % 2 === 0) {
          await owners[next - 1]!.close(0);
          stopped.add(next - 1);
        }
        expect(await getQueue(client)).toMatch(/\(SHUTTING_DOWN\)$/);
        front.closeUnused(); // the node's tick
      }
      expect(front.clientAddresses()).toEqual([`127.0.0.1:${owners[owners.length - 1]!.port}`]);
      // One connection from the front to an owner, as at the start: none left open to the former owners still listening.
      await waitUntil(`the front's connections back to ${baseline} sockets (now ${openSockets()})`, () => openSockets() === baseline, EVENT_BOUND_MS);
      // The owner in use keeps its client and connection; a call after the sweep goes out on it.
      expect(await getQueue(client)).toMatch(/\(SHUTTING_DOWN\)$/);
      expect(front.clientAddresses()).toHaveLength(1);
    } finally {
      client.close();
      await front.close();
      await Promise.all(owners.filter((_, i) => !stopped.has(i)).map((o) => o.close(0)));
    }
  }, 30_000);

  it('makes no client once it is closing: a call that waited for the owners past the forced shutdown is sent nowhere', async () => {
    // q0's owner at first: an address nothing listens on, so the call waits for the owners to be read again.
    const [gone, moved] = await Promise.all([GrpcService.start({ stopping: true } as ApiContext, { host: '127.0.0.1', port: 0 }), GrpcService.start({ stopping: true } as ApiContext, { host: '127.0.0.1', port: 0 })]);
    const goneAddress = `127.0.0.1:${gone.port}`;
    await gone.close(0);
    let owner = goneAddress;
    let refreshing = false;
    let readAgain = (): void => undefined;
    // Reads of the owner after the owners were read again: the call goes on to hop() in the same
    // turn as such a read (not-taken.ts sendToOwner: place(), then send()), so once one is seen,
    // hop() has decided, whatever the load: no fixed wait that may end before it.
    let readAfterRefresh = false;
    let refreshed = false;
    const table = {
      node: 'test-node',
      localGrpc: () => undefined,
      remoteGrpc: () => {
        if (refreshed) readAfterRefresh = true;
        return owner;
      },
      queues: () => ['q0'],
      owned: () => [],
      refresh: () =>
        new Promise<void>((resolve) => {
          refreshing = true;
          readAgain = resolve;
        }),
    };
    const front = await GrpcFront.start(table, '127.0.0.1', 0, 10_000);
    const client = new grpc.Client(`127.0.0.1:${front.port}`, grpc.credentials.createInsecure());
    try {
      const answered = getQueue(client);
      await waitUntil('the call to wait for the owners to be read again', () => refreshing, EVENT_BOUND_MS);
      await front.close(); // the call is still under way: the shutdown is forced after 1 s, the clients swept
      expect(front.clientAddresses()).toEqual([]);
      owner = `127.0.0.1:${moved.port}`; // the owners, read again, name a live owner
      refreshed = true;
      readAgain();
      await answered; // the client's call ended with the forced shutdown
      await waitUntil('the call to read its owner again and go on to hop()', () => readAfterRefresh, EVENT_BOUND_MS);
      expect(front.clientAddresses(), 'a client made after close, never closed').toEqual([]);
    } finally {
      client.close();
      await front.close();
      await moved.close(0);
    }
  }, 30_000);
});
