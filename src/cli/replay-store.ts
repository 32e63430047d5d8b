/**
 * `pushq replay postgres://... [--queue Q] [...]` and `pushq replay postgres://... --export FILE`:
 * the log a `pushq serve --store` node keeps in PostgreSQL, read as the file log is. The store's
 * events are written to a file log (the same format, the same header) and the ordinary replay runs
 * on it, so text, --json, --task, --tasks and --ui say exactly what they say of a file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileEventLog, type FileEventLog } from '../log/file-log.js';
import { LogError } from '../log/log-errors.js';
import { DirectorySyncError } from '../log/sync-directory.js';
import { writeFailure } from '../simulate/report/write.js';
import { PgStore } from '../store/pg-store.js';
import { NODE_STREAM } from '../store/store-log.js';
import { QUEUE_STREAM_PREFIX, StoreError, queueStream } from '../store/store.js';

/** Events per batch of the exported file (a batch is what recovery keeps or drops whole). */
const EXPORT_BATCH_EVENTS = 4096;

/** How `queue` is read: `queuePicksLog`, it only chooses a cluster's queue log (`replay --ui`), and a single node's store refuses it. */
export interface StreamChoice {
  queuePicksLog?: boolean;
}

/**
 * The stream to read: a single node's log, or, in a cluster's store (one stream per queue,
 * docs/cluster.md), the stream of `queue`, which must then be named. Throws StoreError.
 */
async function chooseStream(store: PgStore, queue: string | undefined, choice: StreamChoice = {}): Promise<string> {
  if ((await store.header(NODE_STREAM)) !== null) {
    if (queue !== undefined && choice.queuePicksLog === true) {
      throw new StoreError('STORE_FAILED', `${store.displayUrl}: this store holds one node's log, of every queue: the dashboard shows them all; drop --queue (it picks a queue's log in a cluster's store)`);
    }
    return NODE_STREAM;
  }
  const queues = (await store.streams()).filter((s) => s.startsWith(QUEUE_STREAM_PREFIX)).map((s) => s.slice(QUEUE_STREAM_PREFIX.length));
  if (queues.length === 0) throw new StoreError('STORE_FAILED', `${store.displayUrl}: no pushq serve log in this store`);
  if (queue === undefined) throw new StoreError('STORE_FAILED', `${store.displayUrl}: this store holds a cluster's logs, one per queue: name one with --queue (${queues.join(', ')})`);
  if (!queues.includes(queue)) throw new StoreError('STORE_FAILED', `${store.displayUrl}: no log of queue "${queue}" in this cluster's store (${queues.join(', ')})`);
  return queueStream(queue);
}

/**
 * The export's file could not be written (the system's error: a missing directory, no space, its
 * directory not synced, ...); the part written, if any, was removed, so that no half copy is taken
 * for the log (and a second try is not refused LOG_EXISTS).
 */
export class ExportWriteError extends Error {
  override name = 'ExportWriteError';
  constructor(
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    // A DirectorySyncError's own text says the file is in place; here it is removed.
    super(`cannot be written: ${cause instanceof DirectorySyncError ? `its directory could not be synced (${cause.code})` : writeFailure(cause)}`, { cause });
  }
}

/**
 * Copies the node's log (a cluster's: `queue`'s) from the store at `url` to a new file log at `path`; the events copied.
 * `durable` false: the copy is not synced (a temporary copy, removed once read, need not survive a crash).
 * Throws StoreError, ExportWriteError (its file removed), LogError (LOG_EXISTS; another the file log raises, its file removed).
 */
export async function exportStoreLog(url: string, path: string, queue?: string, choice: StreamChoice = {}, durable = true): Promise<number> {
  const store = await PgStore.open(url);
  try {
    const stream = await chooseStream(store, queue, choice);
    const header = (await store.header(stream))!;
    const events = await store.read(stream);
    let log: FileEventLog | undefined;
    try {
      log = await createFileEventLog(path, header, { durable });
      for (let i = 0; i < events.length; i++) {
        log.append(events[i]!);
        if ((i + 1) % EXPORT_BATCH_EVENTS === 0) log.commit();
      }
      log.commit();
      await log.flush();
      await log.close();
    } catch (err) {
      await log?.close().catch(() => undefined);
      // A system call's failure names its syscall (LOG_EXISTS does not, and that file is not ours to
      // remove); the file was made unless its own open failed (its header not written, its
      // directory not synced: a DirectorySyncError's syscall may be the directory's open).
      const syscall = (err as NodeJS.ErrnoException).syscall;
      if (log !== undefined || err instanceof DirectorySyncError || (typeof syscall === 'string' && syscall !== 'open')) rmSync(path, { force: true });
      if (typeof syscall === 'string') throw new ExportWriteError(path, err as NodeJS.ErrnoException);
      // The file log reports a failed write or sync of the events (a full disk mid-copy, the usual
      // case) as its own LOG_WRITE_FAILED, naming "the event log": a replay's messages name the store
      // where they name the copy, so it read as the store failing. Its cause is the system's error.
      const cause = err instanceof LogError && err.code === 'LOG_WRITE_FAILED' ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
      if (cause !== undefined) throw new ExportWriteError(path, cause);
      throw err;
    }
    return events.length;
  } finally {
    await store.close();
  }
}

/**
 * Runs `replay` on a temporary file exported from the store; the file is removed afterwards. An
 * error's message names `shown` (the store, password hidden) where it named the temporary file.
 */
export async function withStoreLog<T>(url: string, replay: (path: string) => Promise<T> | T, shown: string, queue?: string, choice: StreamChoice = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-replay-'));
  const path = join(dir, 'events.log');
  try {
    await exportStoreLog(url, path, queue, choice, false); // read, then removed: not synced
    return await replay(path);
  } catch (err) {
    if (err instanceof Error) err.message = err.message.split(path).join(shown);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
