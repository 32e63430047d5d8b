/**
 * What the cluster's gRPC front calls "not taken" (docs/cluster.md, "API calls"): only a call
 * that surely reached no queue's service. A hop to an address where nothing listens (a dead owner)
 * is marked with the `x-pushq-not-taken` trailer; a hop whose connection drops after the owner
 * had the call (a kill -9 mid-call: the create may be committed, its answer lost) is never marked,
 * nor sent again. The front is the real one, in process; the owner a bare gRPC server behind a
 * TCP relay, which cuts every connection (as a killed process's kernel does) once the owner has
 * the call.
 */
import { connect, createServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GrpcFront } from '../../src/cluster/grpc-front.js';
import { NOT_TAKEN_HEADER } from '../../src/cluster/router.js';
import { SERVICE_NAME, cloudTasksProtos } from '../../src/server/grpc/protos.js';
import { closedPort } from '../helpers/closed-port.js';

const Q = 'projects/p/locations/l/queues/q0';
const same = (b: Buffer): Buffer => b;

function createTask(client: grpc.Client): Promise<{ code: number; details: string; notTaken: boolean }> {
  const type = cloudTasksProtos().root.lookupType('google.cloud.tasks.v2.CreateTaskRequest');
  const bytes = Buffer.from(type.encode(type.fromObject({ parent: Q, task: { name: `${Q}/tasks/t1` } })).finish());
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICE_NAME}/CreateTask`, same, same, bytes, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) =>
      resolve(err === null ? { code: 0, details: 'OK', notTaken: false } : { code: err.code, details: err.details, notTaken: err.metadata.get(NOT_TAKEN_HEADER)[0] === '1' }),
    );
  });
}

async function frontTo(address: string, refreshes: { n: number }): Promise<{ front: GrpcFront; client: grpc.Client }> {
  const table = { node: 'entry', localGrpc: () => undefined, remoteGrpc: () => address, queues: () => ['q0'], owned: () => [], refresh: async () => void refreshes.n++ };
  const front = await GrpcFront.start(table, '127.0.0.1', 0, 10_000);
  return { front, client: new grpc.Client(`127.0.0.1:${front.port}`, grpc.credentials.createInsecure()) };
}

describe('pushq serve --cluster: the gRPC front’s "not taken"', () => {
  it('marks a call to an owner that refuses the connection (nothing sent), after reading the owners again', async () => {
    const refreshes = { n: 0 };
    const { front, client } = await frontTo(`127.0.0.1:${await closedPort()}`, refreshes);
    try {
      const a = await createTask(client);
      expect([grpc.status[a.code], a.notTaken], a.details).toEqual(['UNAVAILABLE', true]);
      expect(a.details).toMatch(/\(QUEUE_OWNER_UNAVAILABLE\)$/);
      expect(refreshes.n).toBe(1);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('never marks nor resends a call whose connection dropped after the owner had it', async () => {
    const owner = new grpc.Server();
    const sockets = new Set<Socket>();
    let received = 0;
    owner.addService(
      { CreateTask: { path: `/${SERVICE_NAME}/CreateTask`, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same } },
      {
        CreateTask: () => {
          received++;
          for (const socket of sockets) socket.destroy(); // as a kill -9 after the call arrived: its answer never comes
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) => owner.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const relay = createServer((inbound) => {
      const outbound = connect(port, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const refreshes = { n: 0 };
    const { front, client } = await frontTo(`127.0.0.1:${(relay.address() as { port: number }).port}`, refreshes);
    try {
      const a = await createTask(client);
      expect(received, 'the owner had the call').toBe(1);
      expect([grpc.status[a.code], a.notTaken], a.details).toEqual(['UNAVAILABLE', false]);
      expect(a.details).toMatch(/\(QUEUE_OWNER_UNAVAILABLE\)$/);
      expect(refreshes.n, 'sent again after reading the owners').toBe(0);
    } finally {
      client.close();
      await front.close();
      relay.close();
      for (const socket of sockets) socket.destroy();
      owner.forceShutdown();
    }
  });
});
