/**
 * A `pushq serve` start that fails because the log's disk is full (ENOSPC on the first events it
 * appends: the configuration, the attempts a crash interrupted) leaves the data directory as
 * docs/serve.md says: a first start leaves it as it was (no events.log, no lock, no directory it
 * made); a restart keeps the log (what it could not write was never acknowledged: at most a torn
 * tail) and releases the lock, so the next start opens it without a takeover. The failing close
 * used to skip both: the log and the lock stayed behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { FaultyIo } from '../helpers/faulty-io.js';

const root = mkdtempSync(join(tmpdir(), 'pushq-start-disk-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = parseQueueConfig('queue:\n- name: q\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
const start = (data: Awaited<ReturnType<typeof openDataDir>>, config_ = config) =>
  PushqService.start({ config: config_, targets: { default: { scaling: 'automatic', url: 'http://127.0.0.1:9' } }, log: data.log, dataLock: data.lock, replayed: data.events, grpcPort: null });

test('a first start on a full disk fails and leaves no data directory behind', async () => {
  const dir = join(root, 'fresh', 'data');
  const io = new FaultyIo();
  io.writeFails = 'ENOSPC';
  io.partialBytes = 40; // the disk takes part of the first write (a torn batch), then is full
  const data = await openDataDir(dir, 'h', { io });
  await expect(start(data)).rejects.toThrow(/ENOSPC/);
  await data.discard().catch(() => {}); // what pushq serve does with a failed start
  expect(existsSync(join(root, 'fresh'))).toBe(false);
});

test('a restart on a full disk fails, keeps the log, and releases the lock', async () => {
  const dir = join(root, 'used');
  const first = await openDataDir(dir, 'h');
  const service = await start(first);
  await service.close();
  expect(readdirSync(dir)).toEqual(['events.log']);

  const io = new FaultyIo();
  io.writeFails = 'ENOSPC';
  io.partialBytes = 40;
  const data = await openDataDir(dir, 'h', { io });
  const changed = parseQueueConfig('queue:\n- name: q\n  rate: 7/s\n', { file: 'queue.yaml' }).config!; // a deploy: events to write
  await expect(start(data, changed)).rejects.toThrow(/ENOSPC/);
  await expect(data.discard()).rejects.toThrow(/ENOSPC/); // the close still says why
  expect(readdirSync(dir)).toEqual(['events.log']);

  const again = await openDataDir(dir, 'h'); // no DATA_DIR_LOCKED, no takeover
  expect(again.lock.takenOver).toBeNull();
  expect(again.droppedBytes).toBe(40); // the torn batch, never acknowledged
  expect(again.events.length).toBe(first.events.length + 1); // the first start's ConfigApplied
  await again.discard();
});
