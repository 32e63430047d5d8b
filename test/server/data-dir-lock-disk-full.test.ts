/**
 * Taking a data directory's lock on a full disk: the temp file the lock is written to (and then
 * linked as `lock`) is created, its write fails (ENOSPC), and the start is refused with that
 * error. Nothing may be left behind: the temp file used to stay, one more `lock.PID.HEX.tmp` per
 * refused start (seen with pushq serve on a full tmpfs). The same for a stale lock's break file.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test, vi } from 'vitest';

/** Paths whose write fails with ENOSPC after the file is created, as on a full disk. */
const full = { pattern: null as RegExp | null };

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile = (async (path: unknown, data: unknown, options: unknown) => {
    if (typeof path === 'string' && full.pattern?.test(path)) {
      await fs.writeFile(path, '', { flag: 'wx' });
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    }
    return fs.writeFile(path as string, data as string, options as { flag: string });
  }) as typeof fs.writeFile;
  return { ...fs, default: { ...fs, writeFile }, writeFile };
});

const { acquireDataDirLock } = await import('../../src/server/data-dir-lock.js');

const root = mkdtempSync(join(tmpdir(), 'pushq-lock-disk-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('a lock that cannot be written leaves no temp file', async () => {
  const dir = join(root, 'fresh');
  mkdirSync(dir);
  full.pattern = /[/\\]lock\.\d+\.[0-9a-f]+\.tmp$/;
  await expect(acquireDataDirLock(dir)).rejects.toThrow(/ENOSPC/);
  expect(readdirSync(dir)).toEqual([]);
});

test('a stale lock whose break file cannot be written: refused, and only the stale lock is left', async () => {
  const dir = join(root, 'stale');
  mkdirSync(dir);
  const stale = JSON.stringify({ pid: 999_999_999, host: hostname(), startedAt: new Date(0).toISOString() }) + '\n';
  writeFileSync(join(dir, 'lock'), stale);
  full.pattern = /[/\\]lock\.break\.\d+\.[0-9a-f]+\.tmp$/;
  await expect(acquireDataDirLock(dir, { isAlive: () => false })).rejects.toThrow(/ENOSPC/);
  expect(readdirSync(dir)).toEqual(['lock']);
});
