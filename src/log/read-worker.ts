/**
 * The worker thread of parallel-read.ts: reads a log file with the reader's every check
 * (log-reader.ts) and posts its events, a memory log's worth at a time, as they are checked.
 * Messages, in order: `header`, then `chunk`s of `chunkEvents` events each (the last may hold
 * fewer), then `end`; or, at any point, `error` (and nothing after it).
 *
 * A job may cover part of the log (parallel-read.ts reads a long log's halves on two threads):
 * `from` starts at a batch boundary (the reader's own `from`), and `stopAt` ends the read once the
 * batch ending exactly there has been delivered (`end` then says so, with `stopped`). Before an
 * `error` the events of the complete batches read so far are posted, and the error carries the
 * position after them (`end`): the caller may read on from there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogHeader } from './event-log.js';
import { LogError } from './log-errors.js';
import { scanEventLog, type LogPosition, type ReadOptions, type Recovered } from './log-reader.js';
import { MemoryEventLog, type TapeParts } from './memory-log.js';

export interface ReadJob {
  path: string;
  options: ReadOptions;
  chunkEvents: number;
  /** Start after this batch boundary instead of the log's first batch. */
  from?: LogPosition;
  /** Stop after the batch that ends at this offset, if that batch is number `batches`. */
  stopAt?: { offset: number; batches: number };
}

export type ReadMessage =
  | { kind: 'header'; header: LogHeader }
  | { kind: 'chunk'; parts: TapeParts }
  | { kind: 'end'; recovered: Recovered; end: LogPosition; stopped: boolean }
  | { kind: 'error'; error: { name: string; message: string; code: string | null; details: LogError['details'] }; end: LogPosition | null };

/** Thrown from the reader's batch callback to stop at `stopAt` (not an error). */
class StopHere {}

const port = parentPort;
if (port === null) throw new Error('read-worker.js runs as a worker thread of parallel-read.ts');
const job = workerData as ReadJob;

function post(message: ReadMessage): void {
  // The tapes' buffers move to the reading thread instead of being copied.
  port!.postMessage(message, message.kind === 'chunk' ? message.parts.tapes.map((t) => t.buffer as ArrayBuffer) : []);
}

let header: LogHeader | undefined;
let log: MemoryEventLog | undefined;
/** The position after the last complete batch delivered (null before the header). */
let delivered: LogPosition | null = job.from === undefined ? null : { ...job.from };
const flush = (): void => {
  if (log !== undefined && log.length > 0) post({ kind: 'chunk', parts: log.toParts() });
  log = undefined;
};
try {
  const scan = scanEventLog(job.path, job.options, {
    ...(job.from === undefined ? {} : { from: job.from }),
    onHeader: (h) => {
      header = h;
      post({ kind: 'header', header: h });
    },
    onEvent: (e) => {
      log ??= new MemoryEventLog(header!);
      log.append(e);
      if (log.length === job.chunkEvents) flush();
    },
    onBatch: (position) => {
      delivered = { ...position };
      if (job.stopAt !== undefined && position.offset === job.stopAt.offset && position.batches === job.stopAt.batches) throw new StopHere();
    },
  });
  flush();
  post({ kind: 'end', recovered: scan.recovered, end: scan.end, stopped: false });
} catch (err) {
  flush();
  if (err instanceof StopHere) {
    post({ kind: 'end', recovered: { droppedBytes: 0 }, end: delivered!, stopped: true });
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ kind: 'error', error: { name: e.name, message: e.message, code: err instanceof LogError ? err.code : null, details: err instanceof LogError ? err.details : {} }, end: delivered });
  }
}
