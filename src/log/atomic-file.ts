/**
 * Writing a whole file so that a crash (or a failed write: a full disk) leaves the old file or the
 * new one, never part of the new: the bytes go to a temporary file beside it (rename is atomic only
 * within one file system), made durable, then renamed over it, and the rename made durable too
 * (its directory synced: sync-directory.ts), so once the call returns a power cut cannot bring the
 * old file back (an epoch of the file store granted, then forgotten). A snapshot read half-written
 * would be refused as SNAPSHOT_INVALID at best; this way it is never seen.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncDirectoryOfSync } from './sync-directory.js';

/**
 * Writes `bytes` to `path` atomically and durably (the bytes, then the name). Throws the system's error (ENOENT for a missing directory,
 * EISDIR, ENOSPC, ...) with nothing left behind: the temporary file is removed, `path` untouched.
 * After the rename, DirectorySyncError (code EIO, ENOSPC, EDQUOT) when the directory could not be
 * synced: `path` holds the new bytes but may come back old after a crash, so the write is not done.
 */
export function writeFileAtomicallySync(path: string, bytes: Uint8Array): void {
  const temp = tempPathBeside(path);
  try {
    const fd = openSync(temp, 'wx');
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    discardTemp(temp);
    throw error;
  }
  syncDirectoryOfSync(path);
}

/**
 * Removes a temporary file from `tempPathBeside` that a write failed with, if there is one. Never
 * throws: the write's own error is the one to report, and the removal of a file that could not be
 * made fails for the same reason (a regular file on the path's way: ENOTDIR, which `force` does not
 * quiet), and would replace it with a bare system error.
 */
export function discardTemp(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // Nothing there to remove, or nothing that can be: the write's error says why.
  }
}

/**
 * A temporary file's name for a write of `path`: hidden, in the target's own directory (rename is
 * atomic only within one file system), and a name of its own per write, so two writers of one
 * path (two processes, or two writes under way at once) never share a temporary file.
 */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}
