/**
 * `total_storage_limit` across a cluster (docs/cluster.md, "total_storage_limit across the nodes"):
 * two `pushq serve --cluster` nodes on one PostgreSQL store, queues on both, a 20 KiB limit for all
 * queues together. Each node checks a create against its own queues' live bytes plus the others'
 * last published figures (src/cluster/storage-budget.ts, rounds every 100 ms here).
 *
 * - Tasks created through both nodes (forwarded to their owners), paced, until each client sees
 *   refusals: the stored bytes (summed from the TaskAdded events in the store) never pass the
 *   limit by more than the documented bound, what the *other* node accepted within two rounds (plus
 *   a round's time) of each acceptance; and they reach the limit within one task (no early refusal).
 * - Once quiet, every node refuses through REST, gRPC and /rpc_http with the one-node error
 *   (STORAGE_LIMIT_EXCEEDED: 429 RESOURCE_EXHAUSTED, gRPC RESOURCE_EXHAUSTED, rpc_error OVER_QUOTA),
 *   the message naming exactly the bytes stored cluster-wide.
 * - The tasks run and complete (storage freed): creates are accepted again through both nodes.
 * - A reload (SIGHUP) to a smaller limit refuses at once on both nodes; back to a larger one, accepted.
 * - An owner killed (-9): its queues' last figures still count on the survivor while they have no
 *   owner and after it takes them (then the figures published are the survivor's, from its fold).
 *
 * Without the cluster-wide check each queue's kernel would accept 20 KiB of its own (nine queues):
 * the bound check fails by far.
 */
import { writeFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/log/codec.js';
import { MESSAGES, RPC_ERROR } from '../../src/server/appengine/messages.js';
import { RPC_HEADERS, addRequest, encodeMessage, envelope } from '../helpers/remote-api.js';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, ownedBy, postTask, queueYaml, rows, spread, startNodesEachOwning, stopAll, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const ROUND_MS = 100;
// The nodes (spawned by this file) take the round's period from here.
process.env['PUSHQ_STORAGE_ROUND_MS'] = String(ROUND_MS);
/** Two rounds plus, per round, the time its statements may take on this loaded 2-core machine. */
const WINDOW_MS = 2 * (ROUND_MS + 300);
const LIMIT = 20 * 1024;
const QUEUES = ['default', ...Array.from({ length: 8 }, (_, i) => `q${i}`)];
/** The one-node refusal (src/core/decide.ts); REST and gRPC add the code after it. */
const REFUSAL = /^adding (\d+) bytes would pass total_storage_limit \((\d+) of (\d+) bytes in use\)( \(STORAGE_LIMIT_EXCEEDED\))?$/;

const fx = clusterFixture('pushq-cluster-storage-');

function yaml(limit: string): string {
  return `total_storage_limit: ${limit}\n${queueYaml(8, 20, 5)}`;
}

interface Sent {
  name: string;
  queue: string;
  /** The node that owns the queue, which admitted or refused it. */
  owner: string;
  startMs: number;
  endMs: number;
  status: number;
  message?: string;
}


function restCreate(node: Node, queue: string, name: string, bodyBytes: number, delayed = true): Promise<{ status: number; message?: string; grpcStatus?: string }> {
  return postTask(node, queue, name, { delayMs: delayed ? 3_600_000 : 0, body: Buffer.alloc(bodyBytes, 'x') });
}

/** Bytes of every task stored and not yet ended, from the store's own events (TaskAdded size, minus those ended). */
async function storedBytes(url: string): Promise<{ total: number; sizes: Map<string, number> }> {
  const events = await rows<{ stream: string; body: string }>(url, 'SELECT stream, body FROM pushq_events ORDER BY stream, position');
  const sizes = new Map<string, number>();
  const byId = new Map<string, { name: string; size: number }>();
  let total = 0;
  for (const row of events) {
    const e = decodeEvent(row.body);
    if (e.type === 'TaskAdded') {
      const name = e.options?.name ?? `#${e.id}`;
      byId.set(`${row.stream}/${e.id}`, { name, size: e.size });
      sizes.set(name, e.size);
      total += e.size;
    } else if (e.type === 'AttemptSucceeded' || e.type === 'TaskDeleted') {
      total -= byId.get(`${row.stream}/${e.id}`)?.size ?? 0;
    }
  }
  return { total, sizes };
}

/**
 * Waits until every node's view holds `total`: the published figures sum to it (each node has
 * published), then a window for each node to read the others' back. Under load a round can lag
 * past the window alone (a run read a view without the other node's last two creates).
 */
async function viewsHold(url: string, total: number): Promise<void> {
  await waitUntil(`the published figures summing to ${total}`, async () => Number((await rows<{ n: string | null }>(url, 'SELECT sum(bytes) AS n FROM pushq_storage'))[0]!.n ?? 0) === total, EVENT_BOUND_MS);
  await new Promise((res) => setTimeout(res, WINDOW_MS));
}

describe('pushq serve --cluster: total_storage_limit across the nodes', () => {
  it('holds the limit within the documented bound across two nodes, refuses as one node does through three APIs, admits again once tasks complete, and follows a reload', async () => {
    const url = await fx.pg.database();
    let answer = 500;
    const w = await startWorker(() => answer);
    fx.workers.push(w);
    const path = await writeQueueYaml(fx.dir, yaml('20K'));
    const args = ['--config', path, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    // Each node owns a queue (ids are random: one of two nodes owns none of 9 queues once in 256 runs).
    const two = await startNodesEachOwning(fx.nodes, args, QUEUES);
    await waitUntil('the queues spread over the 2 nodes', () => spread(two, QUEUES.length), 20_000);
    const owned = await Promise.all(two.map(ownedBy));
    expect(owned[0]!.length, 'each node owns some queues').toBeGreaterThan(0);
    expect(owned[1]!.length, 'each node owns some queues').toBeGreaterThan(0);
    const ownerOf = new Map(owned.flatMap((qs, i) => qs.map((q) => [q, two[i]!.id] as const)));

    // ---- fill: 2 paced clients per node, every queue (so half the calls are forwarded), until each has 3 refusals ----
    const sent: Sent[] = [];
    let n = 0;
    const client = async (node: Node): Promise<void> => {
      let refusals = 0;
      const end = Date.now() + 30_000;
      while (refusals < 3 && Date.now() < end) {
        const queue = QUEUES[n % QUEUES.length]!;
        const name = `fill-${n++}`;
        const startMs = Date.now();
        const r = await restCreate(node, queue, name, 600);
        sent.push({ name, queue, owner: ownerOf.get(queue)!, startMs, endMs: Date.now(), ...r });
        if (r.status === 429) refusals++;
        else expect(r.status, `${name}: ${r.message}`).toBe(200);
        await new Promise((res) => setTimeout(res, 80));
      }
    };
    await Promise.all([...two, ...two].map(client));
    const accepted = sent.filter((s) => s.status === 200);
    const refused = sent.filter((s) => s.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(12);
    for (const r of refused) expect(r.message, r.name).toMatch(REFUSAL);

    const { total, sizes } = await storedBytes(url);
    expect(total).toBe(accepted.reduce((sum, s) => sum + sizes.get(s.name)!, 0)); // every acknowledged create, nothing else
    // The bound: at each acceptance, what the other node accepted within the window before it.
    let bound = 0;
    for (const a of accepted) {
      const others = accepted.filter((u) => u.owner !== a.owner && u.endMs >= a.startMs - WINDOW_MS && u.startMs <= a.endMs);
      bound = Math.max(bound, others.reduce((sum, u) => sum + sizes.get(u.name)!, 0));
    }
    const task = Math.max(...sizes.values());
    expect(total, `stored ${total} bytes; limit ${LIMIT}, bound ${bound}`).toBeLessThanOrEqual(LIMIT + bound);
    expect(total, 'refusals came only once the limit was within one task').toBeGreaterThan(LIMIT - task);

    // ---- quiet: every node's view is exact; each refuses through each API, naming the bytes stored ----
    await viewsHold(url, total);
    console.log(`storage-limit: ${accepted.length} accepted, ${refused.length} refused; stored ${total} of ${LIMIT} bytes (overshoot ${total - LIMIT}, bound ${bound})`);
    const big = Math.max(10, LIMIT - total + 1); // no room for it anywhere
    const grpcClients = two.map((node) => new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: node.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() }));
    try {
      for (const [i, node] of two.entries()) {
        for (const queue of [owned[0]![0]!, owned[1]![0]!]) {
          const rest = await restCreate(node, queue, `over-rest-${i}-${queue}`, big);
          expect(rest.status).toBe(429);
          expect(rest.grpcStatus).toBe('RESOURCE_EXHAUSTED');
          expect(rest.message).toMatch(REFUSAL);
          expect(REFUSAL.exec(rest.message!)!.slice(2, 4)).toEqual([String(total), String(LIMIT)]);

          const err = await grpcClients[i]!.createTask({
            parent: `projects/p/locations/l/queues/${queue}`,
            task: { name: `projects/p/locations/l/queues/${queue}/tasks/over-grpc-${i}-${queue}`, appEngineHttpRequest: { relativeUri: '/t/over', body: Buffer.alloc(big, 'x') } },
          }).then(
            () => null,
            (e: { code?: number; details?: string }) => e,
          );
          expect(err?.code, `gRPC through ${node.id} for ${queue}`).toBe(grpc.status.RESOURCE_EXHAUSTED);
          expect(err?.details).toMatch(REFUSAL);

          const body = envelope('taskqueue', 'Add', encodeMessage('AddRequest', addRequest(queue, { task_name: Buffer.from(`over-rpc-${i}-${queue}`), url: Buffer.from('/t/over'), body: Buffer.alloc(big, 'x') })));
          const res = await fetch(`${node.proc.url}/rpc_http`, { method: 'POST', headers: RPC_HEADERS, body });
          expect(res.status).toBe(200);
          const reply = MESSAGES.Response.decode(new Uint8Array(await res.arrayBuffer())) as { rpc_error?: { code: number; detail: string } | null };
          expect(reply.rpc_error?.code, `/rpc_http through ${node.id} for ${queue}`).toBe(RPC_ERROR.OVER_QUOTA);
          expect(reply.rpc_error?.detail).toMatch(/would pass total_storage_limit \(\d+ of 20480 bytes in use\)/);
        }
      }
    } finally {
      await Promise.all(grpcClients.map((c) => c.close()));
    }

    // ---- the tasks run and complete: their bytes are freed, and creates are accepted again on both nodes ----
    answer = 200;
    for (const a of accepted) {
      const res = await fetch(`${two[0]!.api}/${a.queue}/tasks/${a.name}:run`, { method: 'POST' });
      await res.arrayBuffer();
      expect(res.status, `run ${a.name}`).toBe(200);
    }
    await waitUntil('every filler task completed', async () => (await storedBytes(url)).total === 0, 20_000);
    await viewsHold(url, 0);
    for (const [i, node] of two.entries()) {
      for (const queue of QUEUES) expect((await restCreate(node, queue, `again-${i}-${queue}`, 600)).status, `again through ${node.id} on ${queue}`).toBe(200);
    }
    const again = (await storedBytes(url)).total; // 18 tasks of about 620 bytes: more than 2 KiB, less than 20 KiB
    await viewsHold(url, again);

    // ---- a reload to 2K refuses on both nodes at once; back to 40K, accepted ----
    const reload = async (limit: string): Promise<void> => {
      await writeFile(path, yaml(limit));
      const marks = two.map((node) => node.lines.length);
      for (const node of two) node.proc.child.kill('SIGHUP');
      for (const [i, node] of two.entries()) await waitUntil(`${node.id} reloading`, () => node.lines.slice(marks[i]!).some((l) => l.text.includes('reload applied')), EVENT_BOUND_MS);
    };
    await reload('2K');
    for (const [i, node] of two.entries()) {
      for (const queue of [owned[0]![0]!, owned[1]![0]!]) {
        const r = await restCreate(node, queue, `small-${i}-${queue}`, 10);
        expect(r.status).toBe(429);
        expect(REFUSAL.exec(r.message!)!.slice(2, 4)).toEqual([String(again), '2048']);
      }
    }
    await reload('40K');
    for (const [i, node] of two.entries()) {
      for (const queue of [owned[0]![0]!, owned[1]![0]!]) expect((await restCreate(node, queue, `large-${i}-${queue}`, 600)).status).toBe(200);
    }
    stopAll(two); // the next test runs nodes of its own
  }, 240_000);

  it('a dead owner\'s queues keep counting: refused on the survivor before and after it takes them, the figures then its own', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 500);
    fx.workers.push(w);
    const path = await writeQueueYaml(fx.dir, yaml('8K'));
    const args = ['--config', path, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    const pair = await startNodesEachOwning(fx.nodes, args, QUEUES);
    await waitUntil('the queues spread over the 2 nodes', () => spread(pair, QUEUES.length), 20_000);
    const [ownedA, ownedB] = await Promise.all(pair.map(ownedBy));
    expect(ownedA!.length * ownedB!.length, 'each node owns some queues').toBeGreaterThan(0);
    const [a, b] = pair as [Node, Node];
    // About 3 KiB on each node's queues (through the other node: forwarded).
    for (let i = 0; i < 5; i++) {
      expect((await restCreate(a, ownedB![i % ownedB!.length]!, `on-b-${i}`, 600)).status).toBe(200);
      expect((await restCreate(b, ownedA![i % ownedA!.length]!, `on-a-${i}`, 600)).status).toBe(200);
    }
    const total = (await storedBytes(url)).total;
    await viewsHold(url, total);
    const fits = (room: number): number => room - 40; // body bytes of a task just under `room` (method and URL about 40 bytes)
    const refusedOn = async (node: Node, queue: string, name: string): Promise<string> => {
      const r = await restCreate(node, queue, name, fits(8192 - total + 500));
      expect(r.status, `${name}: ${r.message}`).toBe(429);
      return REFUSAL.exec(r.message!)![2]!;
    };
    expect(await refusedOn(a, ownedA![0]!, 'before-kill')).toBe(String(total));

    b.proc.child.kill('SIGKILL');
    await b.proc.exited;
    // B's queues have no owner yet: their last figures still count on A.
    expect(await refusedOn(a, ownedA![0]!, 'no-owner')).toBe(String(total));
    await waitUntil('A owns every queue', async () => (await ownedBy(a)).length === QUEUES.length, 20_000);
    expect(await refusedOn(a, ownedB![0]!, 'after-takeover')).toBe(String(total));
    await waitUntil('A has published the figures it folded', async () => {
      const published = await rows<{ node: string }>(url, 'SELECT node FROM pushq_storage');
      return published.length > 0 && published.every((r) => r.node === a.id);
    }, 5_000);
    const sum = await rows<{ n: string }>(url, 'SELECT sum(bytes) AS n FROM pushq_storage');
    expect(Number(sum[0]!.n)).toBe(total);
    // Room for one small task, and no more.
    expect((await restCreate(a, ownedB![0]!, 'small', fits(8192 - total))).status).toBe(200);
    expect((await restCreate(a, ownedA![0]!, 'one-more', 10)).status).toBe(429);
  }, 120_000);
});
