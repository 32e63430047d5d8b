/**
 * The worker thread of parallel-read.ts: reads a log file with the reader's every check
 * (log-reader.ts) and posts its events, a memory log's worth at a time, as they are checked.
 * Messages, in order: `header`, then `chunk`s of `chunkEvents` events each (the last may hold
 * fewer), then `end`; or, at any point, `error` (and nothing after it).
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
  /** Where to start: a position of this log read before (its batches before it are not sent). */
  from?: LogPosition;
}

export type ReadMessage =
  | { kind: 'header'; header: LogHeader }
  | { kind: 'chunk'; parts: TapeParts }
  | { kind: 'end'; recovered: Recovered; end: LogPosition }
  | { kind: 'error'; error: { name: string; message: string; code: string | null; details: LogError['details'] } };

const port = parentPort;
if (port === null) throw new Error('read-worker.js runs as a worker thread of parallel-read.ts');
const job = workerData as ReadJob;

function post(message: ReadMessage): void {
  // The tapes' buffers move to the reading thread instead of being copied.
  port!.postMessage(message, message.kind === 'chunk' ? message.parts.tapes.map((t) => t.buffer as ArrayBuffer) : []);
}

try {
  let header: LogHeader | undefined;
  let log: MemoryEventLog | undefined;
  const scan = scanEventLog(job.path, job.options, {
    ...(job.from === undefined ? {} : { from: job.from }),
    onHeader: (h) => {
      header = h;
      log = new MemoryEventLog(h);
      post({ kind: 'header', header: h });
    },
    onEvent: (e) => {
      log!.append(e);
      if (log!.length === job.chunkEvents) {
        post({ kind: 'chunk', parts: log!.toParts() });
        log = new MemoryEventLog(header!);
      }
    },
  });
  if (log !== undefined && log.length > 0) post({ kind: 'chunk', parts: log.toParts() });
  post({ kind: 'end', recovered: scan.recovered, end: scan.end });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ kind: 'error', error: { name: e.name, message: e.message, code: err instanceof LogError ? err.code : null, details: err instanceof LogError ? err.details : {} } });
}
