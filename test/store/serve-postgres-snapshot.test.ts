/**
 * `pushq serve --store postgres://...` (one node) restarts from its stream's fold snapshot
 * (src/server/stream-snapshots.ts, docs/cluster.md "Snapshots"): with a snapshot every 200 events
 * (PUSHQ_SNAPSHOT_EVERY_EVENTS), after kill -9 the restart restores the latest snapshot and folds
 * only the events after it (its startup line says how many and from which position); names of
 * delivered tasks are still taken (tombstones came with the snapshot); new tasks are delivered. A
 * clean stop (SIGTERM) writes a last snapshot of everything: the start after it folds nothing.
 */
import { describe, expect, it } from 'vitest';
import { rows } from '../cluster/cluster-harness.js';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { createWork, SHORT_LEASE, nodeLeaseRunOut, serveStoreFixture } from './serve-store-fixture.js';

/** The servers' environment: the short lease, and a snapshot every 200 events (each server reads it from its own environment, not this process's, which other files may share). */
const SNAPSHOT_EVERY_200 = { env: { ...SHORT_LEASE.env, PUSHQ_SNAPSHOT_EVERY_EVENTS: '200' } };

const QUEUE_YAML = `
queue:
- name: work
  rate: 300/s
  bucket_size: 30
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.2
`;

const fx = serveStoreFixture('pushq-pgserve-snap-', QUEUE_YAML);
const { workers, children } = fx;
const create = createWork;

describe('pushq serve --store postgres:// with snapshots', () => {
  it('a restart after kill -9 restores the latest snapshot and folds only the events after it', async () => {
    const url = await fx.pg.database();
    const w = await startWorker((r, n) => (n === 0 && r.url.endsWith('7') ? 500 : { status: 200, delayMs: 5 }));
    workers.push(w);
    const args = ['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`];
    const first = await startServe(args, 60_000, undefined, SNAPSHOT_EVERY_200);
    children.push(first);
    const names = Array.from({ length: 300 }, (_, i) => `k${i}`);
    for (let i = 0; i < names.length; i += 10) {
      const statuses = await Promise.all(names.slice(i, i + 10).map((n) => create(first.api, n)));
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
    const delivered = (name: string): boolean => w.received.some((r) => r.url === `/k/${name}` && r.answered === 200);
    await w.waitFor(() => names.every(delivered), 30_000, 'the first tasks delivered');
    const snapshotAt = async (): Promise<number> => Number((await rows<{ position: string }>(url, `SELECT position FROM pushq_snapshots WHERE stream = '~node'`))[0]?.position ?? 0);
    const end = Date.now() + 20_000;
    while ((await snapshotAt()) < 600 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const stored = await snapshotAt();
    expect(stored).toBeGreaterThanOrEqual(600);
    // A few more events after it, then the crash.
    for (const n of ['late0', 'late1', 'late2']) expect(await create(first.api, n)).toBe(200);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await nodeLeaseRunOut(url);

    const second = await startServe(args, 60_000, undefined, SNAPSHOT_EVERY_200);
    children.push(second);
    const m = /replayed (\d+) events?, \d+ interrupted attempts? to retry, after its snapshot at position (\d+)\)/.exec(second.stdout());
    expect(m, second.stdout() + second.stderr()).not.toBeNull();
    const [tail, from] = [Number(m![1]), Number(m![2])];
    expect(from).toBeGreaterThanOrEqual(stored);
    expect(tail).toBeGreaterThan(0);
    expect(tail).toBeLessThan(from);
    expect(second.stderr()).not.toMatch(/is not used/);
    // The names of delivered tasks are still taken: their tombstones came with the snapshot.
    for (const n of ['k0', 'k150', 'k299']) expect(await create(second.api, n), n).toBe(409);
    for (const n of ['after0', 'after1']) expect(await create(second.api, n)).toBe(200);
    await w.waitFor(() => ['late0', 'late1', 'late2', 'after0', 'after1'].every(delivered), 30_000, 'the tasks around the restart delivered');
    // A clean stop leaves a snapshot of everything: the next start folds nothing.
    const before = await snapshotAt();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const length = Number((await rows<{ next_position: string }>(url, `SELECT next_position FROM pushq_streams WHERE stream = '~node'`))[0]!.next_position);
    expect(await snapshotAt()).toBe(length);
    expect(length).toBeGreaterThan(before);
    const third = await startServe(args, 60_000, undefined, SNAPSHOT_EVERY_200);
    children.push(third);
    expect(third.stdout()).toContain(`(replayed 0 events, 0 interrupted attempts to retry, after its snapshot at position ${length})`);
    for (const n of ['after0', 'k7']) expect(await create(third.api, n), n).toBe(409);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 180_000);
});
