/**
 * OwnedQueue.take with snapshots, in process, on the real PostgreSQL (src/server/stream-snapshots.ts):
 * - an owner that took a queue from a snapshot ends, once stopped, exactly where a full fold of the
 *   stream ends: its live engine state and every read model, compared deeply;
 * - a snapshot refused for its epoch (deposed) changes nothing and stops the writer;
 * - a snapshot that does not decode is set aside with a warning and the whole stream is replayed;
 * - each owner's start is logged first, a ServiceStarted naming its node, after the stream's last event.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OwnedQueue } from '../../src/cluster/owned-queue.js';
import type { EngineEvent } from '../../src/core/events.js';
import type { LogHeader } from '../../src/log/event-log.js';
import { fold } from '../../src/projections/fold.js';
import { newReadModels, projectionsOf } from '../../src/server/read-models.js';
import { PgStore } from '../../src/store/pg-store.js';
import { queueStream } from '../../src/store/store.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { dump } from '../helpers/fold-dump.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { rows } from './cluster-harness.js';

let pg: PgCluster;
let url: string;
let store: PgStore;
let leases: PgStore;
const STREAM = queueStream('default');
const config = fileConfig(pushQueue('default', 20));
let header: LogHeader;

beforeAll(async () => {
  pg = await startPgCluster();
  url = await pg.database();
  store = await PgStore.open(url);
  leases = await PgStore.open(url, { connections: 2 });
  // A run of every event type, its events in one stream (a queue's stream holds its queue's events
  // only in a real cluster; the fold does not mind).
  const sim = richSimulation(8, undefined, 5);
  const events = [...(sim.kernel.log as unknown as Iterable<EngineEvent>)];
  header = { ...sim.kernel.log.header, clock: 'wall' };
  await store.ensureStream(STREAM, header);
  const w = (await store.acquire(STREAM, 'writer', 60_000))!;
  for (let i = 0; i < events.length; i += 500) await store.append(STREAM, w.epoch, events.slice(i, i + 500));
  await store.release(w);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await leases?.close();
  await pg?.stop();
});

function take(node: string, onLost: (queue: string, why: string) => void = () => undefined, snapshotEveryEvents?: number): Promise<OwnedQueue | null> {
  // No target URL: attempts fail at once (events, not exceptions), so the queue keeps moving.
  return OwnedQueue.take({ store, leases, node, queue: 'default', config, header, leaseMs: 10_000, service: { targets: { default: { scaling: 'automatic' } } }, onLost, ...(snapshotEveryEvents === undefined ? {} : { snapshotEveryEvents }) });
}

async function createThrough(owned: OwnedQueue, names: string[]): Promise<void> {
  for (const name of names) {
    const res = await fetch(`${owned.url}/v2/projects/p/locations/l/queues/default/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/default/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/${name}` } } }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
}

async function fullFold(): Promise<unknown> {
  const models = newReadModels();
  const f = fold(await store.read(STREAM), projectionsOf(models), { misfit: 'assert' });
  return dump({ state: f.state, models });
}

describe('taking a queue from a snapshot (in process, PostgreSQL)', () => {
  it('the owner restored from a snapshot ends where a full fold of the stream ends, state and read models', async () => {
    const a = (await take('a'))!;
    expect(a.replayedFrom).toBe(0);
    expect(await a.snapshots.maybeWrite(true)).toBe(true);
    const stored = (await store.getSnapshot(STREAM))!;
    expect(stored.position).toBeGreaterThan(1000);
    // Events after the snapshot (too few for a last one at the release): tasks created through the
    // owner's API, dispatched, failed, retried.
    await createThrough(a, Array.from({ length: 20 }, (_, i) => `after-${i}`));
    await new Promise((r) => setTimeout(r, 300));
    await a.release(0);
    expect(a.snapshots.written).toBe(1);

    const b = (await take('b'))!;
    expect(b.replayedFrom).toBe(stored.position);
    expect(b.replayedEvents).toBeGreaterThanOrEqual(20);
    expect(b.replayedEvents).toBeLessThan(stored.position);
    await new Promise((r) => setTimeout(r, 300)); // it dispatches (and fails) on from there
    await b.release(0);
    expect(dump({ state: b.service.kernel.state, models: b.service.models })).toEqual(await fullFold());
  });

  it("each owner's start is logged first: a ServiceStarted naming its node, from the stream's last event", async () => {
    const before = await store.read(STREAM);
    const h = (await take('h'))!;
    await h.release(0);
    const after = await store.read(STREAM);
    const started = after[before.length] as EngineEvent;
    expect(started).toEqual({ type: 'ServiceStarted', t: started.t, stoppedAfter: (before[before.length - 1] as EngineEvent).t, node: 'h' });
    expect(started.t).toBeGreaterThanOrEqual((before[before.length - 1] as EngineEvent).t);
  });

  it('a clean release writes a last snapshot: the next owner folds nothing', async () => {
    const f = (await take('f', undefined, 300))!;
    await createThrough(f, ['release-0', 'release-1']);
    await new Promise((r) => setTimeout(r, 300));
    await f.release(0);
    const stored = (await store.getSnapshot(STREAM))!;
    expect(stored.position).toBe(await store.length(STREAM));
    const g = (await take('g'))!;
    expect(g.replayedFrom).toBe(stored.position);
    expect(g.replayedEvents).toBe(0);
    await g.release(0);
    expect(dump({ state: g.service.kernel.state, models: g.service.models })).toEqual(await fullFold());
  });

  it('a snapshot refused for its epoch changes nothing and stops the writer', async () => {
    const lost: string[] = [];
    const c = (await take('c', (_, why) => lost.push(why)))!;
    const before = (await store.getSnapshot(STREAM))!;
    // Another acquire (the same node again, as after a restart) moves the epoch on: c is deposed.
    const next = (await leases.acquire(STREAM, 'c', 10_000))!;
    expect(next.epoch).toBeGreaterThan(c.epoch);
    await new Promise((r) => setTimeout(r, 50));
    expect(await c.snapshots.maybeWrite(true)).toBe(false);
    expect(await store.getSnapshot(STREAM)).toEqual(before);
    expect(await c.snapshots.maybeWrite(true)).toBe(false);
    expect(c.snapshots.written).toBe(0);
    await c.release(0);
    await leases.release(next);
  });

  it('a snapshot that does not decode is set aside with a warning; the whole stream is replayed', async () => {
    const stored = (await store.getSnapshot(STREAM))!;
    const torn = stored.bytes.subarray(0, stored.bytes.length - 100);
    const w = (await store.acquire(STREAM, 'vandal', 10_000))!;
    await rows(url, 'UPDATE pushq_snapshots SET body = $1 WHERE stream = $2', [torn, STREAM]);
    await store.release(w);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let d: OwnedQueue;
    let warned: string;
    try {
      d = (await take('d'))!;
    } finally {
      warned = stderr.mock.calls.map((c) => String(c[0])).join('');
      stderr.mockRestore();
    }
    expect(warned).toMatch(/its snapshot \(position \d+, epoch \d+\) is not used, the whole stream is replayed: .*\(SNAPSHOT_UNREADABLE\)/);
    expect(d.replayedFrom).toBe(0);
    // Every event of the stream but the one d's start added after the replay: its ServiceStarted.
    expect(d.replayedEvents).toBe((await store.length(STREAM)) - 1);
    // It writes a good one of its own.
    expect(await d.snapshots.maybeWrite(true)).toBe(true);
    await d.release(0);
    expect(dump({ state: d.service.kernel.state, models: d.service.models })).toEqual(await fullFold());
    const e = (await take('e'))!;
    expect(e.replayedFrom).toBeGreaterThan(0);
    await e.release(0);
  });
});
