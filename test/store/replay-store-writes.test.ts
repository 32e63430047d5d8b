/**
 * `pushq replay postgres://...` writes a file: `--export FILE`'s copy of the store's log, or the
 * temporary copy an ordinary replay (text, --json, --ui) reads and removes. A file that cannot be
 * written is said as `--write-snapshot`'s is (exit 1, `--export FILE: cannot be written: ...`), not
 * as a stack trace (exit 70); a directory sync that fails (DirectorySyncError, EIO) fails an export,
 * whose partial copy is removed, but not a replay, whose copy is gone when it ends and so need not
 * survive a crash. node:fs's fsync of a directory fails through vi.mock, in this process only (the
 * `pushq serve` that fills the store is another).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { replayCommand } from '../../src/cli/replay.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { startServe } from '../helpers/serve-process.js';

/**
 * Faults: a directory's fsync, the open of one path, the writes to files under a prefix (each fd's
 * path kept), or only those after a file's first (its header: the disk fills mid-copy).
 */
const disk = vi.hoisted(() => ({ dirSyncFails: false, openFails: null as string | null, writesFailUnder: null as string | null, laterWritesFailUnder: null as string | null, paths: new Map<number, string>(), writes: new Map<number, number>() }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fault = (code: string, errno: number, syscall: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, errno, syscall });
  return {
    ...real,
    openSync: (...args: Parameters<typeof real.openSync>) => {
      if (disk.openFails !== null && String(args[0]) === disk.openFails) throw fault('EIO', -5, 'open');
      const fd = real.openSync(...args);
      disk.paths.set(fd, String(args[0]));
      disk.writes.set(fd, 0);
      return fd;
    },
    fsyncSync: (fd: number) => {
      if (disk.dirSyncFails && real.fstatSync(fd).isDirectory()) throw fault('EIO', -5, 'fsync');
      real.fsyncSync(fd);
    },
    writeSync: (...args: Parameters<typeof real.writeSync>) => {
      const path = disk.paths.get(args[0]) ?? '';
      const before = disk.writes.get(args[0]) ?? 0;
      disk.writes.set(args[0], before + 1);
      if (disk.writesFailUnder !== null && path.startsWith(disk.writesFailUnder)) throw fault('ENOSPC', -28, 'write');
      if (disk.laterWritesFailUnder !== null && before > 0 && path.startsWith(disk.laterWritesFailUnder)) throw fault('ENOSPC', -28, 'write');
      return real.writeSync(...args);
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

afterEach(() => {
  disk.dirSyncFails = false;
  disk.openFails = null;
  disk.writesFailUnder = null;
  disk.laterWritesFailUnder = null;
});

afterAll(() => {
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

  it('--export whose directory cannot even be opened for its sync (EIO at open): the same, and no partial copy left', async () => {
    const file = join(dir, 'sub', 'unopened.log');
    mkdirSync(dirname(file));
    disk.openFails = dirname(file);
    const r = await replay([url, '--export', file]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `pushq replay: --export ${file}: cannot be written: its directory could not be synced (EIO)\n` });
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    { when: 'cannot be written at all (a full /tmp)', fault: 'writesFailUnder' as const },
    { when: "fills /tmp after its header (it names the copy, not the store, as what cannot be written)", fault: 'laterWritesFailUnder' as const },
  ])('a replay whose temporary copy $when: exit 1, naming the copy and why', async ({ fault }) => {
    const under = join(tmpdir(), 'pushq-replay-');
    disk[fault] = under;
    const r = await replay([url, '--json']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^pushq replay: the temporary copy of the store's log ${under.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\w+/events\\.log: cannot be written: no space left on the device \\(ENOSPC\\)\n$`));
    expect(r.code).toBe(1);
  });

  it('--export that fills the disk after its header (the events\' writes fail ENOSPC): the same words, and no partial copy left', async () => {
    const file = join(dir, 'full', 'copy.log');
    mkdirSync(dirname(file));
    disk.laterWritesFailUnder = file;
    const r = await replay([url, '--export', file]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `pushq replay: --export ${file}: cannot be written: no space left on the device (ENOSPC)\n` });
    expect(existsSync(file)).toBe(false);
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
