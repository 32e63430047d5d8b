/**
 * Typed errors of the log layer, each with a stable code (STYLE §4; listed in docs/errors.md and
 * docs/events.md). A log that cannot be read is never "fixed" silently: the error names the file,
 * the line and the byte offset, and only an explicit `repair` cuts anything off.
 */
export type LogErrorCode =
  /** The file does not exist or cannot be read. */
  | 'LOG_NOT_FOUND'
  /** The first line is not a pushq log header. */
  | 'LOG_NOT_PUSHQ'
  /** The header's format version is newer than this pushq reads. */
  | 'LOG_VERSION_NEWER'
  /** A line before the torn tail is damaged (bad JSON, bad event, checksum mismatch, batch out of order). */
  | 'LOG_CORRUPT'
  /** createFileEventLog was pointed at an existing non-empty file. */
  | 'LOG_EXISTS'
  /** An event failed validation before it was written. */
  | 'LOG_INVALID_EVENT'
  /** The log was used after close(). */
  | 'LOG_CLOSED'
  /** A write or fdatasync failed (a full disk, an I/O error): kept in memory, retried at the next flush. */
  | 'LOG_WRITE_FAILED'
  /** A snapshot file is unreadable, or does not belong to the log it is loaded with. */
  | 'SNAPSHOT_INVALID'
  /** A snapshot was asked of a simulation that released ended tasks: their rows are gone. */
  | 'SNAPSHOT_STATE_INCOMPLETE';

export class LogError extends Error {
  override name = 'LogError';
  constructor(
    readonly code: LogErrorCode,
    message: string,
    readonly details: {
      file?: string;
      line?: number;
      offset?: number;
      /** LOG_CORRUPT: the end of the last complete batch before the damage, where a repair cuts. */
      cutAt?: number;
      /** LOG_CORRUPT: the file's size (bytes from `cutAt` to it are what a repair drops). */
      fileBytes?: number;
    } = {},
    /** LOG_WRITE_FAILED: `cause`, the system's error of the write or sync (its code, its syscall). */
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
