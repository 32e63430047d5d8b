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
 * - Once a `lock` exists, there is never a moment without one until its owner releases it: a
 *   stale lock is replaced in one step, `rename(ourTemp, lock)`, never moved aside or deleted
 *   first. (An earlier version moved it aside and linked back; a third starter could link its own
 *   into that gap, and two starters both believed they held the lock.)
 * - Replacing is serialised by the break file `lock.break` (same write-temp-and-`link()`
 *   creation; JSON `{ pid, host, startedAt, token }`). Only its holder may replace `lock`, and it
 *   does so only if `lock` still has exactly the text it judged stale; if `lock` changed meanwhile
 *   (someone else took it over first) it releases the break and judges again, so the loser of a
 *   race sees the winner's live lock and is refused. While a live process holds the break, the
 *   others wait (a few ms at a time, at most ~2 s in all) and then read `lock` again.
 * - A stale break is itself replaced the same way, never deleted: a break whose holder is dead
 *   (the pid check of the lock), or that is not one and older than BREAK_GARBAGE_AGE_MS, is
 *   replaced with `rename()` by the holder of `lock.break.<sha256 of its text>` (an exclusive file
 *   keyed by the text being replaced), only while it still has that text. Break texts are unique
 *   (a random token), so no two starters ever hold the right to replace the same break, and
 *   nothing is ever removed that another starter may just have created. Each level is
 *   needed only after a crash in the level above it; the depth is bounded (BREAK_DEPTH_MAX).
 *   A crash between replacing a stale break and releasing the `lock.break.<hash>` used for it
 *   leaves that file behind; nothing reads it again (its text is gone), so it is only litter.
 * - Nothing unexpected is swallowed: a failed `rename()`/`link()` (other than EEXIST) throws with
 *   the file named, and no file is deleted on a guess. On success nothing but `lock` is left.
 * - Release deletes the file only if it still names us (pid, host, startedAt); a break holder
 *   deletes its break only if it still has its own text.
 * - A lock naming our own pid is ours only if this process took it (`heldHere`); otherwise it was
 *   left by an earlier process that had the same pid (containers reuse small pids). The same goes
 *   for break files (`breaksHere`, by token).
 * - A holder on another host cannot be checked from here: that counts as held (the message says
 *   how to remove it by hand).
 *
 * Why not proper-lockfile: it locks with a `<file>.lock` directory and an mtime heartbeat (a
 * timer rewriting it every few seconds, stale after ~10 s without one). A pid check is exact on
 * one host, needs no timer in the server, and keeps the dependency list short.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJsonObject } from '../core/json-object.js';

export const LOCK_FILE = 'lock';
/** Held by the one starter replacing a stale lock (see the header). */
const BREAK_FILE = 'lock.break';

/** Error codes of the data directory (docs/errors.md). */
export type DataDirErrorCode =
  /** Another live `pushq serve` holds the directory's lock. */
  | 'DATA_DIR_LOCKED'
  /** The path is not a directory, cannot be made or written (DataDirUnusableError, data-dir.ts), or its log was written by a simulation. */
  | 'DATA_DIR_UNUSABLE';

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
  readonly code = 'DATA_DIR_LOCKED' satisfies DataDirErrorCode;
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
  /** Whether the process that wrote a lock at `startedAt` still lives on this host; default `pidIsAlive`. */
  isAlive?: (pid: number, startedAt?: string) => boolean;
}

/**
 * Whether process `pid` lives, and (given the lock's `startedAt`, on Linux) is the one that wrote
 * the lock. `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists but is not ours.
 * A pid is reused (after a reboot, in a new container): a process that started more than a few
 * seconds after the lock was written cannot have written it, so that lock is stale.
 */
export function pidIsAlive(pid: number, startedAt?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (startedAt === undefined) return true;
  const lockWrittenMs = Date.parse(startedAt);
  const processStartMs = linuxProcessStartMs(pid);
  if (Number.isNaN(lockWrittenMs) || processStartMs === null) return true;
  return processStartMs <= lockWrittenMs + PID_REUSE_TOLERANCE_MS;
}

/** Boot time and tick rounding (whole seconds, 1/100 s) stay well inside this. */
const PID_REUSE_TOLERANCE_MS = 3000;

/**
 * When process `pid` started, from /proc (Linux): field 22 of /proc/PID/stat is its start in
 * clock ticks after boot (USER_HZ, 100 on Linux), and `btime` in /proc/stat the boot time.
 * null where /proc is not there or unreadable.
 */
export function linuxProcessStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (btime === null || !Number.isFinite(startTicks)) return null;
    return Number(btime[1]) * 1000 + startTicks * 10;
  } catch {
    return null;
  }
}

/** The holder in a lock file's text, or null if it is not one (empty, torn, garbage). */
export function parseLock(text: string): LockHolder | null {
  const o = parseJsonObject(text);
  return o === null ? null : holderOf(o);
}

/** The holder a lock or break file's fields describe, or null. */
function holderOf(o: Record<string, unknown>): LockHolder | null {
  const pidOk = typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid > 0;
  const portOk = o.port === undefined || (typeof o.port === 'number' && Number.isInteger(o.port));
  if (!pidOk || typeof o.host !== 'string' || typeof o.startedAt !== 'string' || !portOk) return null;
  return { pid: o.pid as number, host: o.host, startedAt: o.startedAt, ...(o.port === undefined ? {} : { port: o.port as number }) };
}

/** How long a starter waits for another one's takeover (a live `lock.break`) before giving up. */
const WAIT_MS = 2000;
/** A break file that is not one (a machine crash before its data reached the disk) is stale after this. */
const BREAK_GARBAGE_AGE_MS = 3000;
/** Nesting of break files (each level is needed only after a crash during the level above). */
const BREAK_DEPTH_MAX = 4;

/** Lock files this process holds now: tells our own live lock from a previous incarnation's. */
const heldHere = new Set<string>();
/** Tokens of the break files this process holds now (the same, for `lock.break`). */
const breaksHere = new Set<string>();

interface Ctx {
  dir: string;
  path: string;
  holder: LockHolder;
  isAlive: (pid: number, startedAt?: string) => boolean;
  deadline: number;
}

/**
 * Takes `<dir>/lock` (the directory must exist). Throws DataDirLockedError if a live server holds
 * it; replaces it if its holder is dead on this host or the file is not a lock.
 */
export async function acquireDataDirLock(dir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  const host = options.host ?? hostname();
  const holder: LockHolder = { pid: options.pid ?? process.pid, host, startedAt: (options.now?.() ?? new Date()).toISOString() };
  const ctx: Ctx = { dir, path, holder, isAlive: options.isAlive ?? pidIsAlive, deadline: Date.now() + WAIT_MS };
  const tmp = tempName(path, holder.pid);
  try {
    // In the try: a write that fails after creating the file (ENOSPC) must not leave it behind.
    await writeFile(tmp, JSON.stringify(holder) + '\n', { flag: 'wx' });
    for (;;) {
      if (await linkNew(tmp, path)) {
        heldHere.add(resolve(path));
        return makeLock(path, holder, null);
      }
      const text = await readText(path);
      if (text === null) continue; // released meanwhile: link ours
      const current = parseLock(text);
      if (current !== null) {
        if (current.host !== host) throw new DataDirLockedError(dir, path, current, false);
        // Our own pid: held if this process holds it (a second open in one process), else it is a
        // previous incarnation's (a container restarted with the same pid), which is stale.
        const alive = current.pid === holder.pid ? heldHere.has(resolve(path)) : ctx.isAlive(current.pid, current.startedAt);
        if (alive) throw new DataDirLockedError(dir, path, current, true);
      }
      // Stale: replace exactly this text, holding the break file.
      const brk = await takeBreak(ctx, join(dir, BREAK_FILE), 0);
      if (brk === null) {
        await waitOrGiveUp(ctx, join(dir, BREAK_FILE));
        continue;
      }
      try {
        if ((await readText(path)) !== text) continue; // taken over (or released) meanwhile: judge again
        await renameOrThrow(tmp, path, 'replace the stale lock');
        heldHere.add(resolve(path));
        return makeLock(path, holder, { previous: current, reason: current === null ? 'unreadable' : 'dead-pid' });
      } finally {
        await brk.release();
      }
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

interface Break {
  release(): Promise<void>;
}

/**
 * Creates the break file `file` as ours, replacing it if it is stale (see the header); null while
 * a live process holds it.
 */
async function takeBreak(ctx: Ctx, file: string, depth: number): Promise<Break | null> {
  const token = randomBytes(8).toString('hex');
  const ours = JSON.stringify({ pid: ctx.holder.pid, host: ctx.holder.host, startedAt: new Date().toISOString(), token }) + '\n';
  const tmp = tempName(file, ctx.holder.pid);
  const held = (): Break => {
    breaksHere.add(token);
    return {
      async release() {
        breaksHere.delete(token);
        // Only the holder of the right to replace our text could have changed it, and that needs
        // us dead: still ours unless removed by hand.
        if ((await readText(file)) === ours) await unlink(file).catch(() => {});
      },
    };
  };
  try {
    await writeFile(tmp, ours, { flag: 'wx' }); // in the try, as the lock's temp file
    for (;;) {
      if (await linkNew(tmp, file)) return held();
      const seen = await readWithAge(file);
      if (seen === null) continue; // released meanwhile: link ours
      if (!breakIsStale(ctx, seen.text, seen.ageMs)) return null;
      if (depth >= BREAK_DEPTH_MAX) {
        throw new Error(`${file}: a stale break file whose replacement also failed ${BREAK_DEPTH_MAX} times; stop all pushq serve starting on ${ctx.dir}, delete its lock.break* files and start again`);
      }
      const right = await takeBreak(ctx, `${join(ctx.dir, BREAK_FILE)}.${createHash('sha256').update(seen.text).digest('hex').slice(0, 16)}`, depth + 1);
      if (right === null) return null;
      try {
        if ((await readText(file)) !== seen.text) continue; // replaced or released meanwhile: again
        await renameOrThrow(tmp, file, 'replace a stale break file');
        return held();
      } finally {
        await right.release();
      }
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** A break file is stale when its holder is dead (as for the lock), or it is not one and old. */
function breakIsStale(ctx: Ctx, text: string, ageMs: number): boolean {
  const fields = parseJsonObject(text);
  const b = fields === null ? null : holderOf(fields);
  const token = fields?.['token'];
  if (b === null || typeof token !== 'string') return ageMs > BREAK_GARBAGE_AGE_MS;
  if (b.host !== ctx.holder.host) return false; // cannot be checked from here: wait, then give up
  return b.pid === ctx.holder.pid ? !breaksHere.has(token) : !ctx.isAlive(b.pid, b.startedAt);
}

async function waitOrGiveUp(ctx: Ctx, breakPath: string): Promise<void> {
  if (Date.now() >= ctx.deadline) {
    const text = await readText(breakPath).catch(() => null);
    const who = text === null ? null : parseLock(text);
    throw new Error(
      `${ctx.path}: another starter has been taking over the stale lock for ${WAIT_MS} ms (${breakPath}${who === null ? '' : ` held by pid ${who.pid} on ${who.host}`}); try again, or if no pushq serve is starting on ${ctx.dir}, delete ${breakPath}`,
    );
  }
  await sleep(2 + Math.random() * 6);
}

/** `link(from, to)`: true if done, false if `to` exists. */
async function linkNew(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function renameOrThrow(from: string, to: string, what: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    throw new Error(`${to}: could not ${what} (rename from ${from}: ${(err as Error).message}); nothing was deleted`, { cause: err });
  }
}

function tempName(path: string, pid: number): string {
  return `${path}.${pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** A file's text and age (mtime) read through one handle, or null if it does not exist. */
async function readWithAge(path: string): Promise<{ text: string; ageMs: number } | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = await fh.stat();
    return { text: await fh.readFile('utf8'), ageMs: Date.now() - st.mtimeMs };
  } finally {
    await fh.close();
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
      const tmp = tempName(path, holder.pid);
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
