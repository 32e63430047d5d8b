/**
 * A cluster node's group commit on a real PostgreSQL: batches of several streams sent in one
 * transaction, each fenced by its own epoch: a deposed writer's batch writes nothing and is
 * refused (STORE_FENCED) while the others' are committed; order within a stream is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { GroupCommitStore } from '../../src/cluster/group-commit.js';
import { PgStore } from '../../src/store/pg-store.js';
import { StoreError } from '../../src/store/store.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { TEST_HEADER } from '../log/conformance.js';

const paused = (t: number, queue: string): EngineEvent => ({ type: 'QueuePaused', t, queue });

let pgc: PgCluster;
let store: PgStore;

beforeAll(async () => {
  pgc = await startPgCluster();
  store = await PgStore.open(await pgc.database());
}, 120_000);

afterAll(async () => {
  await store?.close();
  await pgc?.stop();
});

describe('GroupCommitStore', () => {
  it('sends the batches of one turn in one transaction; a fenced stream writes nothing, the others are committed', async () => {
    const a = (await store.acquire('queue/a', 'n1', 60_000))!;
    const b = (await store.acquire('queue/b', 'n1', 60_000))!;
    const c = (await store.acquire('queue/c', 'n1', 60_000))!;
    for (const s of ['queue/a', 'queue/b', 'queue/c']) await store.ensureStream(s, TEST_HEADER);
    // b's first epoch is deposed: the same owner took the stream again (a restart does).
    const b2 = (await store.acquire('queue/b', 'n1', 60_000))!;
    expect(b2.epoch).toBeGreaterThan(b.epoch);

    const commits = new GroupCommitStore(store);
    const before = store.stats.appendTransactions;
    const results = await Promise.allSettled([
      commits.append('queue/a', a.epoch, [paused(1, 'a'), paused(2, 'a')]),
      commits.append('queue/b', b.epoch, [paused(3, 'b')]),
      commits.append('queue/c', c.epoch, [paused(4, 'c')]),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 0 });
    expect(results[1]!.status).toBe('rejected');
    expect(((results[1] as PromiseRejectedResult).reason as StoreError).code).toBe('STORE_FENCED');
    expect(results[2]).toEqual({ status: 'fulfilled', value: 0 });
    expect(store.stats.appendTransactions - before).toBe(1);
    expect(commits.stats).toEqual({ transactions: 1, batches: 3 });
    expect(await store.read('queue/a')).toEqual([paused(1, 'a'), paused(2, 'a')]);
    expect(await store.read('queue/b')).toEqual([]);
    expect(await store.length('queue/b')).toBe(0);

    // The new epoch writes; appends arriving while a transaction is in flight go in the next one, in order.
    const first = commits.append('queue/b', b2.epoch, [paused(5, 'b')]);
    await new Promise((r) => setImmediate(r));
    const second = commits.append('queue/a', a.epoch, [paused(6, 'a')]);
    const third = commits.append('queue/c', c.epoch, [paused(7, 'c')]);
    expect(await Promise.all([first, second, third])).toEqual([0, 2, 1]);
    expect(commits.stats).toEqual({ transactions: 3, batches: 6 });
    expect((await store.read('queue/a')).map((e) => e.t)).toEqual([1, 2, 6]);
    expect((await store.read('queue/b')).map((e) => e.t)).toEqual([5]);
  }, 60_000);
});
