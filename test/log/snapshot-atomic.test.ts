/**
 * writeSnapshotFile is atomic: a write that fails part-way (the disk full, the process killed: the
 * same bytes on disk) leaves the snapshot that was there, whole, and no temporary file; before, the
 * snapshot was written in place, so a half file was left for `--snapshot` to read.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { createEngineState, evolve } from '../../src/core/state.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { scanEventLog, type LogPosition } from '../../src/log/log-reader.js';
import { stateLines } from '../../src/log/replay.js';
import { loadWithSnapshot, writeSnapshotFile } from '../../src/log/snapshot.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { TEST_HEADER } from './conformance.js';

/** When set, the next file write puts half its bytes on disk and then fails, as a full disk would. */
const failing = vi.hoisted(() => ({ on: false }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  return {
    ...real,
    writeFileSync: (...args: Parameters<typeof real.writeFileSync>) => {
      if (!failing.on) return real.writeFileSync(...args);
      const [file, data] = args;
      const bytes = Buffer.from(data as Uint8Array);
      real.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
      throw enospc();
    },
    writeSync: (fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => {
      if (!failing.on) return real.writeSync(fd, buffer, offset, length, position);
      real.writeSync(fd, buffer, offset ?? 0, (length ?? buffer.length - (offset ?? 0)) >> 1, position);
      throw enospc();
    },
  };
});

test('a snapshot write that fails part-way leaves the previous snapshot whole, and no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-snapshot-atomic-'));
  const log = join(dir, 'a.jsonl');
  const sim = richSimulation(3, (h) => createFileEventLogSync(log, h, { durable: false }));
  await sim.kernel.log.close();
  const ends: LogPosition[] = [];
  let header = TEST_HEADER;
  scanEventLog(log, {}, { onHeader: (h) => { header = h; }, onBatch: (p) => ends.push({ ...p }) });
  const state = createEngineState();
  scanEventLog(log, {}, { onEvent: (e) => evolve(state, e) });
  const snap = join(dir, 'a.snap');
  writeSnapshotFile(snap, log, header, state, ends[ends.length - 1] as LogPosition);
  const before = readFileSync(snap);

  failing.on = true;
  try {
    expect(() => writeSnapshotFile(snap, log, header, state, ends[ends.length - 1] as LogPosition)).toThrow(/ENOSPC/);
  } finally {
    failing.on = false;
  }
  expect(readFileSync(snap).equals(before)).toBe(true);
  expect(stateLines(loadWithSnapshot(snap, log).state)).toEqual(stateLines(state));
  expect(readdirSync(dir).sort()).toEqual(['a.jsonl', 'a.snap']);

  // A first write that fails leaves no file at all, rather than half of one.
  const fresh = join(dir, 'b.snap');
  failing.on = true;
  try {
    expect(() => writeSnapshotFile(fresh, log, header, state, ends[ends.length - 1] as LogPosition)).toThrow(/ENOSPC/);
  } finally {
    failing.on = false;
  }
  expect(existsSync(fresh)).toBe(false);
  expect(fs.readdirSync(dir).sort()).toEqual(['a.jsonl', 'a.snap']);
});
