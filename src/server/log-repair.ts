/**
 * `pushq serve --repair`: a data directory whose log is damaged before its tail (LOG_CORRUPT) is
 * cut at the last complete batch before the damage, so the server can start from what is sound.
 *
 * Nothing is lost silently: the bytes from the cut to the end of the file (the damaged batch and
 * every batch after it, which may hold acknowledged tasks) are first copied, and synced, to a file
 * beside the log, `events.log.damaged-<cut offset>` (`.1`, `.2`, ... added when that name is
 * taken); only then is the log truncated (by
 * openFileEventLog, at the same offset). A log with no corruption is not changed (a torn tail is
 * dropped as at every start: it was never acknowledged).
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { LogHeader } from '../log/event-log.js';
import { LOG_FILE_MODE } from '../log/file-log.js';
import { scanEventLog } from '../log/log-reader.js';
import { syncDirectoryOfSync } from '../log/sync-directory.js';

export interface LogRepair {
  /** The first damaged line, its byte offset, and what is wrong with it. */
  line: number;
  offset: number;
  problem: string;
  /** Where the log was cut: the end of the last complete batch before the damage. */
  cutAt: number;
  /** Bytes moved out of the log, from `cutAt` to its old end. */
  movedBytes: number;
  /** The file that holds them. */
  keptIn: string;
}

/** Suffixes `.1` to `.99` are tried after `events.log.damaged-OFFSET` itself; with all taken, the repair fails (EEXIST). */
const DAMAGED_SUFFIX_MAX = 99;

/** Where `--repair` keeps the bytes of `log` after `cutAt` (a suffix when that name is taken: an earlier repair's file is never overwritten). */
export function damagedPath(log: string, cutAt: number, taken = 0): string {
  return `${log}.damaged-${cutAt}${taken === 0 ? '' : `.${taken}`}`;
}

/**
 * The file a `--repair` run now would write (the first of damagedPath's names not taken), for the
 * advice a refused start gives; null when every name is taken. The repair itself takes its name
 * with an exclusive create (createAside), so the advice names what it will write unless another
 * file appears in between.
 */
export function nextDamagedPath(log: string, cutAt: number): string | null {
  for (let taken = 0; taken <= DAMAGED_SUFFIX_MAX; taken++) {
    const path = damagedPath(log, cutAt, taken);
    if (!existsSync(path)) return path;
  }
  return null;
}

/**
 * Copies the damaged part of the log at `path` aside; null when it is not corrupt. The caller then
 * opens it with `repair`, which cuts at `cutAt`. Throws LogError as reading does, and whatever
 * `check` throws on the log's header, before anything is moved.
 */
export function setDamagedPartAside(path: string, durable: boolean, check: (header: LogHeader) => void = () => {}): LogRepair | null {
  const scan = scanEventLog(path, { repair: true });
  check(scan.header);
  const at = scan.recovered.repairedAt;
  if (at === undefined) return null;
  const cutAt = scan.end.offset;
  const movedBytes = scan.fileBytes - cutAt;
  const from = openSync(path, 'r');
  try {
    const { fd, keptIn } = createAside(path, cutAt);
    try {
      const chunk = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(1, movedBytes)));
      for (let done = 0; done < movedBytes; ) {
        const n = readSync(from, chunk, 0, Math.min(chunk.length, movedBytes - done), cutAt + done);
        if (n === 0) break;
        writeSync(fd, chunk, 0, n);
        done += n;
      }
      // On disk before the log is cut: a crash in between leaves the log whole, or both files.
      if (durable) fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (durable) syncDirectoryOfSync(keptIn); // thrown: the log is not cut (the aside file's name may not survive a crash)
    return { line: at.line, offset: at.offset, problem: at.problem, cutAt, movedBytes, keptIn };
  } finally {
    closeSync(from);
  }
}

function createAside(path: string, cutAt: number): { fd: number; keptIn: string } {
  for (let taken = 0; ; taken++) {
    const keptIn = damagedPath(path, cutAt, taken);
    try {
      return { fd: openSync(keptIn, 'wx', LOG_FILE_MODE), keptIn };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || taken >= DAMAGED_SUFFIX_MAX) throw err;
    }
  }
}
