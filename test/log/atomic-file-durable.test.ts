/**
 * writeFileAtomicallySync makes the rename durable, not only the bytes: after renaming the synced
 * temporary file over the target it syncs the target's directory. Without that sync a power cut
 * can lose the rename and bring the old file back, as an epochs.json whose granted epoch is
 * forgotten. A unit test of the sequence of system calls (node:fs watched through vi.mock).
 */
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { writeFileAtomicallySync } from '../../src/log/atomic-file.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { DirectorySyncError } from '../../src/log/sync-directory.js';
import { writeReplaySnapshot } from '../../src/cli/replay-write-snapshot.js';
import { richSimulation } from '../helpers/rich-sim.js';

/** The calls made while `on`, in order: what was done to which path (an fd stands for its path). */
const watch = vi.hoisted(() => ({ on: false, calls: [] as string[], paths: new Map<number, string>(), dirSyncFails: null as string | null, closed: [] as number[] }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    openSync: (...args: Parameters<typeof real.openSync>) => {
      const fd = real.openSync(...args);
      if (watch.on) watch.paths.set(fd, String(args[0]));
      return fd;
    },
    fsyncSync: (fd: number) => {
      if (watch.on) watch.calls.push(`fsync ${watch.paths.get(fd)}`);
      // A directory's sync that fails as the file system answers it (EIO: it tried and could not write; EINVAL: it does not do that).
      if (watch.dirSyncFails !== null && real.fstatSync(fd).isDirectory()) throw Object.assign(new Error(`${watch.dirSyncFails}: fsync`), { code: watch.dirSyncFails, syscall: 'fsync' });
      real.fsyncSync(fd);
    },
    closeSync: (fd: number) => {
      if (watch.on) watch.closed.push(fd);
      real.closeSync(fd);
    },
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      if (watch.on) watch.calls.push(`rename to ${String(to)}`);
      real.renameSync(from, to);
    },
  };
});

let dir = '';
afterEach(() => {
  watch.on = false;
  watch.calls.length = 0;
  watch.paths.clear();
  watch.dirSyncFails = null;
  watch.closed.length = 0;
  rmSync(dir, { recursive: true, force: true });
});

it('syncs the temporary file, renames it over the target, then syncs the target’s directory', () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-atomic-durable-'));
  const target = join(dir, 'epochs.json');
  writeFileAtomicallySync(target, Buffer.from('{"q":1}'));
  watch.on = true;
  writeFileAtomicallySync(target, Buffer.from('{"q":2}'));
  expect(readFileSync(target, 'utf8')).toBe('{"q":2}');
  expect(watch.calls).toHaveLength(3);
  expect(watch.calls[0]).toMatch(/^fsync .*\/\.epochs\.json\..+\.tmp$/);
  expect(watch.calls.slice(1)).toEqual([`rename to ${target}`, `fsync ${dir}`]);
});

it.each([['EIO'], ['ENOSPC'], ['EDQUOT']])('a directory sync that fails %s is the write\'s error, naming the file: the rename may not survive a crash', (code) => {
  // Before: every error of the directory's sync was swallowed, and the write reported durable.
  dir = mkdtempSync(join(tmpdir(), 'pushq-atomic-durable-'));
  const target = join(dir, 'epochs.json');
  watch.dirSyncFails = code;
  let thrown: unknown;
  try {
    writeFileAtomicallySync(target, Buffer.from('{"q":1}'));
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(DirectorySyncError);
  expect((thrown as DirectorySyncError).code).toBe(code);
  expect((thrown as Error).message).toBe(`${target}: written, but its directory ${dir} could not be synced (${code}): the file's new name may not survive a crash`);
  // A new log's header: no log is reported created, and its file descriptor is not left open.
  watch.on = true;
  const log = join(dir, 'events.log');
  expect(() => createFileEventLogSync(log, { format: 'pushq-log', version: 1, pushqVersion: '0', seed: 0, clock: 'virtual', configHash: 'x' } as never)).toThrow(DirectorySyncError);
  const opened = [...watch.paths].filter(([, p]) => p === log || p === dir).map(([fd]) => fd);
  expect(opened).toHaveLength(2);
  for (const fd of opened) expect(watch.closed).toContain(fd);
});

it.each([['EINVAL'], ['ENOTSUP'], ['EPERM'], ['EACCES'], ['EISDIR']])('a file system that refuses a directory sync (%s) is best effort: the write succeeds', (code) => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-atomic-durable-'));
  const target = join(dir, 'epochs.json');
  watch.dirSyncFails = code;
  writeFileAtomicallySync(target, Buffer.from('{"q":1}'));
  expect(readFileSync(target, 'utf8')).toBe('{"q":1}');
});

it('pushq replay --write-snapshot says the snapshot was written but may not survive a crash, not that it was not written', async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-atomic-durable-'));
  const log = join(dir, 'events.jsonl');
  const sim = richSimulation(3, (h) => createFileEventLogSync(log, h, { durable: false }));
  await sim.kernel.log.close();
  watch.dirSyncFails = 'EIO';
  const err: string[] = [];
  const snap = join(dir, 'snap');
  expect(writeReplaySnapshot({ log, file: snap, snapshot: undefined, repair: false }, { stdout: () => undefined, stderr: (s) => err.push(s) })).toBe(1);
  expect(err.join('')).toBe(`pushq replay: --write-snapshot ${snap}: written, but its directory could not be synced (EIO): it may not survive a crash\n`);
});
