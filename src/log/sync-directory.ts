/**
 * A file's name (its directory entry: a new file, a rename) is durable only once its directory is
 * synced: fsync of the file covers its bytes, not the entry that names it, so after a power cut a
 * renamed file may come back under its old name, the replaced file with it. Best effort: not every
 * platform lets a directory be opened or synced (Windows does neither), and there the entry is as
 * durable as the platform makes it.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Syncs the directory `dir` (its entries: names created, removed or renamed in it), where the platform allows it. */
export function syncDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Not supported here: nothing more can be done for the entry.
  } finally {
    closeSync(fd);
  }
}
