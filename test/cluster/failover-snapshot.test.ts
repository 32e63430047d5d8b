/**
 * Takeover from a fold snapshot (src/server/stream-snapshots.ts), on the real PostgreSQL: two
 * nodes, a snapshot every 300 events (PUSHQ_SNAPSHOT_EVERY_EVENTS), a worker that fails some first
 * attempts and always fails the `stuck` tasks (in backoff at the takeover). Once the owner of q0 has
 * stored snapshots, it is killed (-9) under load: the other node restores the latest snapshot and
 * replays only the events after it (its line says how many, from which position, fewer than the
 * stream holds); every acknowledged task is delivered; retry counts continue from what the log holds; the
 * stuck tasks' counts and attempt history read through the API go on from where they were.
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, count, createTasks, expectRetryCountsFromTheLog, ownedBy, queueYaml, rows, spread, startNodes, waitUntil, writeQueueYaml } from './cluster-harness.js';

const SNAPSHOT_EVERY = 300;
// The nodes are child processes of this one: they read it from their environment.
process.env['PUSHQ_SNAPSHOT_EVERY_EVENTS'] = String(SNAPSHOT_EVERY);

const fx = clusterFixture('pushq-cluster-snapshot-');
const { nodes, workers } = fx;

describe('pushq serve --cluster: takeover from a snapshot', () => {
  it('the new owner restores the latest snapshot and folds only the events after it; nothing acknowledged is lost, counts continue', async () => {
    const url = await fx.pg.database();
    const w = await startWorker((r, n) => (r.url.includes('/stuck') ? 500 : n === 0 && r.url.endsWith('7') ? 500 : { status: 200, delayMs: 5 }));
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(1, 300, 30, 30));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    await waitUntil('the queues spread over the 2 nodes', () => spread(nodes, 2), 20_000);
    const owner = (await ownedBy(nodes[0]!)).includes('q0') ? nodes[0]! : nodes[1]!;
    const survivor = nodes.find((n) => n !== owner)!;

    const stuck = Array.from({ length: 4 }, (_, i) => ({ name: `stuck${i}`, queue: 'q0' }));
    const first = Array.from({ length: 900 }, (_, i) => ({ name: `k${i}`, queue: 'q0' }));
    const before = await createTasks(() => nodes, [...stuck, ...first], 16, 60_000);
    expect(before.unanswered).toEqual([]);
    const delivered = (names: readonly string[]): boolean => {
      const ok = new Set(w.received.filter((r) => r.answered === 200).map((r) => r.url.slice(r.url.lastIndexOf('/') + 1)));
      return names.every((n) => ok.has(n));
    };
    await w.waitFor(() => delivered(first.map((t) => t.name)), 30_000, 'the first tasks delivered');
    const snapshotAt = async (): Promise<number> => (await rows<{ position: string }>(url, `SELECT position FROM pushq_snapshots WHERE stream = 'queue/q0'`)).map((r) => Number(r.position))[0] ?? 0;
    await waitUntil('a snapshot of q0 past its first tasks', async () => (await snapshotAt()) >= 2 * first.length, 20_000);
    const storedBefore = await snapshotAt();

    // More tasks while the owner is killed.
    const alive = new Set(nodes);
    const second = Array.from({ length: 400 }, (_, i) => ({ name: `m${i}`, queue: 'q0' }));
    let killedAt = 0;
    const killer = (async () => {
      await waitUntil('some of the second tasks delivered', () => w.received.some((r) => r.url.includes('/m1')), 30_000);
      alive.delete(owner);
      killedAt = Date.now();
      owner.proc.child.kill('SIGKILL');
    })();
    const after = await createTasks(() => [...alive], second, 8, 60_000);
    await killer;
    expect(after.unanswered).toEqual([]);

    // The survivor took q0 from the snapshot: position P > 0, and the T events after it, fewer than P.
    const story = (): string => nodes.map((n) => `${n.id}:\n${n.lines.map((l) => `  ${l.atMs - killedAt} ${l.text}`).join('\n')}\n${n.proc.stderr()}`).join('\n');
    await waitUntil('the survivor owns q0', () => survivor.lines.some((l) => l.atMs > killedAt && l.text.includes('owns queue q0 ')), 20_000);
    const line = survivor.lines.find((l) => l.atMs > killedAt && l.text.includes('queue q0: replayed'))?.text ?? '';
    const m = /queue q0: replayed (\d+) events? from position (\d+) \(after its snapshot\)/.exec(line);
    expect(m, story()).not.toBeNull();
    const [tail, from] = [Number(m![1]), Number(m![2])];
    expect(from).toBeGreaterThanOrEqual(storedBefore);
    expect(tail).toBeLessThan(from);
    // Everything the dead owner wrote is in the stream: the survivor folded all of it, in two parts.
    const streamAtTakeover = from + tail;
    expect(await count(url, `SELECT count(*) AS n FROM pushq_events WHERE stream = 'queue/q0'`)).toBeGreaterThanOrEqual(streamAtTakeover);
    expect(survivor.proc.stderr()).not.toMatch(/snapshot .* is not used/);

    // Every acknowledged task delivered.
    await w.waitFor(() => delivered([...before.acknowledged.filter((n) => !n.startsWith('stuck')), ...after.acknowledged]), 30_000, 'every acknowledged task delivered');

    // Retry counts continue from what the log holds (the helper says what that allows at a kill).
    expect(await expectRetryCountsFromTheLog(url, w.received, killedAt)).toBeGreaterThan(0);

    // The stuck tasks: their counts went on past the takeover, and the API (state and attempt
    // history, both restored from the snapshot) shows them continuing.
    await waitUntil('stuck tasks retried by the new owner', () => w.received.some((r) => r.url.includes('/stuck') && r.atMs > killedAt + 500), 20_000);
    // (Their retry counts after the kill were checked above with every task's.)
    const logged = await rows<{ body: string }>(url, `SELECT body FROM pushq_events WHERE stream = 'queue/q0' AND (body LIKE '{"type":"TaskAdded"%' OR body LIKE '{"type":"AttemptDispatched"%') ORDER BY position`);
    const idOf = new Map<string, number>();
    const storedBeforeKill = new Map<number, number>();
    for (const { body } of logged) {
      const e = JSON.parse(body) as { type: string; t: number; id: number; options?: { name?: string } };
      if (e.type === 'TaskAdded') idOf.set(e.options?.name ?? `task${e.id}`, e.id);
      else if (e.t < killedAt * 1000) storedBeforeKill.set(e.id, (storedBeforeKill.get(e.id) ?? 0) + 1);
    }
    for (const t of stuck) {
      const seen = w.received.filter((r) => r.url.endsWith(`/${t.name}`));
      const beforeKill = seen.filter((r) => r.atMs < killedAt);
      expect(beforeKill.length, t.name).toBeGreaterThan(1);
      const res = await fetch(`${survivor.api}/q0/tasks/${t.name}`);
      const task = (await res.json()) as { dispatchCount: number; firstAttempt?: { dispatchTime: string }; lastAttempt?: { dispatchTime: string } };
      expect(res.status).toBe(200);
      // The count goes on from the attempts the dead owner had stored (some it sent may not have been).
      const stored = storedBeforeKill.get(idOf.get(t.name) as number) ?? 0;
      expect(stored, t.name).toBeGreaterThan(0);
      expect(task.dispatchCount, t.name).toBeGreaterThanOrEqual(stored);
      // The first attempt was the old owner's, before the snapshot: its time came with the restored state.
      expect(Date.parse(task.firstAttempt!.dispatchTime)).toBeLessThanOrEqual(beforeKill[0]!.atMs);
      expect(task.lastAttempt).toBeDefined();
    }
  }, 180_000);
});
