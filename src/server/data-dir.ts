/**
 * The data directory of `pushq serve`: one durable event log, `<dir>/events.log`. A first start
 * creates it; a restart opens it (a torn tail from a crash is dropped: those batches were never
 * acknowledged) and hands back its events for replay. A log damaged before its tail is refused
 * (LOG_CORRUPT) unless `repair` is asked for (log-repair.ts).
 *
 * The directory is locked first (`<dir>/lock`, data-dir-lock.ts): a second server on the same
 * directory is refused before it touches the log. The caller owns the returned lock and releases
 * it after closing the log (PushqService does, given `dataLock`).
 */
import { chmod, mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { EngineEvent } from '../core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from '../log/event-log.js';
import type { LogFileIo } from '../log/file-io.js';
import { LOG_FILE_MODE, createFileEventLog, openFileEventLog } from '../log/file-log.js';
import { PUSHQ_VERSION } from '../version.js';
import { acquireDataDirLock, type DataDirErrorCode, type DataDirLock, type LockOptions } from './data-dir-lock.js';
import { setDamagedPartAside, type LogRepair } from './log-repair.js';

export const EVENT_LOG_FILE = 'events.log';

/**
 * The data directory cannot be used: `path` (the directory, or its log) is named in the message,
 * with the system's reason when there is one. Nothing was changed.
 */
export class DataDirUnusableError extends Error {
  override name = 'DataDirUnusableError';
  readonly code = 'DATA_DIR_UNUSABLE' satisfies DataDirErrorCode;
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${problem} (DATA_DIR_UNUSABLE)`, options);
  }
}

/** A system call's failure (mkdir, the lock's files) as DATA_DIR_UNUSABLE, naming `path`; any other error (DATA_DIR_LOCKED) as it is. */
function unusable(path: string, err: unknown): unknown {
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof syscall !== 'string') return err;
  const problem =
    code === 'EEXIST' || code === 'ENOTDIR' ? 'not a directory'
    : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})`
    : code === 'EROFS' ? 'read-only file system (EROFS)'
    : code === 'ENOSPC' ? 'no space left on the device (ENOSPC)'
    : `cannot be made or written (${code})`;
  return new DataDirUnusableError(path, problem, { cause: err });
}
/** The mode of the directories a first start makes: their owner's alone, as the log in them (LOG_FILE_MODE). A directory that exists is left as it is. */
export const DATA_DIR_MODE = 0o700;

/** An existing log's mode, made LOG_FILE_MODE at open: `error` is the chmod's failure (its code), when it failed and the mode stays. */
export interface LogModeChange {
  path: string;
  from: number;
  error: string | null;
}

export interface OpenedData {
  log: EventLog;
  path: string;
  events: EngineEvent[];
  /** Bytes of a torn tail dropped at open. */
  droppedBytes: number;
  /** What `repair` cut off, and where it keeps it; null when it was not asked for or the log was sound. */
  repaired: LogRepair | null;
  /** The existing log's mode when it let group or others in (an older pushq made it 0644), now LOG_FILE_MODE; null when it was already its owner's alone. */
  tightened: LogModeChange | null;
  /** Held until released; `lock.takenOver` says if a crashed server's lock was replaced. */
  lock: DataDirLock;
  /**
   * For a start that failed after the open (a port in use, say): closes the log and releases the
   * lock, and when this open made the log (a first start) deletes it and the directories it made,
   * so the directory is left as it was. A log that held events is kept. All of it is done also
   * when the close fails (a full disk cannot take what the failed start appended: none of it was
   * acknowledged), which it then throws.
   */
  discard(): Promise<void>;
}

/**
 * `repair`: a log corrupt before its tail is cut at the last complete batch before the damage, its
 * rest kept beside it (log-repair.ts). `io`: the log writer's file operations (tests inject disk
 * faults through it).
 */
export async function openDataDir(dir: string, configHash: string, options: { durable?: boolean; lock?: LockOptions; repair?: boolean; io?: LogFileIo } = {}): Promise<OpenedData> {
  const madeDir = await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE }).catch((err: unknown) => {
    throw unusable(dir, err);
  });
  // The lock is the first file made in the directory: a directory that cannot be written fails here.
  const lock = await acquireDataDirLock(dir, options.lock).catch((err: unknown) => {
    throw unusable(dir, err);
  });
  try {
    const opened = await openLog(dir, configHash, options.durable ?? true, options.repair ?? false, options.io);
    // `discard` closes over the log, not over `opened`: the caller keeps it for as long as it
    // runs, and `opened` holds the replayed events, which must go once folded into the state.
    const { log, path, created } = opened;
    const discard = async (): Promise<void> => {
      try {
        await log.close(); // closes the file also when its last flush fails, then throws that
      } finally {
        if (created) await rm(path, { force: true });
        await lock.release(); // after the log is gone: no other server may open it meanwhile
        if (created && madeDir !== undefined) await removeEmptyDirs(resolve(dir), resolve(madeDir));
      }
    };
    return { log, path, events: opened.events, droppedBytes: opened.droppedBytes, repaired: opened.repaired, tightened: opened.tightened, lock, discard };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Removes `dir` and its parents up to `top` (the first directory mkdir made), each only if empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false))) return; // not empty: someone else's files are there
    if (d === top) return;
  }
}

/**
 * A log made before pushq made its logs LOG_FILE_MODE (0644 under the usual umask) keeps the mode
 * it was made with, and with it hands every payload to the machine's other users: it is made
 * LOG_FILE_MODE, once the open has succeeded (a refused start changes nothing). null: it was
 * already its owner's alone. A chmod that fails (the file is another user's) is reported, not fatal:
 * the log is as readable as it was, and the caller says so.
 */
async function tightenLogMode(path: string, mode: number): Promise<LogModeChange | null> {
  if (process.platform === 'win32' || (mode & 0o077) === 0) return null;
  const from = mode & 0o777;
  return chmod(path, LOG_FILE_MODE).then(
    () => ({ path, from, error: null }),
    (err: unknown) => ({ path, from, error: (err as NodeJS.ErrnoException).code ?? String(err) }),
  );
}

async function openLog(dir: string, configHash: string, durable: boolean, repair: boolean, io: LogFileIo | undefined): Promise<Omit<OpenedData, 'lock' | 'discard'> & { created: boolean }> {
  const path = join(dir, EVENT_LOG_FILE);
  const found = await stat(path).catch(() => null);
  const size = found?.size ?? 0;
  if (size > 0) {
    const refuseSimulated = (header: LogHeader): void => {
      if (header.clock !== 'wall') throw new DataDirUnusableError(path, 'this log was written by a simulation (virtual clock), not by pushq serve; use another --data directory');
    };
    // The damaged part is copied aside first (a log serve will not run on is refused before: it
    // comes out unchanged); the open then cuts the log at the same offset.
    const repaired = repair ? setDamagedPartAside(path, durable, refuseSimulated) : null;
    const opened = await openFileEventLog(path, { durable, repair, ...(io === undefined ? {} : { io }) });
    try {
      refuseSimulated(opened.header);
    } catch (err) {
      await opened.log.close();
      throw err;
    }
    const droppedBytes = repaired === null ? opened.recovered.droppedBytes : 0;
    const tightened = await tightenLogMode(path, found!.mode);
    return { log: opened.log, path, events: opened.events, droppedBytes, repaired, tightened, created: false };
  }
  const header: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash };
  const log = await createFileEventLog(path, header, { durable, overwrite: true, ...(io === undefined ? {} : { io }) });
  // An empty file there (open with a mode does not change an existing file's) is tightened too.
  const tightened = found === null ? null : await tightenLogMode(path, found.mode);
  return { log, path, events: [], droppedBytes: 0, repaired: null, tightened, created: true };
}

