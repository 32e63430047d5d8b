/**
 * Reading a log file on two cores: a worker thread reads and checks it (read-worker.ts: the same
 * reader, log-reader.ts, with every check) while the calling thread folds what has been read so
 * far. The events cross as memory logs (memory-log.ts): their tapes' buffers are moved, not copied,
 * and the caller may keep them as they come (time-travel.ts keeps its events so).
 *
 * Why: on a million-event log, reading (I/O, checksums, decoding) is about 40% of a fold from the
 * start, so overlapping the two brings the end of the log that much sooner (bench/ui.bench.mjs).
 *
 * Errors are the reader's: a LogError with its code, message and details (corruption, a torn
 * header, a newer format...), or what `onChunk` throws (the worker is stopped then). A torn tail is
 * dropped and reported in `recovered`, as scanEventLog does.
 *
 * The calling thread takes one message per turn of its event loop: a thread that reads faster than
 * the caller folds leaves its chunks waiting, and Node hands every waiting message over in one go,
 * so a slow fold (a loaded machine, a live service indexing its log) would otherwise hold the
 * caller's other work (a service's dispatch and requests) until the whole log was folded.
 */
import { Worker } from 'node:worker_threads';
import type { LogHeader } from './event-log.js';
import { LogError, type LogErrorCode } from './log-errors.js';
import type { LogPosition, ReadOptions, Recovered } from './log-reader.js';
import { MemoryEventLog } from './memory-log.js';
import type { ReadJob, ReadMessage } from './read-worker.js';
import { workerScript } from './worker-script.js';

export interface ParallelReadSink {
  /** The header, before any chunk. */
  onHeader: (header: LogHeader) => void;
  /** Each chunk of checked events, in order: `chunkEvents` of them, the last perhaps fewer. */
  onChunk: (events: MemoryEventLog) => void;
}

export interface ParallelReadResult {
  recovered: Recovered;
  end: LogPosition;
}

/** Reads `path` (from `from`, a position of it read before, if given: what it gained since) on a worker thread. */
export function readLogInParallel(path: string, options: ReadOptions, chunkEvents: number, sink: ParallelReadSink, from?: LogPosition): Promise<ParallelReadResult> {
  const job: ReadJob = { path, options, chunkEvents, ...(from === undefined ? {} : { from }) };
  const worker = new Worker(workerScript(import.meta.url, 'log', 'read-worker.js'), { workerData: job });
  return new Promise<ParallelReadResult>((resolve, reject) => {
    let header: LogHeader | null = null;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    // Messages in the order they came, the worker's exit last; one handled per turn (above).
    const waiting: (ReadMessage | { kind: 'exit'; code: number })[] = [];
    let turnAsked = false;
    const nextTurn = (): void => {
      if (turnAsked || settled || waiting.length === 0) return;
      turnAsked = true;
      setImmediate(() => {
        turnAsked = false;
        const m = waiting.shift();
        if (m !== undefined && !settled) handle(m);
        nextTurn();
      });
    };
    const handle = (m: ReadMessage | { kind: 'exit'; code: number }): void => {
      if (m.kind === 'exit') {
        fail(new Error(`the log reader's thread stopped (exit ${m.code}) before the end of ${path}`));
        return;
      }
      try {
        switch (m.kind) {
          case 'header':
            header = m.header;
            sink.onHeader(m.header);
            return;
          case 'chunk':
            sink.onChunk(MemoryEventLog.fromParts(header as LogHeader, m.parts));
            return;
          case 'end':
            settled = true;
            void worker.terminate();
            resolve({ recovered: m.recovered, end: m.end });
            return;
          case 'error': {
            const { name, message, code, details } = m.error;
            const err = code === null ? new Error(message) : new LogError(code as LogErrorCode, message, details);
            if (code === null) err.name = name;
            fail(err);
            return;
          }
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    };
    worker.on('message', (m: ReadMessage) => {
      waiting.push(m);
      nextTurn();
    });
    worker.on('error', (err) => fail(err));
    // After the messages it sent before it stopped: an 'end' waiting to be handled comes first.
    worker.on('exit', (code) => {
      waiting.push({ kind: 'exit', code });
      nextTurn();
    });
  });
}
