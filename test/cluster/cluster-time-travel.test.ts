/**
 * Time travel on the dashboard in cluster mode: two `pushq serve --cluster` nodes on one
 * PostgreSQL store, queues added by reloads ~1.5 s apart, so their streams start at different
 * instants. `?at=S` is seconds on the cluster's axis (from the earliest first event of every
 * queue); each queue answers at its own seconds S_q = S − (its first − the cluster's first),
 * exactly `pushq replay STORE --queue Q --at S_q --json` (the command's code, run in this
 * process), through either node. A queue whose stream begins after the instant is not in the
 * answer. The `*` task list at an instant holds the tasks added by then (from the store); a story
 * and one queue's task list through the node that does not own the queue are the owner's at S_q.
 * A bad `at` is a 400 naming `at`.
 */
import { describe, expect, it } from 'vitest';
import { replayJson } from '../helpers/replay-json.js';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, ownedBy, postTask, queueYaml, rows, spread, startNodes, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const fx = clusterFixture('pushq-cluster-tt-');
const { nodes, workers } = fx;

async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) };
}

async function create(node: Node, queue: string, name: string, delayMs = 0): Promise<void> {
  const out = await postTask(node, queue, name, { delayMs });
  expect(out.status, out.message).toBe(200);
}

async function reloadAll(two: readonly Node[]): Promise<void> {
  for (const n of two) {
    const res = await fetch(`${n.proc.url}/pushq/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status, await res.text()).toBe(200);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each queue's stream's first event (µs), read from the store itself. */
async function firstEvents(url: string): Promise<Map<string, number>> {
  const got = await rows<{ stream: string; body: string }>(url, `SELECT DISTINCT ON (stream) stream, body FROM pushq_events WHERE stream LIKE 'queue/%' ORDER BY stream, position`);
  return new Map(got.map((r) => [r.stream.slice('queue/'.length), (JSON.parse(r.body) as { t: number }).t]));
}

/** The task names added to each queue by `atUs` (TaskAdded in the store). */
async function addedBy(url: string, atUs: number): Promise<string[]> {
  const got = await rows<{ body: string }>(url, `SELECT body FROM pushq_events WHERE stream LIKE 'queue/%' AND body LIKE '{"type":"TaskAdded"%'`);
  return got
    .map((r) => JSON.parse(r.body) as { t: number; options?: { name?: string } })
    .filter((e) => e.t <= atUs)
    .map((e) => e.options?.name ?? '?')
    .sort();
}

/** A queue's own seconds for the absolute instant `atUs`, as text with whole µs. */
function ownSecondsText(atUs: number, firstUs: number): string {
  return ((atUs - firstUs) / 1e6).toFixed(6);
}

describe('pushq serve --cluster: time travel on the dashboard', () => {
  it('answers ?at= on the cluster axis, each queue at its own seconds, as pushq replay STORE --queue Q --at S_q, through any node', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    // Stage 1: `default`, q0, q1. Stages 2 and 3 add two queues each, by reloading every node.
    const yaml = await writeQueueYaml(fx.dir, queueYaml(2, 100, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    const two = nodes.slice(0, 2) as [Node, Node];
    const stages = [['q0', 'q1'], ['q2', 'q3'], ['q4', 'q5']];
    let delivered = 0;
    for (const [s, queues] of stages.entries()) {
      if (s > 0) {
        await sleep(1500);
        await writeQueueYaml(fx.dir, queueYaml(2 * (s + 1), 100, 10));
        await reloadAll(two);
      }
      await waitUntil(`the stage ${s} queues placed`, () => spread(two, 2 * (s + 1) + 1), 20_000);
      for (const [i, q] of queues.entries()) for (let j = 0; j < 2; j++) await create(two[(i + j) % 2]!, q, `${q}-t${j}`);
      delivered += 2 * queues.length;
      // In stage 2, a task due 1.5 s after it is added: its story has an instant when it is pending.
      if (s === 1) await create(two[0], 'q2', 'late', 1500);
      await w.waitFor((r) => r.filter((x) => x.answered === 200).length >= delivered, 20_000, `stage ${s}'s tasks delivered`);
    }
    await w.waitFor((r) => r.some((x) => x.url === '/t/q2/late'), EVENT_BOUND_MS, 'the late task delivered');
    const owns = await Promise.all(two.map(ownedBy));
    const ownerOf = (q: string): Node => two[owns[0]!.includes(q) ? 0 : 1];
    const other = (n: Node): Node => (n === two[0] ? two[1] : two[0]);
    const ALL = ['default', ...stages.flat()];

    // The queues' streams start at different instants, stage by stage.
    const firsts = await firstEvents(url);
    expect([...firsts.keys()].sort()).toEqual([...ALL].sort());
    const clusterFirst = Math.min(...firsts.values());
    expect(firsts.get('q2')! - firsts.get('q0')!).toBeGreaterThan(1_000_000);
    expect(firsts.get('q4')! - firsts.get('q2')!).toBeGreaterThan(1_000_000);

    // The timeline lets the page's cursor move.
    const timeline = (await getJson(`${two[0].proc.url}/pushq/timeline.json`)).json;
    expect(timeline).toMatchObject({ timeTravel: true, node: two[0].id });

    // Instants: before stage 2's queues began, exactly at q2's first event, between stages 2 and 3, near now.
    const now = (await getJson(`${two[1].proc.url}/pushq/dashboard.json`)).json as { atSeconds: number };
    const onAxis = (us: number): number => Math.round((us - clusterFirst) / 1000) / 1000; // whole ms on the cluster's axis
    const instants = [
      onAxis((clusterFirst + firsts.get('q2')!) / 2),
      (firsts.get('q2')! - clusterFirst) / 1e6,
      onAxis((firsts.get('q2')! + firsts.get('q4')!) / 2),
      // 0.2 s before now, in whole ms: computed in ms, since `x / 1000 - 0.2` is off the µs grid for some x (7.978000000000001).
      (Math.floor(now.atSeconds * 1000) - 200) / 1000,
    ];
    for (const seconds of instants) {
      const atUs = clusterFirst + Math.round(seconds * 1e6);
      const begun = ALL.filter((q) => firsts.get(q)! <= atUs);
      const answers = await Promise.all(two.map(async (n) => getJson(`${n.proc.url}/pushq/dashboard.json?at=${seconds}`)));
      for (const a of answers) {
        expect(a.status, JSON.stringify(a.json)).toBe(200);
        expect(a.json.at).toBe(seconds);
        expect(a.json.atSeconds).toBeCloseTo(seconds, 6);
        expect(a.json.queues.map((r: { name: string }) => r.name), `at ${seconds}`).toEqual(ALL.filter((q) => begun.includes(q)));
        for (const r of a.json.queues) expect(r.owner).toBe(ownerOf(r.name).id);
        expect(Object.keys(a.json.summary).sort(), `at ${seconds}`).toEqual([...begun].sort());
      }
      expect(answers[1]!.json.summary).toEqual(answers[0]!.json.summary);
      for (const q of begun) {
        const own = ownSecondsText(atUs, firsts.get(q)!);
        const replayed = await replayJson([url, '--queue', q, '--at', own]);
        expect(answers[0]!.json.summary[q], `${q} at ${seconds} (its own ${own})`).toEqual(replayed.queues[q]);
      }
    }
    // Before stage 2 only stage 1's tasks exist; between stages 2 and 3, stage 2's too.
    expect(instants.length).toBe(4);

    // The `*` task list at an instant, through each node: the tasks added by then, totals summed.
    const between = clusterFirst + Math.round(instants[2]! * 1e6);
    const expected = await addedBy(url, between);
    expect(expected).toContain('q2-t0');
    expect(expected).not.toContain('q4-t0');
    for (const n of two) {
      const all = await getJson(`${n.proc.url}/pushq/queues/*/tasks?state=all&limit=100&at=${instants[2]}`);
      expect(all.status, JSON.stringify(all.json)).toBe(200);
      expect(all.json.total).toBe(expected.length);
      expect(all.json.tasks.map((t: { name: string }) => t.name).sort()).toEqual(expected);
      expect(all.json.withoutOwner).toEqual([]);
    }

    // A story and one queue's task list through the node that does not own the queue, half a second after the late task was added.
    const owner = ownerOf('q2');
    const via = other(owner);
    const added = await rows<{ body: string }>(url, `SELECT body FROM pushq_events WHERE stream = 'queue/q2' AND body LIKE '{"type":"TaskAdded"%' AND body LIKE '%"late"%'`);
    const lateAddedUs = (JSON.parse(added[0]!.body) as { t: number }).t;
    const pendingAt = onAxis(lateAddedUs + 500_000);
    const pendingOwn = ownSecondsText(clusterFirst + Math.round(pendingAt * 1e6), firsts.get('q2')!);
    const story = await getJson(`${via.proc.url}/pushq/queues/q2/tasks/late/story?at=${pendingAt}`);
    expect(story.status, JSON.stringify(story.json)).toBe(200);
    const told = await replayJson([url, '--queue', 'q2', '--task', 'late', '--at', pendingOwn]);
    expect(story.json).toMatchObject({ queue: 'q2', task: 'late', state: told.state });
    expect(story.json.state).toBe('pending');
    expect(story.json.attempts).toHaveLength(told.attempts.length);
    const nowStory = await getJson(`${via.proc.url}/pushq/queues/q2/tasks/late/story`);
    expect(nowStory.json.state).toBe('succeeded');
    const list = await getJson(`${via.proc.url}/pushq/queues/q2/tasks?state=pending&at=${pendingAt}`);
    expect(list.status, JSON.stringify(list.json)).toBe(200);
    expect(list.json.tasks.map((t: { name: string }) => t.name)).toEqual(['late']);
    // Before q2's stream began: no such task, no such queue then (as one node before a queue's configuration).
    const early = await getJson(`${via.proc.url}/pushq/queues/q2/tasks/late/story?at=${instants[0]}`);
    expect(early.status, JSON.stringify(early.json)).toBe(404);
    expect((await getJson(`${via.proc.url}/pushq/queues/q2/tasks?at=${instants[0]}`)).status).toBe(404);

    // A bad `at`, on every read that takes it, through either node: a 400 naming `at`.
    const bad = ['x', '-1', String(now.atSeconds + 3600)];
    for (const n of two) {
      for (const v of bad) {
        for (const path of ['/pushq/dashboard.json', '/pushq/queues/*/tasks', '/pushq/queues/q2/tasks', '/pushq/queues/q2/tasks/late/story']) {
          const refused = await getJson(`${n.proc.url}${path}?at=${encodeURIComponent(v)}`);
          expect(refused.status, `${path} at=${v}`).toBe(400);
          expect(refused.json.error.message, `${path} at=${v}`).toMatch(/^at: /);
          expect(JSON.stringify(refused.json.error.details), path).toContain('"field":"at"');
        }
      }
    }
    // A shared URL with ?at= opens the page.
    expect((await fetch(`${two[1].proc.url}/?at=3`)).status).toBe(200);
  }, 120_000);
});
