/**
 * Failover after kill -9: three nodes on one PostgreSQL store, a worker, tasks created through all
 * three APIs (REST, gRPC, App Engine's /rpc_http; create-three-apis.ts) while one node is killed
 * under load and later restarted. Every acknowledged task is
 * delivered; retry counts continue from what the log holds across the handover; the rate law holds at the
 * worker across it (no 1 s window with more than bucket_size + rate dispatches of a queue, plus
 * the attempts the dead owner had already sent).
 *
 * 3,000 tasks in the suite rather than the issue's 10,000: on this 2-core machine, shared with
 * PostgreSQL, the worker and other test runs (load average 4-9), 3,000 took 17-30 s and 5,000 about
 * 33 s at a load of 5: 10,000 does not fit in a minute, the time a test of the suite should take.
 * PUSHQ_KILL_TASKS=10000 runs the issue's size (the budgets grow with it).
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { ThreeApiCreator } from './create-three-apis.js';
import { busiest, busiestSecond, count, expectRetryCountsFromTheLog, queueYaml, spread, startNode, startNodes, waitUntil, writeQueueYaml, clusterFixture } from './cluster-harness.js';

const TASKS = Number(process.env['PUSHQ_KILL_TASKS'] ?? 3000);
/** Budgets that grow with the tasks (the suite's 3,000 keep the times it was tuned with). */
const CREATE_BUDGET_MS = Math.max(90_000, TASKS * 30);
const DELIVERY_BUDGET_MS = Math.max(30_000, TASKS * 10);
const QUEUES = 6;
const RATE = 150;
const BUCKET = 15;
const MAX_CONCURRENT = 20;
/** How long placement may take to settle (nodes starting, a queue handed over): waited for, so only a bound for a loaded machine. */
const SETTLE_MS = 60_000;

const fx = clusterFixture('pushq-cluster-kill-');
const { nodes, workers } = fx;

describe('pushq serve --cluster: kill -9 of a node under load', () => {
  it('another node takes its queues and replays them; every acknowledged task is delivered, counts continue, the rate law holds; the node restarts and rejoins', async () => {
    const url = await fx.pg.database();
    // Some first attempts fail, so retry counts are in play when the owner dies.
    const w = await startWorker((r, n) => (n === 0 && r.url.endsWith('7') ? 500 : { status: 200, delayMs: 10 }));
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES, RATE, BUCKET, MAX_CONCURRENT));
    // Queue leases of 10 s, not 3 s: at load 16-19 the nodes (and PostgreSQL) stalled for longer
    // than a 3 s lease's slack (renewed every 1 s, valid 2.55 s after sent), so the live nodes lost
    // and took queues from one another over and over, and creates went unanswered for the whole
    // budget (2,202 of 3,000 once, 24 another time). The cost: the dead node's queues wait up to
    // 10 s for their leases to run out.
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '10', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 3);
    await waitUntil('the queues spread over the 3 nodes', () => spread(nodes, QUEUES + 1), SETTLE_MS);

    const { node: victim, queues: victimQueues } = await busiest(nodes);
    const alive = new Set(nodes);
    const tasks = Array.from({ length: TASKS }, (_, i) => ({ name: `k${i}`, queue: `q${i % QUEUES}` }));
    let killedAt = 0;
    // The kill waits for its moment (a sixth delivered), bounded as the creates are: how soon that
    // comes is the creates' pace, which a loaded machine slows (at load 14 a sixth was not yet
    // delivered 30 s in, the old bound). A sixth delivered comes long before the last creates are
    // answered, so the node still dies under load (checked below).
    const killer = (async () => {
      await waitUntil('a sixth of the tasks delivered', () => w.received.length >= TASKS / 6, CREATE_BUDGET_MS);
      alive.delete(victim);
      killedAt = Date.now();
      victim.proc.child.kill('SIGKILL');
    })();
    // Its failure is the test's, reported when awaited below, not an unhandled rejection meanwhile.
    killer.catch(() => undefined);
    // A generous budget: under a loaded machine creates slow down (the check is that each is answered, not how fast).
    const creator = new ThreeApiCreator();
    const out = await creator.create(() => [...alive], tasks, 24, CREATE_BUDGET_MS).finally(() => creator.close());
    const createsEndedAt = Date.now();
    await killer;
    expect(killedAt, 'the kill came while tasks were still being created').toBeLessThan(createsEndedAt);
    expect(await victim.proc.exited).toBe('SIGKILL');
    const story = (): string => nodes.map((n) => `${n.id}:\n${n.lines.map((l) => `  ${l.atMs - killedAt} ${l.text}`).join('\n')}\n${n.proc.stderr()}`).join('\n');
    expect(out.unanswered.length, `${out.acknowledged.length} acknowledged, ${out.unanswered.length} unanswered; killed at ${killedAt}\n${story()}`).toBe(0);
    expect(out.acknowledged.length).toBeGreaterThan(TASKS * 0.95);
    for (const api of ['rest', 'grpc', 'rpc_http'] as const) expect(creator.byApi[api], api).toBeGreaterThan(TASKS * 0.3);

    // Its queues were taken by the others, who replayed their streams.
    for (const q of victimQueues) expect(nodes.some((n) => n !== victim && n.lines.some((l) => l.atMs > killedAt && l.text.includes(`owns queue ${q} `)))).toBe(true);

    // Restarted, it rejoins and gets its share back.
    const back = await startNode(args);
    nodes.push(back);
    await waitUntil('the queues spread over the 3 live nodes again', () => spread([...nodes.filter((n) => n !== victim && n !== back), back], QUEUES + 1), SETTLE_MS);

    const ok = new Set<string>();
    await w.waitFor(
      (r) => {
        for (const x of r) if (x.answered === 200) ok.add(x.url.slice(x.url.lastIndexOf('/') + 1));
        return out.acknowledged.every((n) => ok.has(n));
      },
      DELIVERY_BUDGET_MS,
      `every acknowledged task delivered (${out.acknowledged.length})`,
    );
    // Names stay unique across the handover, tombstones included: a delivered task's name, created
    // again through each node on a queue that moved, is ALREADY_EXISTS (the new owner replayed it).
    const moved = tasks.filter((t) => victimQueues.includes(t.queue) && out.acknowledged.includes(t.name)).slice(0, 3);
    expect(moved.length).toBe(3);
    for (const t of moved) {
      for (const n of nodes.filter((x) => x !== victim)) {
        let status = 503;
        for (let i = 0; i < 40 && status === 503; i++) {
          const again = await fetch(`${n.api}/${t.queue}/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/${t.queue}/tasks/${t.name}`, appEngineHttpRequest: { relativeUri: '/again' } } }),
          });
          status = again.status;
          await again.arrayBuffer();
          if (status === 503) await new Promise((r) => setTimeout(r, 100));
        }
        expect(status, `${t.name} again through ${n.id}`).toBe(409);
      }
    }

    // Acknowledged means in the store: one TaskAdded per acknowledged name at least.
    expect(await count(url, `SELECT count(*) AS n FROM pushq_events WHERE body LIKE '{"type":"TaskAdded"%'`)).toBeGreaterThanOrEqual(out.acknowledged.length);

    // Retry counts continue from what the log holds (the helper says what that allows at a kill).
    expect(await expectRetryCountsFromTheLog(url, w.received, killedAt)).toBeGreaterThan(0);
    expect(w.received.some((r) => r.headers['x-appengine-taskretrycount'] !== '0')).toBe(true);

    // The rate law at the worker, across the handover: bucket + rate per second, plus what the dead owner had in flight.
    for (let q = 0; q < QUEUES; q++) {
      const seen = w.received.filter((r) => r.url.startsWith(`/t/q${q}/`));
      expect(busiestSecond(seen), `q${q}`).toBeLessThanOrEqual(BUCKET + RATE + MAX_CONCURRENT);
    }
  }, Math.max(240_000, CREATE_BUDGET_MS + DELIVERY_BUDGET_MS + 2 * SETTLE_MS + 60_000));
});
