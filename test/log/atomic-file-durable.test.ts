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

/** The calls made while `on`, in order: what was done to which path (an fd stands for its path). */
const watch = vi.hoisted(() => ({ on: false, calls: [] as string[], paths: new Map<number, string>() }));

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
      real.fsyncSync(fd);
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
