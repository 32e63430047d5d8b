/**
 * ListQueues pages on a cluster exactly as on one node (src/server/page-token.ts): two
 * `pushq serve --cluster` nodes on one PostgreSQL store and one single-node `pushq serve` with the
 * same queue.yaml give the same pages, the same page tokens and the same refusals, over REST and
 * over gRPC, through either node.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/serve-process.js';
import { clusterFixture, queueYaml, spread, startNodes, waitUntil, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-pages-');
/** How long a comparison may wait for the queues' ownership to settle, ms. */
const SETTLE = 15_000;
const { nodes } = fx;

/** Every page of ListQueues through `api`, `size` at a time: each page's queue names and the token it gave. */
async function restPages(api: string, size: number): Promise<{ queues: string[]; nextPageToken?: string }[]> {
  const pages: { queues: string[]; nextPageToken?: string }[] = [];
  let token: string | undefined;
  do {
    const res = await fetch(`${api}?pageSize=${size}${token === undefined ? '' : `&pageToken=${token}`}`);
    const body = (await res.json()) as { queues: { name: string }[]; nextPageToken?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    pages.push({ queues: body.queues.map((q) => q.name.split('/').pop()!), ...(body.nextPageToken === undefined ? {} : { nextPageToken: body.nextPageToken }) });
    token = body.nextPageToken;
  } while (token !== undefined && pages.length < 10);
  return pages;
}

async function grpcPages(client: CloudTasksClient, size: number): Promise<{ queues: string[]; nextPageToken: string }[]> {
  const pages: { queues: string[]; nextPageToken: string }[] = [];
  let token = '';
  do {
    const [queues, , response] = await client.listQueues({ parent: 'projects/p/locations/l', pageSize: size, pageToken: token }, { autoPaginate: false });
    token = response?.nextPageToken ?? '';
    pages.push({ queues: queues.map((q) => q.name!.split('/').pop()!), nextPageToken: token });
  } while (token !== '' && pages.length < 10);
  return pages;
}

async function refusal(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('ListQueues on a cluster', () => {
  it('pages as one node does: the same pages, tokens and refusals, over REST and gRPC, through every node', async () => {
    const yaml = await writeQueueYaml(fx.dir, queueYaml(5, 10, 5));
    // A 4 s lease: no node is killed here, and a short one lets a renewal late under a full run's
    // load move a queue mid-test.
    const args = ['--config', yaml, '--store', await fx.pg.database(), '--lease-seconds', '4'];
    await startNodes(nodes, args, 2);
    const two = nodes.slice(0, 2);
    const single = await startServe(['--config', yaml, '--memory']);
    nodes.push({ proc: single, api: single.api, id: 'single', lines: [] });
    await waitUntil('the 6 queues (q0..q4, default) spread over the 2 nodes', () => spread(two, 6), 20_000);

    const alone = await restPages(single.api, 4);
    expect(alone.map((p) => p.queues)).toEqual([['default', 'q0', 'q1', 'q2'], ['q3', 'q4']]);
    // A queue whose owner cannot be reached at that moment (its lease renewed late under load, the
    // queue moving) is left out of its page, as documented: each comparison is retried until
    // ownership has settled (SETTLE), and must then be exact.
    for (const size of [1, 4, 9801]) {
      const want = await restPages(single.api, size);
      for (const n of two) await expect.poll(() => restPages(n.api, size), { timeout: SETTLE, message: `${n.id}, pageSize ${size}` }).toEqual(want);
    }
    // A token one node gave, on the other node: the same next page.
    const first = await fetch(`${two[0]!.api}?pageSize=2`).then((r) => r.json() as Promise<{ nextPageToken: string }>);
    const nextOnOther = async () => ((await fetch(`${two[1]!.api}?pageSize=2&pageToken=${first.nextPageToken}`).then((r) => r.json())) as { queues: { name: string }[] }).queues.map((q) => q.name.split('/').pop());
    await expect.poll(nextOnOther, { timeout: SETTLE }).toEqual(['q1', 'q2']);

    // The refusals: a page size that is no int32, a negative one, a token that is not one, a token of a queue's tasks.
    for (let i = 0; i < 2; i++) {
      const created = await fetch(`${two[0]!.api}/q0/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { scheduleTime: new Date(Date.now() + 3_600_000).toISOString(), appEngineHttpRequest: { relativeUri: '/later' } } }) });
      expect(created.status).toBe(200);
    }
    const tasksToken = ((await fetch(`${two[1]!.api}/q0/tasks?pageSize=1`).then((r) => r.json())) as { nextPageToken: string }).nextPageToken;
    expect(typeof tasksToken).toBe('string');
    for (const query of ['pageSize=2147483648', 'pageSize=-1', 'pageToken=bm90LWEtdG9rZW4', `pageToken=${tasksToken}`]) {
      const want = await refusal(`${single.api}?${query}`);
      expect(want.status, query).toBe(400);
      for (const n of two) expect(await refusal(`${n.api}?${query}`), `${n.id}: ${query}`).toEqual(want);
    }

    // gRPC: the same pages and refusals through each node's gRPC front.
    const clients = [single.grpcPort, ...two.map((n) => n.proc.grpcPort)].map((port) => new CloudTasksClient({ apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure() }));
    try {
      const want = await grpcPages(clients[0]!, 2);
      expect(want.map((p) => p.queues)).toEqual([['default', 'q0'], ['q1', 'q2'], ['q3', 'q4']]);
      // The tokens are REST's (the last page's is empty in gRPC, absent in REST).
      expect(want.map((p) => p.nextPageToken)).toEqual([...(await restPages(single.api, 2)).map((p) => p.nextPageToken ?? '')]);
      const refused = async (client: CloudTasksClient, pageToken: string): Promise<{ code: number; details: string }> =>
        client.listQueues({ parent: 'projects/p/locations/l', pageToken }, { autoPaginate: false }).then(
          () => ({ code: 0, details: 'answered' }),
          (err: { code: number; details: string }) => ({ code: err.code, details: err.details }),
        );
      for (const client of clients.slice(1)) {
        await expect.poll(() => grpcPages(client, 2), { timeout: SETTLE }).toEqual(want);
        for (const token of ['bm90LWEtdG9rZW4', tasksToken]) {
          const expected = await refused(clients[0]!, token);
          expect(expected.code).toBe(grpc.status.INVALID_ARGUMENT);
          expect(await refused(client, token)).toEqual(expected);
        }
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 120_000);
});
