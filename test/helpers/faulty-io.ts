/**
 * The file log's writer I/O (src/log/file-io.ts) over node:fs, with switches: `writeFails` /
 * `syncFails` make the next calls fail with that errno code (ENOSPC, EIO); every write is recorded.
 */
import { fdatasync, writeSync } from 'node:fs';
import type { LogFileIo } from '../../src/log/file-io.js';

export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** node:fs behind switches: `writeFails`/`syncFails` make the next calls fail; every write is recorded. */
export class FaultyIo implements LogFileIo {
  writeFails: string | null = null;
  /** Bytes a failing write still writes before it throws (a partial write, as a disk filling up mid-call does). */
  partialBytes = 0;
  syncFails: string | null = null;
  readonly writes: { position: number; length: number }[] = [];
  syncCalls = 0;

  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    if (this.writeFails !== null) {
      if (this.partialBytes > 0) {
        const k = Math.min(this.partialBytes, length);
        this.partialBytes = 0;
        this.writes.push({ position, length: k });
        return writeSync(fd, buffer, offset, k, position);
      }
      throw errnoError(this.writeFails, this.writeFails === 'ENOSPC' ? 'no space left on device, write' : 'i/o error, write');
    }
    this.writes.push({ position, length });
    return writeSync(fd, buffer, offset, length, position);
  }

  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void {
    this.syncCalls++;
    if (this.syncFails !== null) {
      const code = this.syncFails;
      setImmediate(() => callback(errnoError(code, 'i/o error, fdatasync')));
      return;
    }
    fdatasync(fd, callback);
  }
}

