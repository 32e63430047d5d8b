/**
 * A commit whose answer is lost (the connection drops during COMMIT, which went through): the
 * store log keeps the batch as not written and sends it again, with what was committed meanwhile,
 * at the next flush. Told where the stream ends (EventStore.append's `at`), PostgreSQL recognises
 * the batch already there and writes only the rest: every event once, in order. Without `at` the
 * retry would store the batch twice, and the next owner could not fold the stream.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { PgStore } from '../../src/store/pg-store.js';
import { StoreEventLog } from '../../src/store/store-log.js';
import { StoreError, type EventStore, type Lease } from '../../src/store/store.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { TEST_HEADER } from '../log/conformance.js';

const db = pgForTheseTests();

const paused = (t: number): EngineEvent => ({ type: 'QueuePaused', t, queue: 'q' });

/** The store, whose next `lose.count` appends commit and then fail as a lost answer would. */
function losingAnswers(store: PgStore): { store: EventStore; lose: { count: number } } {
  const lose = { count: 0 };
  const append = async (stream: string, epoch: number, events: readonly EngineEvent[], at?: number): Promise<number> => {
    const position = await store.append(stream, epoch, events, at);
    if (lose.count > 0) {
      lose.count--;
      throw new StoreError('STORE_UNAVAILABLE', 'the connection was lost during COMMIT (simulated: the commit went through)');
    }
    return position;
  };
  const proxy = new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'append') return append;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, lose };
}

describe('PgStore: a commit whose answer was lost', () => {
  it('sent again by the store log (with what came after it), it is stored once', async () => {
    const pgStore = await PgStore.open(await db.pg.database());
    const { store, lose } = losingAnswers(pgStore);
    await store.ensureStream('q', TEST_HEADER);
    const lease = (await store.acquire('q', 'node', 30_000))!;
    const log = new StoreEventLog(store, 'q', TEST_HEADER, lease);
    log.durableEvents = 0;
    for (const t of [1, 2, 3]) log.append(paused(t));
    log.commit();
    lose.count = 1;
    await expect(log.flush()).rejects.toThrow(/LOG_WRITE_FAILED|cannot be written/);
    // Committed meanwhile: goes with the retry.
    for (const t of [4, 5]) log.append(paused(t));
    log.commit();
    await log.flush();
    // Twice lost in a row, then answered.
    log.append(paused(6));
    log.commit();
    lose.count = 2;
    await expect(log.flush()).rejects.toThrow();
    await expect(log.flush()).rejects.toThrow();
    await log.flush();
    expect((await store.read('q')).map((e) => e.t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.durableEvents).toBe(6);
    // A stream that ends elsewhere than the writer says is refused, and nothing is written.
    await expect(store.append('q', lease.epoch, [paused(9)], 4)).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(store.append('q', lease.epoch, [paused(9), paused(10)], 5)).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(await store.length('q')).toBe(6);
    await log.close();
    await pgStore.close();
  });
});

describe('PgStore.appendMany: one group, each batch judged on its own', () => {
  it('claims the clean batches in one statement; a repeated batch, a half-repeated one, a fenced one and a wrong end are each told apart', async () => {
    const store = await PgStore.open(await db.pg.database());
    const streams = ['a', 'b', 'c', 'd', 'e'];
    const epochs: Record<string, number> = {};
    const leases: Record<string, Lease> = {};
    for (const s of streams) {
      await store.ensureStream(s, TEST_HEADER);
      leases[s] = (await store.acquire(s, 'node', 30_000))!;
      epochs[s] = leases[s].epoch;
    }
    // Each stream holds two events already.
    for (const s of streams) await store.append(s, epochs[s]!, [paused(1), paused(2)], 0);
    // d is taken over by another writer: the first writer's epoch is stale.
    await store.release(leases['d']!);
    const taker = (await store.acquire('d', 'other', 30_000))!;
    expect(taker.epoch).not.toBe(epochs['d']);
    const results = await store.appendMany([
      { stream: 'e', epoch: epochs['e']!, events: [paused(3)], at: 2 }, // clean, with its expected end
      { stream: 'a', epoch: epochs['a']!, events: [paused(1), paused(2)], at: 0 }, // already there whole (a lost answer)
      { stream: 'b', epoch: epochs['b']!, events: [paused(2), paused(3)], at: 1 }, // half there: only the 3 is new
      { stream: 'd', epoch: epochs['d']!, events: [paused(3)] }, // fenced
      { stream: 'c', epoch: epochs['c']!, events: [paused(9)], at: 5 }, // the stream ends at 2, not 5
    ]);
    expect(results[0]).toBe(2);
    expect(results[1]).toBe(0);
    expect(results[2]).toBe(1);
    expect(results[3]).toMatchObject({ code: 'STORE_FENCED' });
    expect(results[4]).toMatchObject({ code: 'STORE_FAILED' });
    expect((await store.read('e')).map((e) => e.t)).toEqual([1, 2, 3]);
    expect((await store.read('a')).map((e) => e.t)).toEqual([1, 2]);
    expect((await store.read('b')).map((e) => e.t)).toEqual([1, 2, 3]);
    expect((await store.read('d')).map((e) => e.t)).toEqual([1, 2]);
    expect((await store.read('c')).map((e) => e.t)).toEqual([1, 2]);
    // Two clean batches and no expected end: both in, positions from each stream's end.
    const clean = await store.appendMany([
      { stream: 'c', epoch: epochs['c']!, events: [paused(3), paused(4)] },
      { stream: 'a', epoch: epochs['a']!, events: [paused(3)] },
    ]);
    expect(clean).toEqual([2, 2]);
    expect((await store.read('c')).map((e) => e.t)).toEqual([1, 2, 3, 4]);
    await store.close();
  });
});
