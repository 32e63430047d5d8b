/**
 * The file operations the log's writer makes after it opened its file: a seam, so a test can make
 * the disk fill (ENOSPC) or fail (EIO), and the crash swarm (src/testing/swarm) can hold a sync
 * back and cut the file anywhere past what was synced. `pushq serve` uses NODE_LOG_FILE_IO: the
 * same two calls the log always made, one indirection more (a write is per flush or per MiB, not
 * per event, so the cost is nothing next to the system call).
 *
 * Reading a log (log-reader.ts) and creating or truncating one stay direct: a crash is a cut of
 * the file, and the real reader is what must cope with it.
 */
import { fdatasync, writeSync } from 'node:fs';

export interface LogFileIo {
  /**
   * Writes `length` bytes of `buffer` from `offset` at file position `position`; returns how many
   * were written (possibly fewer: the writer calls again for the rest). Throws on failure.
   */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Makes every byte written before the call durable; calls back with the error if it could not. */
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
}

export const NODE_LOG_FILE_IO: LogFileIo = { write: writeSync, fdatasync };
