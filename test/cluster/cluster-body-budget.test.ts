/**
 * A cluster node holds at most one budget of request-body bytes at once (64 MiB, body-budget.ts),
 * across its HTTP port (its router) and its gRPC front, as one node's service does across its two
 * ports (docs/serve.md, Faults; docs/cluster.md). The front had a budget of its own beside the
 * router's: a node held up to twice the bound, 64 MiB of slow `/rpc_http` uploads on its HTTP port
 * and another 64 MiB of gRPC calls. Here the HTTP port's uploads fill the budget (two `/rpc_http`
 * calls of 32 MiB, each sent but for its last byte), and a gRPC call, however small, is then
 * refused UNAVAILABLE SERVER_BUSY, having done nothing; once the uploads go, it is answered. So is
 * a REST CreateTask for the queue the node owns: handed to the queue's service in process, it was
 * counted in that service's budget (each owned queue one more) and added past the node's bound.
 */
import * as grpc from '@grpc/grpc-js';
import { request, type ClientRequest } from 'node:http';
import { expect, it } from 'vitest';
import { RPC_ERROR } from '../../src/server/appengine/messages.js';
import { RPC_REQUEST_BYTES_MAX } from '../../src/server/appengine/rpc-http.js';
import { BODY_BYTES_HELD_MAX } from '../../src/server/body-budget.js';
import { SERVICE_NAME, cloudTasksProtos } from '../../src/server/grpc/protos.js';
import { encodeMessage, envelope, postRpc, RPC_HEADERS } from '../helpers/remote-api.js';
import { clusterFixture, postTask, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-body-budget-');

/** GetQueue of q0 over gRPC, no retries: 'OK', or the error's code and details. */
function getQueue(client: grpc.Client): Promise<{ code: number; details: string }> {
  const type = cloudTasksProtos().root.lookupType('google.cloud.tasks.v2.GetQueueRequest');
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICE_NAME}/GetQueue`, same, same, Buffer.from(type.encode(type.fromObject({ name: 'projects/p/locations/l/queues/q0' })).finish()), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) =>
      resolve(err === null ? { code: grpc.status.OK, details: '' } : { code: err.code, details: err.details }),
    );
  });
}

interface Upload {
  req: ClientRequest;
  /** Whether the node answered it (refused: a probe held bytes as its last chunk came) or the connection failed. */
  over: boolean;
}

/** An `/rpc_http` call of `length` bytes announced, all sent but the last: held by the node until the request timeout. */
function heldUpload(base: string, length: number): Upload {
  const req = request(`${base}/rpc_http`, { method: 'POST', headers: { ...RPC_HEADERS, 'content-length': String(length) } });
  const upload = { req, over: false };
  req.on('error', () => (upload.over = true));
  req.on('response', (res) => {
    upload.over = true;
    res.resume();
  });
  req.write(Buffer.alloc(length - 1));
  return upload;
}

it('a gRPC call, and a REST call handed to an owned queue in process, count in the budget the HTTP port\'s bodies hold: past it, refused SERVER_BUSY', async () => {
  expect(2 * RPC_REQUEST_BYTES_MAX).toBe(BODY_BYTES_HELD_MAX); // two held uploads leave 2 bytes of the budget
  const config = await writeQueueYaml(fx.dir, 'queue:\n- name: q0\n  rate: 5/s\n');
  const node = await startNode(['--config', config, '--store', await fx.pg.database(), '--target', 'default=http://127.0.0.1:9']);
  fx.nodes.push(node);
  const client = new grpc.Client(`127.0.0.1:${node.proc.grpcPort}`, grpc.credentials.createInsecure());
  await waitUntil('q0 answered over gRPC', async () => (await getQueue(client)).code === grpc.status.OK, 20_000);
  const uploads = [heldUpload(node.proc.url, RPC_REQUEST_BYTES_MAX), heldUpload(node.proc.url, RPC_REQUEST_BYTES_MAX)];
  try {
    // Held once a small call on the HTTP port is refused for the budget (a read: FetchQueueStats).
    // A probe held as an upload's last chunk came refuses the upload instead: that one is sent again.
    const stats = envelope('taskqueue', 'FetchQueueStats', encodeMessage('FetchQueueStatsRequest', { queue_name: [Buffer.from('q0')], max_num_tasks: 0 }));
    await waitUntil(
      'the uploads held (a small /rpc_http call refused OVER_QUOTA)',
      async () => {
        uploads.forEach((u, i) => {
          if (!u.over) return;
          u.req.destroy();
          uploads[i] = heldUpload(node.proc.url, RPC_REQUEST_BYTES_MAX);
        });
        const refused = (await postRpc(node.proc.url, stats)).response?.rpc_error?.code === RPC_ERROR.OVER_QUOTA;
        return refused && uploads.every((u) => !u.over);
      },
      60_000,
    );
    // Before: the front's own budget, empty, took the call.
    const refused = await getQueue(client);
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused.details).toMatch(/request bodies at once.*\(SERVER_BUSY\)$/);
    // A REST CreateTask for the queue this node owns, handed to its service in process: counted in
    // the node's budget too. Before: the service opened an account of its own for the same request
    // (in its budget, empty), so each owned queue added a budget of its own and the task was added.
    const created = await postTask(node, 'q0', 'past-the-budget');
    expect(created.status).toBe(503);
    expect(created.message).toMatch(/request bodies at once.*\(SERVER_BUSY\)$/);
  } finally {
    for (const u of uploads) u.req.destroy();
  }
  // The uploads gone, their bytes are let go: the call is answered.
  await waitUntil('a gRPC call answered again', async () => (await getQueue(client)).code === grpc.status.OK, 20_000);
  client.close();
}, 120_000);
