/**
 * One server per data directory: `<dir>/lock` names the `pushq serve` process that owns the
 * directory, as JSON `{ pid, host, startedAt, port? }`. Two servers appending to one events.log
 * would interleave their batches and corrupt it, so a second start is refused while the owner
 * lives, and a lock whose owner is gone (kill -9, a machine crash) is taken over.
 *
 * Invariants:
 * - The lock file appears whole or not at all: our JSON is written to a private temp file and
 *   `link()`ed to `lock`, which fails with EEXIST like `open(O_EXCL)` does, but never shows a
 *   reader an empty file that a starting server has not filled in yet (an empty or unparseable
 *   lock is therefore a crash leftover, i.e. stale).
 * - A stale lock is moved aside with `rename()` before ours is linked in; only one of two racing
 *   starters can move a given file, and one that moved a fresh lock by mistake (its content is not
 *   what it judged stale) links it back and re-checks. So at most one of them wins.
 * - Release deletes the file only if it still names us (pid, host, startedAt).
 * - A lock naming our own pid is ours only if this process took it (`heldHere`); otherwise it was
 *   left by an earlier process that had the same pid (containers reuse small pids).
 * - A holder on another host cannot be checked from here: that counts as held (the message says
 *   how to remove it by hand).
 *
 * Why not proper-lockfile: it locks with a `<file>.lock` directory and an mtime heartbeat (a
 * timer rewriting it every few seconds, stale after ~10 s without one). A pid check is exact on
 * one host, needs no timer in the server, and keeps the dependency list short.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';

export const LOCK_FILE = 'lock';

/** Error codes of the data directory (docs/errors.md). */
export type DataDirErrorCode =
  /** Another live `pushq serve` holds the directory's lock. */
  | 'DATA_DIR_LOCKED';

/** What `<dir>/lock` holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO 8601. */
  startedAt: string;
  /** The API port, once the server listens. */
  port?: number;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly code: DataDirErrorCode = 'DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    readonly lockPath: string,
    readonly holder: LockHolder,
    sameHost: boolean,
  ) {
    const who = `pushq serve pid ${holder.pid}${holder.port === undefined ? '' : ` (port ${holder.port})`}, started ${holder.startedAt}`;
    super(
      sameHost
        ? `in use by ${who}; stop that server first (kill ${holder.pid}), or give another --data directory (DATA_DIR_LOCKED)`
        : `locked by ${who} on host ${holder.host}, which cannot be checked from here; if it is not running there, delete ${lockPath} (DATA_DIR_LOCKED)`,
    );
  }
}

/** Why an earlier lock was replaced. */
export interface TakenOver {
  /** The earlier holder, or null when the file was empty or not a lock. */
  previous: LockHolder | null;
  reason: 'dead-pid' | 'unreadable';
}

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Set when a stale lock (a crashed server's) was replaced. */
  readonly takenOver: TakenOver | null;
  /** Adds the port to the lock file (for the refusal message of a second start); best effort. */
  recordPort(port: number): Promise<void>;
  /** Deletes the lock file if it still names us; true if it did. Idempotent. */
  release(): Promise<boolean>;
}

export interface LockOptions {
  /** Defaults: this process, this host, now. Injected by tests. */
  pid?: number;
  host?: string;
  now?: () => Date;
  /** Whether a pid lives on this host; default `process.kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
}

/** `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists but is not ours. */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The holder in a lock file's text, or null if it is not one (empty, torn, garbage). */
export function parseLock(text: string): LockHolder | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const pidOk = typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid > 0;
  const portOk = o.port === undefined || (typeof o.port === 'number' && Number.isInteger(o.port));
  if (!pidOk || typeof o.host !== 'string' || typeof o.startedAt !== 'string' || !portOk) return null;
  return { pid: o.pid as number, host: o.host, startedAt: o.startedAt, ...(o.port === undefined ? {} : { port: o.port as number }) };
}

const ATTEMPTS_MAX = 5;

/** Lock files this process holds now: tells our own live lock from a previous incarnation's. */
const heldHere = new Set<string>();

/**
 * Takes `<dir>/lock` (the directory must exist). Throws DataDirLockedError if a live server holds
 * it; replaces it if its holder is dead on this host or the file is not a lock.
 */
export async function acquireDataDirLock(dir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  const host = options.host ?? hostname();
  const isAlive = options.isAlive ?? pidIsAlive;
  const holder: LockHolder = { pid: options.pid ?? process.pid, host, startedAt: (options.now?.() ?? new Date()).toISOString() };
  const tmp = `${path}.${holder.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(holder) + '\n', { flag: 'wx' });
  let takenOver: TakenOver | null = null;
  try {
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      try {
        await link(tmp, path);
        heldHere.add(resolve(path));
        return makeLock(path, holder, takenOver);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const text = await readText(path);
      if (text === null) continue; // gone meanwhile: try again
      const current = parseLock(text);
      if (current !== null) {
        if (current.host !== host) throw new DataDirLockedError(dir, path, current, false);
        // Our own pid: held if this process holds it (a second open in one process), else it is a
        // previous incarnation's (a container restarted with the same pid), which is stale.
        const alive = current.pid === holder.pid ? heldHere.has(resolve(path)) : isAlive(current.pid);
        if (alive) throw new DataDirLockedError(dir, path, current, true);
      }
      // Stale: move exactly this file aside, then link ours in on the next round.
      const aside = `${path}.${holder.pid}.${randomBytes(6).toString('hex')}.stale`;
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if ((await readText(aside)) !== text) {
        // A racing starter replaced the stale lock between our read and our rename: put its lock
        // back (unless yet another appeared) and judge again.
        await link(aside, path).catch(() => {});
        await unlink(aside).catch(() => {});
        continue;
      }
      await unlink(aside).catch(() => {});
      takenOver = { previous: current, reason: current === null ? 'unreadable' : 'dead-pid' };
    }
    throw new Error(`${path}: could not take the lock after ${ATTEMPTS_MAX} attempts (other servers starting at the same time?)`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function sameHolder(a: LockHolder | null, b: LockHolder): boolean {
  return a !== null && a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt;
}

function makeLock(path: string, holder: LockHolder, takenOver: TakenOver | null): DataDirLock {
  let released = false;
  const stillOurs = async (): Promise<boolean> => {
    const text = await readText(path);
    return text !== null && sameHolder(parseLock(text), holder);
  };
  return {
    path,
    holder,
    takenOver,
    async recordPort(port) {
      if (released || !(await stillOurs())) return;
      const tmp = `${path}.${holder.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify({ ...holder, port }) + '\n', { flag: 'wx' });
        await rename(tmp, path);
      } catch {
        await unlink(tmp).catch(() => {});
      }
    },
    async release() {
      if (released) return false;
      released = true;
      heldHere.delete(resolve(path));
      if (!(await stillOurs())) return false;
      await unlink(path).catch(() => {});
      return true;
    },
  };
}
