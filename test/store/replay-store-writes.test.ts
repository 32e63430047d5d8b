/**
 * `pushq replay postgres://...` writes a file: `--export FILE`'s copy of the store's log, or the
 * temporary copy an ordinary replay (text, --json, --ui) reads and removes. A file that cannot be
 * written is said as `--write-snapshot`'s is (exit 1, `--export FILE: cannot be written: ...`), not
 * as a stack trace (exit 70); a directory sync that fails (DirectorySyncError, EIO) fails an export,
 * whose partial copy is removed, but not a replay, whose copy is gone when it ends and so need not
 * survive a crash. node:fs's fsync of a directory fails through vi.mock, in this process only (the
 * `pushq serve` that fills the store is another).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { replayCommand } from '../../src/cli/replay.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { startServe } from '../helpers/serve-process.js';

const disk = vi.hoisted(() => ({ dirSyncFails: false }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    fsyncSync: (fd: number) => {
      if (disk.dirSyncFails && real.fstatSync(fd).isDirectory()) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' });
      real.fsyncSync(fd);
    },
  };
});

const fx = pgForTheseTests();
let url = '';
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-replay-store-writes-'));
  url = await fx.pg.database();
  // A node's log in the store: its start writes its configuration.
  const serve = await startServe(['--store', url], 60_000);
  serve.child.kill('SIGTERM');
  expect(await serve.exited, serve.stderr()).toBe(0);
}, 120_000);

afterAll(() => {
  disk.dirSyncFails = false;
  rmSync(dir, { recursive: true, force: true });
});

async function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await replayCommand(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) });
  return { code, stdout, stderr };
}

describe('pushq replay of a store, writing its copy', () => {
  it('--export into a directory that does not exist: exit 1, saying why, as --write-snapshot does', async () => {
    const file = join(dir, 'missing', 'copy.log');
    const r = await replay([url, '--export', file]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `pushq replay: --export ${file}: cannot be written: no such directory (ENOENT)\n` });
  });

  it('--export whose directory cannot be synced (EIO): exit 1, and no partial copy left to be taken for the log', async () => {
    const file = join(dir, 'unsynced.log');
    disk.dirSyncFails = true;
    try {
      const r = await replay([url, '--export', file]);
      expect(r).toEqual({ code: 1, stdout: '', stderr: `pushq replay: --export ${file}: cannot be written: its directory could not be synced (EIO)\n` });
    } finally {
      disk.dirSyncFails = false;
    }
    expect(existsSync(file)).toBe(false);
    // Sent again once the disk is well, it is written (no LOG_EXISTS for a copy left half made).
    const again = await replay([url, '--export', file]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
  });

  it('a replay reads the store whatever its temporary copy\'s directory sync says: the copy is removed at its end', async () => {
    disk.dirSyncFails = true;
    try {
      const r = await replay([url, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toHaveProperty('queues');
    } finally {
      disk.dirSyncFails = false;
    }
  });
});
