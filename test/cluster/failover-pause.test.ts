/**
 * An owner cut off past its lease (SIGSTOP), then woken (SIGCONT): the other nodes take its queues
 * while it sleeps; once awake it dispatches nothing more for them (its lease ran out by its own
 * monotonic clock before anyone could take it), its late appends are fenced (no event of its old
 * epoch lands after its successor's), it rejoins, and no acknowledged task is lost.
 *
 * Each node sends to its own worker, so the worker that received an attempt says which node sent it.
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { busiest, busiestSecond, createTasks, ownedBy, queueYaml, rows, spread, startNode, waitUntil, writeQueueYaml, clusterFixture } from './cluster-harness.js';

const QUEUES = 6;
const RATE = 100;
const BUCKET = 10;
const MAX_CONCURRENT = 10;
const LEASE_SECONDS = 3;

const fx = clusterFixture('pushq-cluster-pause-');
const { nodes, workers } = fx;

describe('pushq serve --cluster: SIGSTOP of an owner past its lease, then SIGCONT', () => {
  it('its queues move; awake, it is fenced and stops dispatching them; nothing acknowledged is lost', async () => {
    const url = await fx.pg.database();
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES, RATE, BUCKET, MAX_CONCURRENT));
    for (let i = 0; i < 3; i++) {
      // Slow answers: the owner has attempts in flight when it is stopped.
      const w = await startWorker(() => ({ status: 200, delayMs: 150 }));
      workers.push(w);
      nodes.push(await startNode(['--config', yaml, '--store', url, '--lease-seconds', String(LEASE_SECONDS), '--target', `default=${w.url}`]));
    }
    await waitUntil('the queues spread over the 3 nodes', () => spread(nodes, QUEUES + 1), 60_000);
    const { node: victim } = await busiest(nodes);
    const victimWorker = workers[nodes.indexOf(victim)]!;
    const victimQueues = await ownedBy(victim);
    const others = nodes.filter((n) => n !== victim);

    let paused = false;
    const tasks = Array.from({ length: 1200 }, (_, i) => ({ name: `p${i}`, queue: `q${i % QUEUES}` }));
    const creating = createTasks(() => (paused ? others : nodes), tasks, 12, 40_000);
    await waitUntil('the victim dispatching', () => victimWorker.received.length >= 30, 20_000);

    paused = true;
    victim.proc.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitUntil(
      'the other nodes owning the stopped node’s queues',
      () => victimQueues.every((q) => others.some((n) => n.lines.some((l) => l.atMs > stoppedAt && l.text.includes(`owns queue ${q} `)))),
      20_000,
    );
    // Past its lease by its own clock too, whatever the scheduler did.
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + (LEASE_SECONDS + 1) * 1000 - Date.now())));
    const wokenAt = Date.now();
    victim.proc.child.kill('SIGCONT');
    await waitUntil('the woken node saying it lost each of its queues', () => victimQueues.every((q) => victim.lines.some((l) => l.atMs >= wokenAt && l.text.includes(`lost queue ${q}:`))), 15_000);
    const lost = victim.lines.filter((l) => l.atMs >= wokenAt && l.text.includes('lost queue'));
    for (const l of lost) {
      expect(l.text).toMatch(/not renewed in time|deposed/);
      // Events it still held when it woke were not acknowledged: refused by the store (fenced), or
      // held back by the node itself, its lease's validity past (store-log.ts, flush).
      if (l.text.includes('unsent events')) expect(l.text).toMatch(/not acknowledged: .*(STORE_FENCED|not renewed in time)/);
    }
    paused = false;
    const out = await creating;
    expect(out.unanswered).toEqual([]);

    // Awake and deposed, it dispatches nothing until it owns a queue again (after the rebalance
    // gives it its share back); attempts it had handed to its HTTP client before the stop may
    // still go out as it wakes: at most its in-flight limit per queue, within the first moments.
    // (It says `taking queue` once it holds a lease again, before that queue's service starts.)
    await waitUntil('the woken node rejoining (owning a queue again)', () => victim.lines.some((l) => l.atMs > wokenAt && l.text.includes('owns queue')), 20_000);
    const rejoinedAt = victim.lines.find((l) => l.atMs > wokenAt && l.text.includes('taking queue'))!.atMs;
    const afterWake = victimWorker.received.filter((r) => r.atMs >= wokenAt && r.atMs < rejoinedAt);
    expect(afterWake.length).toBeLessThanOrEqual(MAX_CONCURRENT * victimQueues.length);
    expect(afterWake.filter((r) => r.atMs >= wokenAt + 1000)).toEqual([]);

    // At most one epoch appends to a queue at a time: in every stream, epochs never go back.
    const backwards = await rows<{ stream: string }>(
      url,
      `SELECT stream FROM (SELECT stream, epoch, lag(epoch) OVER (PARTITION BY stream ORDER BY position) AS prev FROM pushq_events) x WHERE prev > epoch`,
    );
    expect(backwards).toEqual([]);

    // The rate law across the handover, at the workers together: bucket + rate per second, plus what the stopped owner had in flight.
    for (let q = 0; q < QUEUES; q++) {
      const seen = workers.flatMap((w) => w.received.filter((r) => r.url.startsWith(`/t/q${q}/`)));
      expect(busiestSecond(seen), `q${q}`).toBeLessThanOrEqual(RATE + BUCKET + MAX_CONCURRENT);
    }

    // Every acknowledged task delivered, by whichever node.
    const ok = new Set<string>();
    await waitUntil(
      `every acknowledged task delivered (${out.acknowledged.length})`,
      () => {
        for (const w of workers) for (const r of w.received) if (r.answered === 200) ok.add(r.url.slice(r.url.lastIndexOf('/') + 1));
        return out.acknowledged.every((n) => ok.has(n));
      },
      30_000,
    );
  }, 180_000); // three node starts, 1,200 creates, a stop and a takeover: 60 s ran out at load 16
});
