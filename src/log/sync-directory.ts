/**
 * A file's name (its directory entry: a new file, a rename) is durable only once its directory is
 * synced: fsync of the file covers its bytes, not the entry that names it, so after a power cut a
 * renamed file may come back under its old name, the replaced file with it.
 *
 * Which failures count. Not every platform or file system lets a directory be opened or synced
 * (Windows does neither; some file systems answer EINVAL, ENOTSUP or EPERM to a directory's
 * fsync, EACCES/EPERM/EISDIR to its open): there the entry is as durable as the platform makes it,
 * and nothing the caller could do would make it more so, so those are best effort, as before.
 * But EIO, ENOSPC and EDQUOT from the sync (or the open) mean the file system tried and failed to
 * write the directory: the new name may be lost in a crash, and a caller that promises durability
 * (an atomic write's rename, a new log's header, a repair's file aside before the log is cut) must
 * not report it done. Those throw DirectorySyncError, naming the file whose entry it is and
 * carrying the system's code, as the write's other errors do (callers report `code`).
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Codes of a directory's open or sync that mean it was tried and not written, rather than not supported. */
const NOT_WRITTEN = new Set(['EIO', 'ENOSPC', 'EDQUOT']);

/** The directory entry of a file written may not survive a crash: its directory's sync failed (EIO, ENOSPC, EDQUOT). */
export class DirectorySyncError extends Error {
  /** The system's code (EIO, ENOSPC, EDQUOT), as the write's other errors carry it. */
  readonly code: string;
  readonly syscall: string;

  constructor(
    /** The file whose entry (name) is not known to be durable. */
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    const code = cause.code ?? 'EIO';
    super(`${path}: written, but its directory ${dirname(path)} could not be synced (${code}): the file's new name may not survive a crash`, { cause });
    this.name = 'DirectorySyncError';
    this.code = code;
    this.syscall = cause.syscall ?? 'fsync';
  }
}

/**
 * Syncs the directory of `path` (its entries: names created, removed or renamed in it), where the
 * platform allows it. Throws DirectorySyncError when the file system failed to write it.
 */
export function syncDirectoryOfSync(path: string): void {
  let fd: number;
  try {
    fd = openSync(dirname(path), 'r');
  } catch (err) {
    return failedOrUnsupported(path, err);
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    failedOrUnsupported(path, err);
  } finally {
    closeSync(fd);
  }
}

function failedOrUnsupported(path: string, err: unknown): void {
  if (NOT_WRITTEN.has((err as NodeJS.ErrnoException)?.code ?? '')) throw new DirectorySyncError(path, err as NodeJS.ErrnoException);
  // Not supported here: nothing more can be done for the entry.
}
