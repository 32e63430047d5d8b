/**
 * One conformance suite for every EventStore (src/store): the file store and PostgreSQL (a real
 * server: the throwaway cluster of test/helpers/pg-cluster.ts, or PUSHQ_TEST_PG_URL). What nodes
 * rely on: dense positions, whole batches, fencing by epoch (a deposed writer commits nothing),
 * snapshots fenced the same way, leases on the store's clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { FileStore } from '../../src/store/file-store.js';
import { PgStore } from '../../src/store/pg-store.js';
import { StoreError, type EventStore } from '../../src/store/store.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { TEST_HEADER } from './conformance.js';
import { richSimulation } from '../helpers/rich-sim.js';

const paused = (t: number, queue: string): EngineEvent => ({ type: 'QueuePaused', t, queue });
const range = (from: number, n: number, queue = 'q'): EngineEvent[] => Array.from({ length: n }, (_, i) => paused(from + i, queue));

async function fenced(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return (err as StoreError).code;
  }
  throw new Error('expected the store to refuse');
}

function storeConformance(name: string, open: () => Promise<{ store: EventStore; reopen: () => Promise<EventStore> }>): void {
  describe(`EventStore conformance: ${name}`, () => {
    test('an appended batch is read back whole, at dense positions, after a reopen', async () => {
      const { store, reopen } = await open();
      await store.ensureStream('q', TEST_HEADER);
      const lease = await store.acquire('q', 'node-a', 10_000);
      expect(lease?.epoch).toBe(1);
      expect(await store.append('q', 1, range(1, 3))).toBe(0);
      expect(await store.append('q', 1, range(4, 2))).toBe(3);
      expect(await store.length('q')).toBe(5);
      expect(await store.read('q', 3)).toEqual(range(4, 2));
      await store.close();
      const again = await reopen();
      expect(await again.header('q')).toEqual(TEST_HEADER);
      expect(await again.read('q')).toEqual(range(1, 5));
      expect(await again.length('q')).toBe(5);
      expect(await again.streams()).toEqual(['q']);
      await again.close();
    });

    test('a log longer than a read page (PgStore reads 20,000 events per statement) reads back whole and in order, from the start and from within', async () => {
      const { store } = await open();
      await store.ensureStream('long', TEST_HEADER);
      const lease = await store.acquire('long', 'node-a', 10_000);
      const events = range(1, 45_001, 'long');
      for (let at = 0; at < events.length; at += 10_000) await store.append('long', lease!.epoch, events.slice(at, at + 10_000), at);
      const all = await store.read('long');
      expect(all.length).toBe(45_001);
      expect(all).toEqual(events);
      expect(await store.read('long', 19_999)).toEqual(events.slice(19_999));
      expect(await store.read('long', 40_000)).toEqual(events.slice(40_000));
      expect(await store.read('long', 45_001)).toEqual([]);
      await store.close();
    });

    test('an append told where the stream ends: taken there; told another end, refused (STORE_FAILED) and nothing written', async () => {
      const { store } = await open();
      await store.ensureStream('at', TEST_HEADER);
      const lease = await store.acquire('at', 'node-a', 10_000);
      expect(await store.append('at', lease!.epoch, range(1, 3), 0)).toBe(0);
      expect(await store.append('at', lease!.epoch, range(4, 2), 3)).toBe(3);
      expect(await fenced(store.append('at', lease!.epoch, range(10, 2), 2))).toBe('STORE_FAILED');
      expect(await fenced(store.append('at', lease!.epoch, range(10, 2), 9))).toBe('STORE_FAILED');
      expect(await store.read('at')).toEqual(range(1, 5));
      await store.close();
    });

    test('every event type round-trips (the events of a rich simulation)', async () => {
      const events = richSimulation(7).events;
      const { store } = await open();
      await store.ensureStream('rich', TEST_HEADER);
      const lease = await store.acquire('rich', 'n', 10_000);
      await store.append('rich', lease!.epoch, events);
      expect(await store.read('rich')).toEqual(events);
      await store.close();
    });

    test('a deposed owner\'s append fails and commits nothing; the new owner goes on at the same position', async () => {
      const { store } = await open();
      await store.ensureStream('q', TEST_HEADER);
      const a = (await store.acquire('q', 'node-a', 50))!;
      await store.append('q', a.epoch, range(1, 2));
      await new Promise((r) => setTimeout(r, 80)); // a's lease runs out
      const b = (await store.acquire('q', 'node-b', 10_000))!;
      expect(b.epoch).toBe(a.epoch + 1);
      expect(await fenced(store.append('q', a.epoch, range(10, 3)))).toBe('STORE_FENCED');
      expect(await fenced(store.putSnapshot('q', a.epoch, 2, Buffer.from('old')))).toBe('STORE_FENCED');
      expect(await store.renew(a, 10_000)).toBeNull();
      expect(await store.length('q')).toBe(2);
      expect(await store.append('q', b.epoch, range(3, 1))).toBe(2);
      expect(await store.read('q')).toEqual(range(1, 3));
      await store.close();
    });

    test('a lease held by another owner is not taken before it runs out; renewal extends it on the store\'s clock', async () => {
      const { store } = await open();
      await store.ensureStream('q', TEST_HEADER);
      const before = await store.now();
      const a = (await store.acquire('q', 'node-a', 400))!;
      expect(a.expiresAtMs).toBeGreaterThanOrEqual(before + 400 - 5);
      expect(await store.acquire('q', 'node-b', 400)).toBeNull();
      // The refused node can say whose the lease is and how long it still runs, without taking it.
      const holder = (await store.leaseHolder('q'))!;
      expect(holder.owner).toBe('node-a');
      expect(holder.expiresAtMs).toBe(a.expiresAtMs);
      expect(holder.expiresAtMs - holder.nowMs).toBeGreaterThan(0);
      expect(holder.expiresAtMs - holder.nowMs).toBeLessThanOrEqual(400);
      expect((await store.leaseHolder('q'))!.owner).toBe('node-a');
      const renewed = (await store.renew(a, 1000))!;
      expect(renewed.epoch).toBe(a.epoch);
      expect(renewed.expiresAtMs).toBeGreaterThan(a.expiresAtMs);
      await new Promise((r) => setTimeout(r, 500)); // past the first lifetime, inside the renewed one
      expect(await store.acquire('q', 'node-b', 400)).toBeNull();
      await store.release(renewed);
      expect(await store.leaseHolder('q')).toBeNull();
      const b = (await store.acquire('q', 'node-b', 400))!;
      expect(b.epoch).toBe(a.epoch + 1);
      // The same owner taking its stream again (a restarted node) moves the epoch on too.
      const b2 = (await store.acquire('q', 'node-b', 400))!;
      expect(b2.epoch).toBe(b.epoch + 1);
      expect(await fenced(store.append('q', b.epoch, range(1, 1)))).toBe('STORE_FENCED');
      await store.close();
    });

    test('snapshots: the latest position, by the current epoch', async () => {
      const { store } = await open();
      await store.ensureStream('q', TEST_HEADER);
      expect(await store.getSnapshot('q')).toBeNull();
      const a = (await store.acquire('q', 'n', 10_000))!;
      await store.append('q', a.epoch, range(1, 4));
      await store.putSnapshot('q', a.epoch, 2, Buffer.from([1, 2, 3]));
      await store.putSnapshot('q', a.epoch, 4, Buffer.from([4, 5]));
      expect(await store.getSnapshot('q')).toEqual({ position: 4, epoch: a.epoch, bytes: Buffer.from([4, 5]) });
      // One at an earlier position does not replace it, and is not an error.
      await store.putSnapshot('q', a.epoch, 3, Buffer.from([6]));
      expect(await store.getSnapshot('q')).toEqual({ position: 4, epoch: a.epoch, bytes: Buffer.from([4, 5]) });
      await store.close();
    });

    test('two writers racing on one stream: only the current epoch\'s batches are in the log, none torn', async () => {
      const { store } = await open();
      await store.ensureStream('q', TEST_HEADER);
      let lease = (await store.acquire('q', 'n0', 10_000))!;
      const written: number[] = [];
      const refusals: string[] = [];
      const appends: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        const epoch = lease.epoch;
        appends.push(
          store.append('q', epoch, range(i * 10, 5, `e${epoch}`)).then(
            () => void written.push(i),
            (err: StoreError) => void refusals.push(err.code),
          ),
        );
        if (i % 10 === 9) {
          // Hand the stream over while appends of the old epoch are still on their way.
          await store.release(lease);
          lease = (await store.acquire('q', `n${i}`, 10_000))!;
        }
      }
      await Promise.all(appends);
      expect(new Set(refusals)).toEqual(new Set(refusals.length === 0 ? [] : ['STORE_FENCED']));
      expect(written.length + refusals.length).toBe(40);
      const events = await store.read('q');
      expect(events.length).toBe(written.length * 5);
      for (let i = 0; i < events.length; i += 5) {
        const batch = events.slice(i, i + 5);
        expect(new Set(batch.map((e) => (e as { queue: string }).queue)).size).toBe(1);
      }
      await store.close();
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeConformance('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-store-'));
  dirs.push(dir);
  return { store: new FileStore(dir), reopen: async () => new FileStore(dir) };
});

const db = pgForTheseTests();

storeConformance('PostgreSQL', async () => {
  const url = await db.pg.database();
  return { store: await PgStore.open(url), reopen: () => PgStore.open(url) };
});
