/**
 * The file log when its disk fills (ENOSPC) or fails (EIO), through the writer's file-I/O seam
 * (src/log/file-io.ts) over a real file: a flush rejects with LOG_WRITE_FAILED naming the cause,
 * nothing committed is lost from memory, and once the disk takes writes again a flush writes
 * (and, after a failed fdatasync, rewrites) everything, so the file ends up exactly as it would
 * have without the fault.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { createFileEventLog, readEventLogFile } from '../../src/log/file-log.js';
import { LogError } from '../../src/log/log-errors.js';
import { FaultyIo } from '../helpers/faulty-io.js';
import { TEST_HEADER } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-file-log-faults-'));
let n = 0;
const fresh = (): string => join(dir, `log-${n++}.jsonl`);
const paused = (t: number, queue = 'q'): EngineEvent => ({ type: 'QueuePaused', t, queue });

async function rejection(p: Promise<unknown>): Promise<LogError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LogError) return err;
    throw err;
  }
  throw new Error('expected the flush to reject');
}

async function queuesOnFile(path: string): Promise<string[]> {
  const r = await readEventLogFile(path);
  expect(r.recovered.droppedBytes).toBe(0);
  return r.events.map((e) => (e as { queue: string }).queue);
}

test('a full disk: the flush rejects naming ENOSPC, nothing is lost, and the next flush after space frees writes it all once', async () => {
  const io = new FaultyIo();
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { io });
  log.append(paused(1, 'before'));
  log.commit();
  await log.flush();
  expect(log.writeFailure()).toBeNull();

  io.writeFails = 'ENOSPC';
  io.partialBytes = 7; // the disk fills part way through the write
  log.append(paused(2, 'during-1'));
  log.commit();
  const err = await rejection(log.flush());
  expect(err.code).toBe('LOG_WRITE_FAILED');
  expect(err.message).toContain('ENOSPC');
  expect(err.message).toContain(path);
  expect(log.writeFailure()?.message).toBe(err.message);
  // More batches while the disk is full: every flush keeps failing, none is lost.
  log.append(paused(3, 'during-2'));
  log.commit();
  expect((await rejection(log.flush())).code).toBe('LOG_WRITE_FAILED');
  expect(log.writeFailure()).not.toBeNull();

  io.writeFails = null;
  await log.flush();
  expect(log.writeFailure()).toBeNull();
  log.append(paused(4, 'after'));
  log.commit();
  await log.close();
  // The partial write was written again from the same offset: the file is exact, no duplicate.
  expect(await queuesOnFile(path)).toEqual(['before', 'during-1', 'during-2', 'after']);
});

test('an fdatasync that fails (EIO): the unsynced bytes are written again at the same offsets before the next sync', async () => {
  const io = new FaultyIo();
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { io });
  log.append(paused(1, 'a'));
  log.commit();
  await log.flush();
  const syncedEnd = log.position().offset;

  io.syncFails = 'EIO';
  log.append(paused(2, 'b'));
  log.commit();
  const writesBefore = io.writes.length;
  const err = await rejection(log.flush());
  expect(err.code).toBe('LOG_WRITE_FAILED');
  expect(err.message).toMatch(/fdatasync failed: EIO/);
  const failedWrite = io.writes[writesBefore];
  expect(failedWrite?.position).toBe(syncedEnd);

  io.syncFails = null;
  await log.flush();
  expect(log.writeFailure()).toBeNull();
  // The batch after the last good sync was written again, from the synced offset, then synced.
  expect(io.writes).toHaveLength(writesBefore + 2);
  const rewrite = io.writes[writesBefore + 1];
  expect(rewrite).toEqual({ position: syncedEnd, length: (failedWrite as { length: number }).length });
  await log.close();
  expect(await queuesOnFile(path)).toEqual(['a', 'b']);
});

test('a flush waiting behind a sync that fails gets a sync of its own, which writes again first', async () => {
  const io = new FaultyIo();
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { io });
  io.syncFails = 'EIO';
  log.append(paused(1, 'a'));
  log.commit();
  const first = log.flush(); // its sync will fail
  log.append(paused(2, 'b'));
  log.commit();
  const second = log.flush(); // waits for the next sync
  const firstErr = rejection(first);
  io.syncFails = null; // the disk is back before the second sync starts
  expect((await firstErr).code).toBe('LOG_WRITE_FAILED');
  await second;
  expect(log.writeFailure()).toBeNull();
  await log.close();
  expect(await queuesOnFile(path)).toEqual(['a', 'b']);
});

test('commit never throws for IO: a 1 MiB batch that cannot be written stays in memory until a flush can write it', async () => {
  const io = new FaultyIo();
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { io, durable: false });
  io.writeFails = 'EIO';
  const big = 'x'.repeat(60_000);
  for (let i = 0; i < 20; i++) {
    log.append(paused(i, `${big}${i}`));
    expect(() => log.commit()).not.toThrow();
  }
  expect(log.writeFailure()?.message).toMatch(/write failed: EIO/);
  io.writeFails = null;
  await log.flush();
  expect(log.writeFailure()).toBeNull();
  await log.close();
  expect((await queuesOnFile(path)).map((q) => q.slice(big.length))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
});

test('close while the disk fails: the file is closed, the error is thrown, and what was synced is intact', async () => {
  const io = new FaultyIo();
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { io });
  log.append(paused(1, 'kept'));
  log.commit();
  await log.flush();
  io.writeFails = 'ENOSPC';
  log.append(paused(2, 'never acknowledged'));
  log.commit();
  expect((await rejection(log.close())).code).toBe('LOG_WRITE_FAILED');
  expect(() => log.append(paused(3))).toThrow(/append after close/);
  expect(await queuesOnFile(path)).toEqual(['kept']);
  expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
});
