/**
 * The data directory lock (src/server/data-dir-lock.ts): a fresh directory is locked; a live
 * holder refuses with DATA_DIR_LOCKED; a dead holder or a file that is not a lock is taken over;
 * release deletes only our own lock; two, three and five starters racing for a stale lock: exactly
 * one wins every round and its lock is the file; a `lock.break` left by a crashed takeover (dead pid,
 * or an old file that is not one) does not block the next start; nothing but `lock` is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, acquireDataDirLock, linuxProcessStartMs, parseLock, pidIsAlive, type LockHolder } from '../../src/server/data-dir-lock.js';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A child process that sleeps until killed (at most 30 s). */
async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = await sleeper();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return child.pid!;
}

const lockPath = (): string => join(dir, LOCK_FILE);
const readLock = async (): Promise<LockHolder | null> => parseLock(await readFile(lockPath(), 'utf8'));
const writeLock = (holder: Partial<LockHolder> | string): Promise<void> =>
  writeFile(lockPath(), typeof holder === 'string' ? holder : JSON.stringify({ host: hostname(), startedAt: new Date().toISOString(), ...holder }));

async function refusal(promise: Promise<unknown>): Promise<DataDirLockedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected DATA_DIR_LOCKED, but the lock was taken').toBeInstanceOf(DataDirLockedError);
  expect((err as DataDirLockedError).code).toBe('DATA_DIR_LOCKED');
  return err as DataDirLockedError;
}

describe('acquireDataDirLock', () => {
  it('locks a fresh directory with our pid, host and start time, leaving no temp files', async () => {
    const lock = await acquireDataDirLock(dir, { now: () => new Date('2026-11-23T10:00:00Z') });
    expect(lock.takenOver).toBeNull();
    expect(await readLock()).toEqual({ pid: process.pid, host: hostname(), startedAt: '2026-11-23T10:00:00.000Z' });
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.recordPort(8123);
    expect((await readLock())?.port).toBe(8123);
    expect(await lock.release()).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses while a live process on this host holds it, and leaves its lock alone', async () => {
    const child = await sleeper();
    await writeLock({ pid: child.pid!, port: 4321 });
    const before = await readFile(lockPath(), 'utf8');
    const err = await refusal(acquireDataDirLock(dir));
    expect(err.dir).toBe(dir);
    expect(err.holder.pid).toBe(child.pid);
    expect(err.message).toContain(`pid ${child.pid} (port 4321)`);
    expect(err.message).toContain('another --data directory');
    expect(err.message).toMatch(/\(DATA_DIR_LOCKED\)$/);
    expect(err.message).not.toContain('\n');
    expect(await readFile(lockPath(), 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('refuses a second lock in the same process until the first is released', async () => {
    const first = await acquireDataDirLock(dir);
    await refusal(acquireDataDirLock(dir));
    await first.release();
    const second = await acquireDataDirLock(dir);
    expect(second.takenOver).toBeNull();
    await second.release();
  });

  it('takes over the lock of a dead pid (a server killed with -9)', async () => {
    const pid = await deadPid();
    expect(pidIsAlive(pid)).toBe(false);
    await writeLock({ pid, startedAt: '2026-01-01T00:00:00.000Z' });
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver).toEqual({ previous: { pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }, reason: 'dead-pid' });
    expect((await readLock())?.pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('takes over a lock naming our own pid that this process did not take (a previous incarnation)', async () => {
    await writeLock({ pid: process.pid, startedAt: '2020-01-01T00:00:00.000Z' });
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver?.reason).toBe('dead-pid');
    expect((await readLock())?.startedAt).not.toBe('2020-01-01T00:00:00.000Z');
    await lock.release();
  });

  it.each([
    ['empty', ''],
    ['not JSON', 'garbage\n'],
    ['torn JSON', '{"pid": 12'],
    ['pid 0', JSON.stringify({ pid: 0, host: hostname(), startedAt: 'x' })],
    ['negative pid', JSON.stringify({ pid: -1, host: hostname(), startedAt: 'x' })],
    ['no host', JSON.stringify({ pid: 1, startedAt: 'x' })],
    ['an array', '[1, 2]'],
  ])('takes over a lock file that is not a lock: %s', async (_what, text) => {
    await writeLock(text);
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver).toEqual({ previous: null, reason: 'unreadable' });
    expect((await readLock())?.pid).toBe(process.pid);
    await lock.release();
  });

  it('refuses a lock from another host (it cannot be checked), naming the file to delete', async () => {
    await writeLock({ pid: await deadPid(), host: 'elsewhere' });
    const err = await refusal(acquireDataDirLock(dir));
    expect(err.message).toContain('on host elsewhere');
    expect(err.message).toContain(`delete ${lockPath()}`);
  });

  it('releases only its own lock', async () => {
    const lock = await acquireDataDirLock(dir);
    const other = { pid: 999_999_999, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' };
    await writeLock(other); // another server took it over meanwhile
    await lock.recordPort(1);
    expect(await lock.release()).toBe(false);
    expect(await readLock()).toEqual(other);
  });

  it('release is idempotent and tolerates a missing file', async () => {
    const lock = await acquireDataDirLock(dir);
    await rm(lockPath());
    expect(await lock.release()).toBe(false);
    expect(await lock.release()).toBe(false);
  });

  it.each([
    [3, 100],
    [5, 100],
  ])('%i starters racing for a stale lock, %i rounds: exactly one wins every round, and its lock is the file', async (n, rounds) => {
    const stale = await deadPid();
    const live = new Set(Array.from({ length: n }, (_, i) => 20_000_001 + i));
    const isAlive = (pid: number): boolean => live.has(pid);
    const failures: string[] = [];
    for (let round = 0; round < rounds; round++) {
      await writeLock({ pid: stale });
      const results = await Promise.allSettled([...live].map((pid) => acquireDataDirLock(dir, { pid, isAlive })));
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      const file = await readLock().catch(() => null);
      const left = (await readdir(dir)).sort();
      if (won.length !== 1) failures.push(`round ${round}: ${won.length} winners (${won.map((l) => l.holder.pid).join(', ')}), lock names ${file?.pid}`);
      else if (file?.pid !== won[0]!.holder.pid || file.startedAt !== won[0]!.holder.startedAt) failures.push(`round ${round}: winner ${won[0]!.holder.pid}, lock names ${file?.pid}`);
      else if (!lost.every((e) => e instanceof DataDirLockedError)) failures.push(`round ${round}: a loser failed otherwise: ${lost.find((e) => !(e instanceof DataDirLockedError))}`);
      else if (won[0]!.takenOver?.previous?.pid !== stale) failures.push(`round ${round}: takenOver ${JSON.stringify(won[0]!.takenOver)}`);
      if (left.join() !== LOCK_FILE) failures.push(`round ${round}: left ${left.join(', ')}`);
      await rm(dir, { recursive: true, force: true });
      dir = await mkdtemp(join(tmpdir(), 'pushq-lock-'));
    }
    const multi = failures.filter((f) => /: [02-9]\d* winners/.test(f)).length;
    expect(failures.slice(0, 5), `${failures.length} of ${rounds} rounds failed, ${multi} without exactly one winner`).toEqual([]);
  });

  it('recovers a lock.break left by a takeover that died (dead pid), leaving only the lock', async () => {
    const stale = await deadPid();
    await writeLock({ pid: stale });
    await writeFile(join(dir, 'lock.break'), JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'x' }));
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver?.previous?.pid).toBe(stale);
    expect((await readLock())?.pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('recovers a stale lock.break whose replacement also died (lock.break.<sha256 of its text>)', async () => {
    const stale = await deadPid();
    await writeLock({ pid: stale });
    const text = JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'a' });
    await writeFile(join(dir, 'lock.break'), text);
    const right = `lock.break.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    await writeFile(join(dir, right), JSON.stringify({ pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'b' }));
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver?.previous?.pid).toBe(stale);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('recovers a lock.break that is not one once it is a few seconds old; several starters: one wins', async () => {
    const stale = await deadPid();
    await writeLock({ pid: stale });
    const brk = join(dir, 'lock.break');
    await writeFile(brk, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(brk, old, old);
    const live = new Set([30_000_001, 30_000_002, 30_000_003]);
    const results = await Promise.allSettled([...live].map((pid) => acquireDataDirLock(dir, { pid, isAlive: (p) => live.has(p) })));
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof DataDirLockedError)).toBe(true);
    expect((await readLock())?.pid).toBe(won[0]!.holder.pid);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('waits for a lock.break held by a live process, then judges the lock it wrote', async () => {
    const child = await sleeper();
    const stale = await deadPid();
    await writeLock({ pid: stale });
    const brk = join(dir, 'lock.break');
    await writeFile(brk, JSON.stringify({ pid: child.pid!, host: hostname(), startedAt: new Date().toISOString(), token: 'y' }));
    // The outcome is awaited at once: the refusal may come while the test is still writing files.
    const outcome = refusal(acquireDataDirLock(dir));
    // The live breaker finishes its takeover: its lock replaces the stale one, its break goes.
    await new Promise((r) => setTimeout(r, 100));
    await writeLock({ pid: child.pid!, port: 9 });
    await rm(brk);
    const err = await outcome;
    expect(err.holder.pid).toBe(child.pid);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('two starters racing for a stale lock: exactly one wins, the other is refused', async () => {
    const stale = await deadPid();
    const live = new Set([10_000_001, 10_000_002]);
    const isAlive = (pid: number): boolean => live.has(pid);
    for (let round = 0; round < 25; round++) {
      await writeLock({ pid: stale });
      const results = await Promise.allSettled([...live].map((pid) => acquireDataDirLock(dir, { pid, isAlive })));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won, `round ${round}`).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(DataDirLockedError);
      expect((await readLock())?.pid).toBe((won[0] as PromiseFulfilledResult<{ holder: LockHolder }>).value.holder.pid);
      expect(await readdir(dir)).toEqual([LOCK_FILE]);
      await rm(lockPath());
    }
  });
});

describe('pidIsAlive', () => {
  it('is true for a running process and false for one that has exited', async () => {
    expect(pidIsAlive(process.pid)).toBe(true);
    expect(pidIsAlive((await sleeper()).pid!)).toBe(true);
    expect(pidIsAlive(await deadPid())).toBe(false);
  });

  it('knows a reused pid: a process that started after the lock was written did not write it', async () => {
    const started = linuxProcessStartMs(process.pid);
    expect(started).not.toBeNull();
    expect(started!).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(started!).toBeLessThanOrEqual(Date.now());
    expect(pidIsAlive(process.pid, new Date().toISOString())).toBe(true);
    expect(pidIsAlive(process.pid, new Date(started! - 3_600_000).toISOString())).toBe(false);
  });
});

describe('a lock naming a reused pid', () => {
  it('is taken over: the live process with that pid started after the lock was written', async () => {
    const child = await sleeper();
    // Written a day before this child started (a server that died, then a reboot reused its pid).
    await writeLock({ pid: child.pid!, startedAt: new Date(Date.now() - 86_400_000).toISOString() });
    const lock = await acquireDataDirLock(dir);
    expect(lock.takenOver).toMatchObject({ previous: { pid: child.pid }, reason: 'dead-pid' });
    expect((await readLock())?.pid).toBe(process.pid);
    await lock.release();
  });
});
