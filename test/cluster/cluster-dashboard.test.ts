/**
 * The dashboard in cluster mode: two `pushq serve --cluster` nodes on one PostgreSQL store, the
 * queues spread over them. Every node's read API shows every queue, each from its owner with the
 * owner named, the same figures through either node; a pause through the node that does not own a
 * queue takes effect at its owner, and a purge; task lists, a search and a story of a queue owned elsewhere;
 * the series of a remote queue (and `*` summed), pushed as Server-Sent Events too; a bad `?at=`
 * refused naming `at` (time travel itself: cluster-time-travel.test.ts); a queue whose owner was
 * killed shows as without owner, not as an error.
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { ownedBy, postTask, queueYaml, spread, startNodes, waitUntil, writeQueueYaml, clusterFixture, type Node } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_COUNT = 9; // q0..q8, and `default`
const QUEUES = Array.from({ length: QUEUE_COUNT }, (_, i) => `q${i}`);
const ALL = ['default', ...QUEUES];

const fx = clusterFixture('pushq-cluster-dash-');
const { nodes, workers } = fx;

interface Row {
  name: string;
  state: string;
  owner: string | null;
  tasks: Record<string, number>;
  attempts: number;
  retries: number;
  ratePerSecond: number;
  maxConcurrent: number;
}

async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) };
}

async function dashboard(node: Node): Promise<{ queues: Row[]; events: number; summary: Record<string, { tasks_total: number }>; mode: string; atSeconds: number | null }> {
  const out = await getJson(`${node.proc.url}/pushq/dashboard.json`);
  expect(out.status, JSON.stringify(out.json)).toBe(200);
  return out.json;
}

/** What must read the same through every node (tokens and recent rates move with the clock). */
function stable(rows: readonly Row[]): unknown {
  return rows.map((r) => ({ name: r.name, state: r.state, owner: r.owner, tasks: r.tasks, attempts: r.attempts, retries: r.retries, rate: r.ratePerSecond, cap: r.maxConcurrent }));
}

async function create(node: Node, queue: string, name: string, later: boolean): Promise<void> {
  const out = await postTask(node, queue, name, { delayMs: later ? 3_600_000 : 0, body: `{"order":"${name}-payload"}` });
  expect(out.status, out.message).toBe(200);
}

describe('pushq serve --cluster: the dashboard on every node', () => {
  it('shows every queue from its owner through each node, forwards pause, task lists, stories and series to the owner, refuses a bad ?at=', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUE_COUNT, 100, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    const two = nodes.slice(0, 2) as [Node, Node];
    await waitUntil('the queues spread over the 2 nodes', () => spread(two, ALL.length), 20_000);
    const owns = await Promise.all(two.map(ownedBy));
    const ownerOf = (q: string): Node => two[owns[0]!.includes(q) ? 0 : 1];
    // Rendezvous hashing may leave a node none of 10 queues (1 in 512): then there is nothing remote to test.
    expect(owns[0]!.length > 0 && owns[1]!.length > 0, `both nodes own queues: ${JSON.stringify(owns)}`).toBe(true);

    // Per queue: 2 tasks run at once (succeeded), 3 for an hour from now (pending), through both nodes.
    for (const [i, q] of QUEUES.entries()) {
      for (let j = 0; j < 5; j++) await create(two[(i + j) % 2]!, q, `${q}-t${j}`, j >= 2);
    }
    await w.waitFor((r) => r.filter((x) => x.answered === 200).length >= 2 * QUEUE_COUNT, 20_000, 'the immediate tasks delivered');
    await waitUntil('every succeeded count read', async () => (await dashboard(two[0])).queues.every((r) => r.name === 'default' || r.tasks['succeeded'] === 2), EVENT_BOUND_MS);

    // Every queue through each node, each row from its owner, with which node that is; the same figures.
    const seen = await Promise.all(two.map(dashboard));
    for (const d of seen) {
      expect(d.mode).toBe('live');
      expect(d.queues.map((r) => r.name)).toEqual(ALL);
      for (const r of d.queues) expect(r.owner, r.name).toBe(ownerOf(r.name).id);
      for (const q of QUEUES) {
        const row = d.queues.find((r) => r.name === q)!;
        expect(row.tasks).toMatchObject({ pending: 3, succeeded: 2, dispatching: 0, backoff: 0 });
        expect(row.state).toBe('running');
        expect(d.summary[q]!.tasks_total).toBe(5);
      }
      expect(d.atSeconds).toBeGreaterThan(0);
    }
    expect(stable(seen[1]!.queues)).toEqual(stable(seen[0]!.queues));
    expect(seen[1]!.events).toBe(seen[0]!.events);

    // The timeline: every queue's markers on one axis, each configuration marker naming its queue; the cursor enabled.
    const timeline = (await getJson(`${two[1].proc.url}/pushq/timeline.json`)).json;
    expect(timeline).toMatchObject({ mode: 'live', clock: 'wall', timeTravel: true, node: two[1].id });
    expect(new Set(timeline.markers.filter((m: { kind: string }) => m.kind === 'config').map((m: { queue: string }) => m.queue))).toEqual(new Set(ALL));
    expect(timeline.endSeconds).toBeGreaterThan(0);

    // Pause through the node that does not own the queue: it takes effect at the owner, seen through both; then resume.
    const remoteQ = QUEUES.find((q) => ownerOf(q) === two[1])!;
    const paused = await fetch(`${two[0].api}/${remoteQ}:pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(paused.status, await paused.text()).toBe(200);
    for (const n of two) expect((await dashboard(n)).queues.find((r) => r.name === remoteQ)!.state).toBe('paused');
    const atOwner = await getJson(`${two[1].api}/${remoteQ}`);
    expect(atOwner.json.state).toBe('PAUSED');
    const marks = (await getJson(`${two[0].proc.url}/pushq/timeline.json`)).json.markers as { kind: string; queue: string }[];
    expect(marks.some((m) => m.kind === 'pause' && m.queue === remoteQ)).toBe(true);
    // The node's own guard still refuses a page of another origin (the Origin is dropped only after that check).
    const foreign = await fetch(`${two[0].api}/${remoteQ}:resume`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('ORIGIN_NOT_ALLOWED');
    // Its own page's origin is accepted, and the command reaches the owner.
    const resumed = await fetch(`${two[0].api}/${remoteQ}:resume`, { method: 'POST', headers: { 'content-type': 'application/json', origin: two[0].proc.url }, body: '{}' });
    expect(resumed.status).toBe(200);
    expect((await dashboard(two[1])).queues.find((r) => r.name === remoteQ)!.state).toBe('running');

    // Task lists: one queue owned elsewhere, and every queue (merged: totals summed, the first `limit`, search across queues).
    const one = (await getJson(`${two[0].proc.url}/pushq/queues/${remoteQ}/tasks?state=pending`)).json;
    expect(one.total).toBe(3);
    expect(one.tasks.map((t: { name: string }) => t.name).sort()).toEqual([`${remoteQ}-t2`, `${remoteQ}-t3`, `${remoteQ}-t4`]);
    for (const n of two) {
      const all = await getJson(`${n.proc.url}/pushq/queues/*/tasks?state=all&limit=7`);
      expect(all.status).toBe(200);
      expect(all.json).toMatchObject({ queue: '*', state: 'all', total: 5 * QUEUE_COUNT, withoutOwner: [] });
      expect(all.json.tasks).toHaveLength(7);
      const added = all.json.tasks.map((t: { addedAt: string }) => Date.parse(t.addedAt));
      expect([...added].sort((a, b) => a - b)).toEqual(added);
      const found = await getJson(`${n.proc.url}/pushq/queues/*/tasks?state=all&q=${remoteQ}-t4-PAYLOAD`);
      expect(found.json.total).toBe(1);
      expect(found.json.tasks[0]).toMatchObject({ name: `${remoteQ}-t4`, queue: remoteQ, matched: 'payload' });
      const ended = await getJson(`${n.proc.url}/pushq/queues/*/tasks?state=succeeded&sort=attempts`);
      expect(ended.json.total).toBe(2 * QUEUE_COUNT);
    }

    // A task's story of a queue owned by the other node, read through this one.
    const story = await getJson(`${two[0].proc.url}/pushq/queues/${remoteQ}/tasks/${remoteQ}-t0/story`);
    expect(story.status, JSON.stringify(story.json)).toBe(200);
    expect(story.json).toMatchObject({ queue: remoteQ, task: `${remoteQ}-t0`, state: 'succeeded' });
    expect(story.json.attempts).toHaveLength(1);
    expect(story.json.payload.text).toContain(`${remoteQ}-t0-payload`);

    // The series of a remote queue from its owner, and `*` summed over every queue's (counts exact).
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const series = (await getJson(`${two[0].proc.url}/pushq/series.json?queue=${remoteQ}`)).json;
    expect(series.series.map((s: { queue: string }) => s.queue)).toEqual(['*', remoteQ]);
    const [all, own] = series.series as { columns: Record<string, number[]>; limits: Record<string, number> }[];
    expect(sum(own!.columns['added']!)).toBe(5);
    expect(sum(own!.columns['dispatched']!)).toBe(2);
    expect(sum(all!.columns['added']!)).toBe(5 * QUEUE_COUNT);
    expect(sum(all!.columns['succeeded']!)).toBe(2 * QUEUE_COUNT);
    expect(all!.columns['delayed']!.at(-1)).toBe(3 * QUEUE_COUNT);
    expect(own!.limits['ratePerSecond']).toBe(100);
    // `default` has App Engine's default rate (5/s): the sum of every row's.
    expect(all!.limits['ratePerSecond']).toBe(sum(seen[0]!.queues.map((r) => r.ratePerSecond)));
    // Both on the cluster's axis: the remote queue's last interval ends no later than the span.
    expect(own!.columns['t_seconds']!.at(-1)!).toBeLessThanOrEqual(series.endSeconds + 0.5);
    const unknown = await getJson(`${two[0].proc.url}/pushq/series.json?queue=nope`);
    expect(unknown.status).toBe(404);

    // The same pushed as Server-Sent Events by the node that does not own the queue.
    const stream = await fetch(`${two[0].proc.url}/pushq/series/stream?queue=${remoteQ}&interval=1`);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let text = '';
    while (!/event: series\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const pushed = JSON.parse(/event: series\ndata: (.*)\n\n/.exec(text)![1]!);
    expect(pushed.series.map((s: { queue: string }) => s.queue)).toEqual(['*', remoteQ]);

    // A bad instant is refused on every read that takes one, naming `at`.
    for (const path of ['/pushq/dashboard.json?at=soon', `/pushq/queues/${remoteQ}/tasks?at=soon`, `/pushq/queues/*/tasks?at=soon`, `/pushq/queues/${remoteQ}/tasks/${remoteQ}-t0/story?at=soon`]) {
      const refused = await getJson(`${two[0].proc.url}${path}`);
      expect(refused.status, path).toBe(400);
      expect(refused.json.error.message, path).toMatch(/^at: "soon" is neither a number of seconds since the cluster.s first event .* nor an ISO 8601 instant with its zone/);
      expect(JSON.stringify(refused.json.error.details), path).toContain('"field":"at"');
    }
    // The page and its files, from every node.
    for (const n of two) {
      const page = await fetch(`${n.proc.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('pushq dashboard');
      expect((await fetch(`${n.proc.url}/pushq/assets/dashboard.js`)).status).toBe(200);
      // A shared URL with ?at= opens the page.
      expect((await fetch(`${n.proc.url}/?at=3`)).status).toBe(200);
    }

    // Purge through the node that does not own the queue: done at the owner, seen through both.
    const purged = await fetch(`${two[0].api}/${remoteQ}:purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(purged.status, await purged.text()).toBe(200);
    await waitUntil('the purge seen through both nodes', async () => (await Promise.all(two.map(dashboard))).every((d) => d.queues.find((r) => r.name === remoteQ)!.tasks['pending'] === 0), EVENT_BOUND_MS);

    // The other node killed: its queues show as without owner (not an error page) until the survivor takes them.
    const gone = two[1];
    gone.proc.child.kill('SIGKILL');
    await gone.proc.exited;
    const between = await dashboard(two[0]);
    for (const q of owns[1]!) expect(between.queues.find((r) => r.name === q), q).toMatchObject({ owner: null, state: 'no owner' });
    for (const q of owns[0]!) expect(between.queues.find((r) => r.name === q)!.owner).toBe(two[0].id);
    await waitUntil('the survivor owns every queue', async () => (await dashboard(two[0])).queues.every((r) => r.owner === two[0].id), 15_000);
    const after = await dashboard(two[0]);
    // Taken over from the store: the purge held, the other queues' tasks are there.
    expect(after.queues.find((r) => r.name === remoteQ)!.tasks).toMatchObject({ pending: 0, succeeded: 2 });
    for (const q of QUEUES.filter((x) => x !== remoteQ)) expect(after.queues.find((r) => r.name === q)!.tasks, q).toMatchObject({ pending: 3, succeeded: 2 });
  }, 60_000);
});
