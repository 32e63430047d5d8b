/**
 * Group commit of the store's log (src/store/store-log.ts): every flush asked for while one is in
 * the store shares the ONE append after it. Before this was pinned, each waiting caller chained a
 * flush of its own, so K callers queued K appends of a few events each (a node on PostgreSQL made
 * about 5 events per transaction with 64 creates in flight; 68 after). Over the real file store,
 * with its appends held at a gate so the test decides when one ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { FileStore } from '../../src/store/file-store.js';
import { StoreEventLog } from '../../src/store/store-log.js';
import { TEST_HEADER } from '../log/conformance.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const paused = (t: number): EngineEvent => ({ type: 'QueuePaused', t, queue: 'q' });

test('flushes asked for during an append share one append after it, carrying everything committed before them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-group-commit-'));
  dirs.push(dir);
  const store = new FileStore(dir);
  await store.ensureStream('s', TEST_HEADER);
  const lease = (await store.acquire('s', 'me', 60_000))!;
  // The file store's own append, held until the test opens the gate.
  const appends: number[] = [];
  let open: () => void = () => undefined;
  /** The file store's append under way since the gate last opened. */
  let stored: Promise<number> = Promise.resolve(0);
  const gated = Object.create(store) as FileStore;
  gated.append = async (stream, epoch, events) => {
    appends.push(events.length);
    await new Promise<void>((r) => (open = r));
    stored = store.append(stream, epoch, events);
    return stored;
  };
  const log = new StoreEventLog(gated, 's', TEST_HEADER, lease);

  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const settled = new Set<number>();
  const ask = (t: number): Promise<void> => {
    log.append(paused(t));
    log.commit();
    return log.flush().then(() => void settled.add(t));
  };

  const first = ask(1); // in the store now, held
  await tick();
  const second = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(ask); // wait for the first
  expect(appends).toEqual([1]);
  open();
  await first;
  await tick();
  // The ten callers' events went in one append, not ten; it is held now.
  expect(appends).toEqual([1, 10]);
  const third = [12, 13, 14, 15, 16].map(ask); // arrive during the second append
  open();
  await tick();
  await stored;
  await tick();
  // Every caller of the second group is answered once its append is in, not after more appends
  // (chained one by one, the second caller's flush would have carried the third group and held
  // the other eight callers behind it).
  expect([...settled].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  await Promise.all(second);
  expect(appends).toEqual([1, 10, 5]);
  open();
  await Promise.all(third);
  expect(appends).toEqual([1, 10, 5]);
  expect(log.stats).toEqual({ transactions: 3, events: 16 });
  expect((await store.read('s')).map((e) => e.t)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  await store.close();
});
