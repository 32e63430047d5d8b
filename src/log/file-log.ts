/**
 * The durable event log: JSON lines on disk (format in log-format.ts), the same `EventLog`
 * interface as the memory log, so the kernel runs on either.
 *
 * Writing: `append` encodes (and validates) the event into an in-memory buffer, in the layout of
 * the file's format version (a log an older pushq made stays in its version when appended to);
 * `commit` ends the batch (one engine step) by appending its commit marker with the batch's CRC-32. Committed
 * bytes are written to the file when they pass 1 MiB or at `flush`; uncommitted bytes never are,
 * so a batch is on disk whole or not at all, apart from a torn tail that recovery drops.
 *
 * Group commit: `flush` writes every committed batch and, when durable, issues ONE fdatasync for
 * all of them. A flush called while a sync is running waits for the next sync, which then covers
 * every batch committed in the meantime: N API requests between two syncs share one.
 *
 * Write and sync failures (a full disk, an I/O error): nothing is lost from memory. A durable log
 * keeps the bytes it wrote until a sync covers them, so after a failed fdatasync it writes them
 * again (at the same offsets) and syncs again: after an fsync error the kernel may already have
 * dropped the dirty pages, so a retried fsync alone proves nothing. A failed write is retried
 * whole at the next flush. Until a flush has written and synced everything, `writeFailure()`
 * names the cause (LOG_WRITE_FAILED) and every flush rejects with it, so no caller acknowledges
 * anything meanwhile; the kernel refuses commands while it is set.
 *
 * Invariants: bytes are written at explicit offsets, in order, and only ever rewritten with the
 * same bytes; the file always ends at a batch boundary or inside a batch being written; `position`
 * is the end of the last complete batch written to the buffer; a durable log's buffer starts at
 * the synced offset.
 */
import { closeSync, fstatSync, ftruncateSync, fdatasyncSync, openSync, statSync, writeSync } from 'node:fs';
import type { EngineEvent } from '../core/events.js';
import { EventShapeError, encodeEvent } from './codec.js';
import { crc32 } from './crc32.js';
import type { EventLog, LogHeader } from './event-log.js';
import { NODE_LOG_FILE_IO, type LogFileIo } from './file-io.js';
import { encodeHeader, encodeMarker } from './log-format.js';
import { LogError } from './log-errors.js';
import { scanEventLog, type LogPosition, type ReadOptions, type Recovered } from './log-reader.js';
import { syncDirectoryOfSync } from './sync-directory.js';

export { scanEventLog, type LogPosition, type ReadOptions, type Recovered, type ScanCallbacks, type ScanResult } from './log-reader.js';

/** Committed bytes are written once this many are buffered, even without a flush. */
const WRITE_THRESHOLD_BYTES = 1 << 20;

export interface FileLogOptions {
  /** fdatasync at each flush (default true). Simulations may turn it off: they only need the bytes. */
  durable?: boolean;
  /** The writer's file operations (default: node:fs); tests inject faults through it. */
  io?: LogFileIo;
}

/**
 * The mode a new log file is made with: its owner's alone. A log holds every task's payload and
 * headers; another user of the machine must not read them from the file when the API refuses them
 * (`--auth-token`). The umask can only take bits away.
 */
export const LOG_FILE_MODE = 0o600;

export interface CreateFileLogOptions extends FileLogOptions {
  /** Replace an existing non-empty file. */
  overwrite?: boolean;
  /**
   * Make a new file, refusing any that is there (EEXIST), a symlink included: O_EXCL does not
   * follow one. For a temporary name that nothing else may own (simulate's `--log`).
   */
  exclusive?: boolean;
}

export class FileEventLog implements EventLog {
  private buf = Buffer.allocUnsafe(1 << 16);
  /**
   * Bytes in `buf`: [0, written) are on file but not yet synced (kept to be written again if the
   * sync fails; always 0 when not durable), [written, committedBytes) complete batches not yet
   * written, [committedBytes, used) the batch being appended.
   */
  private used = 0;
  private written = 0;
  private committedBytes = 0;
  private batchStart = 0;
  private batchEvents = 0;
  /** File offset where buf[0] goes (the synced offset, when durable). */
  private fileOffset: number;
  private syncedOffset: number;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;
  private closed = false;
  private readonly durable: boolean;
  private readonly io: LogFileIo;
  private readonly pos: LogPosition;
  /** The last write or sync failure, until a flush wrote and synced everything; `failures` counts them. */
  private failure: LogError | null = null;
  private failures = 0;
  /** fdatasync calls made (for tests of group commit). */
  syncs = 0;

  /** @internal use createFileEventLog / openFileEventLog. */
  constructor(
    readonly path: string,
    readonly header: LogHeader,
    private readonly fd: number,
    end: LogPosition,
    options: FileLogOptions,
  ) {
    this.durable = options.durable ?? true;
    this.io = options.io ?? NODE_LOG_FILE_IO;
    this.fileOffset = end.offset;
    this.syncedOffset = end.offset;
    this.pos = { ...end };
  }

  /** Events in complete batches (written or buffered). */
  get length(): number {
    return this.pos.events;
  }

  /** Complete batches. */
  get batches(): number {
    return this.pos.batches;
  }

  /** The end of the last complete batch: where a snapshot taken now stands. */
  position(): LogPosition {
    return { ...this.pos };
  }

  append(e: EngineEvent): void {
    if (this.closed) throw new LogError('LOG_CLOSED', `${this.path}: append after close`, { file: this.path });
    let line: string;
    try {
      line = encodeEvent(e, this.header.version);
    } catch (err) {
      if (err instanceof EventShapeError) throw new LogError('LOG_INVALID_EVENT', `${this.path}: refusing to write an invalid event: ${err.message}`, { file: this.path });
      throw err;
    }
    this.put(line);
    this.batchEvents++;
  }

  commit(): void {
    if (this.batchEvents === 0) return;
    const crc = crc32(this.buf, this.batchStart, this.used);
    const batch = this.pos.batches + 1;
    this.put(encodeMarker(batch, this.batchEvents, crc));
    this.pos.batches = batch;
    this.pos.events += this.batchEvents;
    this.pos.nextLine += this.batchEvents + 1;
    this.pos.offset = this.fileOffset + this.used;
    this.batchEvents = 0;
    this.committedBytes = this.used;
    this.batchStart = this.used;
    if (this.committedBytes - this.written >= WRITE_THRESHOLD_BYTES && this.failure === null) {
      try {
        this.writeCommitted();
      } catch {
        // Recorded in `failure`; the next flush retries and reports it. A commit never throws for
        // IO: it runs at the end of an engine step that has already happened.
      }
    }
  }

  /** Why the log cannot take writes now (a full disk, an I/O error), or null when it can. */
  writeFailure(): LogError | null {
    return this.failure;
  }

  /** Resolves when every batch committed before the call is written (and synced, when durable). */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      this.writeCommitted();
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.durable || this.syncedOffset >= this.fileOffset + this.written) return Promise.resolve();
    if (this.syncing === null) return this.startSync();
    // A sync is running and may not cover what was just written: wait for the next one (which
    // writes first: a failed sync sends its bytes to be written again).
    this.nextSync ??= this.syncing.then(
      () => this.writeAndSync(),
      () => this.writeAndSync(),
    );
    return this.nextSync;
  }

  /** Flushes, then closes the file, also when the flush failed (whose error it then throws). */
  async close(): Promise<void> {
    if (this.closed) return;
    let failed: unknown = null;
    await this.flush().catch((err: unknown) => (failed = err));
    while (this.syncing !== null || this.nextSync !== null) await (this.nextSync ?? this.syncing)?.catch(() => undefined);
    this.closed = true;
    closeSync(this.fd);
    if (failed !== null) throw failed;
  }

  private writeAndSync(): Promise<void> {
    this.nextSync = null;
    try {
      this.writeCommitted();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.startSync();
  }

  private startSync(): Promise<void> {
    this.nextSync = null;
    const upTo = this.fileOffset + this.written;
    if (this.syncedOffset >= upTo) return Promise.resolve();
    this.syncs++;
    const failuresBefore = this.failures;
    const p = new Promise<void>((resolve, reject) => {
      this.io.fdatasync(this.fd, (err) => {
        this.syncing = null;
        if (err) {
          // Whatever was written since the last good sync may not be on disk: write it all again.
          this.written = 0;
          reject(this.failed('fdatasync', err));
          return;
        }
        if (upTo > this.syncedOffset) {
          this.drop(upTo - this.fileOffset);
          this.syncedOffset = upTo;
        }
        if (this.failures === failuresBefore) this.failure = null;
        resolve();
      });
    });
    this.syncing = p;
    return p;
  }

  private failed(call: string, err: unknown): LogError {
    const e = err as NodeJS.ErrnoException;
    const message = String(e?.message ?? e);
    const cause = e.code !== undefined && !message.startsWith(e.code) ? `${e.code}: ${message}` : message;
    this.failures++;
    this.failure = new LogError('LOG_WRITE_FAILED', `${this.path}: the event log cannot be written: ${call} failed: ${cause}`, { file: this.path }, { cause: err });
    return this.failure;
  }

  private put(line: string): void {
    const need = this.used + line.length * 3 + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.buf[this.used++] = 0x0a;
  }

  /** Writes the committed bytes not yet written; on failure nothing counts as written, and the next call writes them all again. */
  private writeCommitted(): void {
    const n = this.committedBytes;
    let done = this.written;
    if (done === n) return;
    try {
      while (done < n) done += this.io.write(this.fd, this.buf, done, n - done, this.fileOffset + done);
    } catch (err) {
      throw this.failed('write', err);
    }
    if (this.durable) {
      this.written = n;
    } else {
      this.drop(n);
      if (this.failure !== null) this.failure = null; // nothing to sync: a good write is recovery
    }
  }

  /** Forgets the first `n` bytes of the buffer (on file, and synced when durable), keeping the rest at the front. */
  private drop(n: number): void {
    if (n <= 0) return;
    this.buf.copy(this.buf, 0, n, this.used);
    this.used -= n;
    this.written = Math.max(0, this.written - n);
    this.committedBytes -= n;
    this.batchStart -= n;
    this.fileOffset += n;
  }
}

/**
 * A new log file holding only `header`. Synchronous, for callers that must build a log inside a
 * synchronous factory (e.g. `createSimulation({ log: (header) => createFileEventLogSync(path, header) })`).
 */
export function createFileEventLogSync(path: string, header: LogHeader, options: CreateFileLogOptions = {}): FileEventLog {
  let existing = 0;
  try {
    existing = statSync(path).size;
  } catch {
    existing = 0;
  }
  if (existing > 0 && !options.overwrite) {
    throw new LogError('LOG_EXISTS', `${path}: already exists and is not empty (refusing to overwrite a log)`, { file: path });
  }
  const fd = openSync(path, options.exclusive ? 'wx' : 'w', LOG_FILE_MODE);
  const head = Buffer.from(`${encodeHeader(header)}\n`, 'utf8');
  try {
    let done = 0;
    while (done < head.length) done += writeSync(fd, head, done, head.length - done, done);
    if (options.durable ?? true) {
      fdatasyncSync(fd);
      syncDirectoryOfSync(path); // a new log's name not durable is no log created: thrown (sync-directory.ts)
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return new FileEventLog(path, header, fd, { offset: head.length, batches: 0, events: 0, nextLine: 2 }, options);
}

export async function createFileEventLog(path: string, header: LogHeader, options: CreateFileLogOptions = {}): Promise<FileEventLog> {
  return createFileEventLogSync(path, header, options);
}

export interface ReadLogResult {
  header: LogHeader;
  events: EngineEvent[];
  recovered: Recovered;
  /** End of the last complete batch. */
  end: LogPosition;
}

/**
 * Every event of every complete batch, in memory. For logs of millions of events use
 * `scanEventLog` (callbacks per event, nothing kept).
 */
export async function readEventLogFile(path: string, options: ReadOptions = {}): Promise<ReadLogResult> {
  const events: EngineEvent[] = [];
  const r = scanEventLog(path, options, { onEvent: (e) => events.push(e) });
  return { header: r.header, events, recovered: r.recovered, end: r.end };
}

/**
 * An existing log, read (torn tail recovered) and opened for appending after its last complete
 * batch; the dropped tail (if any) is truncated away so new batches follow complete ones.
 * Corruption before the tail is an error unless `repair` (then the log is cut there).
 */
export async function openFileEventLog(
  path: string,
  options: FileLogOptions & ReadOptions = {},
): Promise<{ log: FileEventLog; header: LogHeader; events: EngineEvent[]; recovered: Recovered }> {
  const { header, events, recovered, end } = await readEventLogFile(path, options);
  const fd = openSync(path, 'r+');
  try {
    if (fstatSync(fd).size > end.offset) {
      ftruncateSync(fd, end.offset);
      if (options.durable ?? true) fdatasyncSync(fd);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return { log: new FileEventLog(path, header, fd, end, options), header, events, recovered };
}
