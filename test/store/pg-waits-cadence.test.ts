/**
 * When LockWaits (src/store/pg-waits.ts) looks a store's sessions up: only for a statement that has
 * run past its first-look delay. A busy service whose statements each take a moment, but overlap
 * so that some statement is always running, has nothing to look up; each lookup is a connection
 * of its own to the store (pg_locks, pg_stat_activity), so one a second, for as long as the load
 * lasts, would be a steady cost on the store for nothing. No PostgreSQL here: the "store" is a TCP
 * listener that counts the lookups' connections and closes them.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockWaits } from '../../src/store/pg-waits.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('LockWaits looks only at statements that ran long', () => {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.destroy();
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `postgres://pushq:secret@127.0.0.1:${(server.address() as AddressInfo).port}/pushq`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A LockWaits that knows one backend pid (as a pool's connection would make it). */
  function watching(): LockWaits {
    const waits = new LockWaits(url, { statementTimeoutMs: 30_000 });
    const pool = new EventEmitter();
    waits.watch(pool as unknown as pg.Pool);
    pool.emit('connect', { processID: 4242 });
    return waits;
  }

  it('statements of 200 ms back to back, overlapping, for 3.5 s: no lookup', async () => {
    const waits = watching();
    const ends = Date.now() + 3500;
    const lane = async (): Promise<void> => {
      while (Date.now() < ends) await waits.around(() => sleep(200));
    };
    const second = (async () => {
      await sleep(100);
      await lane();
    })();
    await Promise.all([lane(), second]);
    await sleep(100);
    expect(connections).toBe(0);
  }, 10_000);

  it('a statement that runs past the first look is looked at (the store is asked)', async () => {
    const waits = watching();
    const before = connections;
    await waits.around(() => sleep(1500));
    await sleep(100);
    expect(connections).toBeGreaterThan(before);
  }, 10_000);
});
