/**
 * Reading a log file on other cores: worker threads read and check it (read-worker.ts: the same
 * reader, log-reader.ts, with every check) while the calling thread folds what has been read so
 * far. The events cross as memory logs (memory-log.ts): their tapes' buffers are moved, not copied,
 * and the caller may keep them as they come (time-travel.ts keeps its events so).
 *
 * Why: on a million-event log, reading (I/O, checksums, decoding, and the memory log's encoding)
 * costs more than the fold that waits for it, so overlapping the two brings the end of the log
 * that much sooner (bench/ui.bench.mjs).
 *
 * A long log (`splitBytesMin` and more) is read in two halves at once, on two threads: the second
 * starts at the first batch boundary past the middle of the file (after a commit marker, whose
 * batch number it is), the first stops there. The second half's events wait until the first has
 * ended on that boundary, then follow it; so the caller sees the events in order, as from one
 * reader. The halves are the one reader's answer only when they meet exactly:
 * - the first half never ends on the boundary (the "marker" found was not one, the log is damaged
 *   before it, or ends before it): the first half's reader reads on to the end, as it would alone;
 * - the second half fails, or cuts at damage (`repair`): its line numbers are counted from the
 *   boundary, so a third reader reads on from the last batch the second one delivered, knowing
 *   the true position, and gives that error or cut as the one reader does (same code, message,
 *   details), the events before it already delivered once.
 *
 * Errors are the reader's: a LogError with its code, message and details (corruption, a torn
 * header, a newer format...), or what `onChunk` throws (the workers are stopped then). A torn tail
 * is dropped and reported in `recovered`, as scanEventLog does.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { LogHeader } from './event-log.js';
import { parseMarker } from './log-format.js';
import { LogError, type LogErrorCode } from './log-errors.js';
import type { LogPosition, ReadOptions, Recovered } from './log-reader.js';
import { MemoryEventLog } from './memory-log.js';
import type { ReadJob, ReadMessage } from './read-worker.js';
import { workerScript } from './worker-script.js';

export interface ParallelReadSink {
  /** The header, before any chunk. */
  onHeader: (header: LogHeader) => void;
  /** Each chunk of checked events, in order: at most `chunkEvents` of them. */
  onChunk: (events: MemoryEventLog) => void;
}

export interface ParallelReadResult {
  recovered: Recovered;
  end: LogPosition;
}

/**
 * Logs from this size on are read in two halves: below it, a second thread's start (tens of
 * milliseconds of CPU) costs more than it saves.
 */
export const SPLIT_BYTES_MIN = 16 << 20;
/** How far past the middle a batch boundary is looked for; none there, the log is read in one piece. */
const BOUNDARY_SEARCH_BYTES = 1 << 20;

/**
 * Reads `path` in chunks of at most `chunkEvents` events. Chunks are cut at `chunkEvents` and,
 * for a split log, where the halves meet: the caller must take chunks of any length.
 */
export async function readLogInParallel(path: string, options: ReadOptions, chunkEvents: number, sink: ParallelReadSink, splitBytesMin = SPLIT_BYTES_MIN): Promise<ParallelReadResult> {
  const base: ReadJob = { path, options: { ...(options.repair === undefined ? {} : { repair: options.repair }) }, chunkEvents };
  const boundary = findBoundary(path, splitBytesMin);
  let header: LogHeader | null = null;
  const onHeader = (h: LogHeader): void => {
    header = h;
    sink.onHeader(h);
  };
  const onChunk = (parts: ChunkParts): void => sink.onChunk(MemoryEventLog.fromParts(header as LogHeader, parts));
  if (boundary === null) return finish(startReader(base, onHeader, onChunk));

  // The second half starts counting at the boundary: batches from the marker's number, events and
  // lines from where they stand there (unknown until the first half ends; rebased then).
  const secondFrom: LogPosition = { offset: boundary.offset, batches: boundary.batches, events: 0, nextLine: 1 };
  const waiting: ChunkParts[] = [];
  let follow: ((parts: ChunkParts) => void) | null = null;
  const halves: { second: Reader | null } = { second: null };
  const startSecond = (): Reader => (halves.second ??= startReader({ ...base, from: secondFrom }, () => {}, (parts) => (follow === null ? waiting.push(parts) : follow(parts))));
  // The second thread starts once the first has delivered its first chunk: the two starting at
  // once share the cores while the fold waits for that chunk.
  const first = startReader({ ...base, stopAt: { offset: boundary.offset, batches: boundary.batches } }, onHeader, (parts) => {
    onChunk(parts);
    startSecond();
  });
  let firstEnd: ReaderEnd;
  try {
    firstEnd = await first.done;
  } catch (err) {
    halves.second?.stop();
    throw err instanceof ReaderFailed ? err.error : err;
  }
  if (!firstEnd.stopped) {
    // The halves did not meet: the first reader read the whole log.
    halves.second?.stop();
    return { recovered: firstEnd.recovered, end: firstEnd.end };
  }
  const met = firstEnd.end;
  const rebase = (p: LogPosition): LogPosition => ({ offset: p.offset, batches: p.batches, events: met.events + p.events, nextLine: met.nextLine + p.nextLine - 1 });
  const rest = startSecond(); // (a first half without a chunk: its batches are empty)
  try {
    for (const parts of waiting.splice(0)) onChunk(parts);
    follow = onChunk;
  } catch (err) {
    rest.stop();
    throw err;
  }
  let secondEnd: ReaderEnd;
  try {
    secondEnd = await rest.done;
  } catch (err) {
    if (!(err instanceof ReaderFailed)) throw err; // onChunk refused a chunk
    return finish(startReader({ ...base, from: err.end === null ? met : rebase(err.end) }, () => {}, onChunk));
  }
  if (secondEnd.recovered.repairedAt !== undefined) return finish(startReader({ ...base, from: rebase(secondEnd.end) }, () => {}, onChunk));
  return { recovered: secondEnd.recovered, end: rebase(secondEnd.end) };
}

type ChunkParts = Extract<ReadMessage, { kind: 'chunk' }>['parts'];

interface ReaderEnd {
  recovered: Recovered;
  end: LogPosition;
  stopped: boolean;
}

/** A worker's failure: the reader's error, and where the events it delivered end. */
class ReaderFailed extends Error {
  constructor(
    readonly error: Error,
    readonly end: LogPosition | null,
  ) {
    super(error.message);
  }
}

async function finish(reader: Reader): Promise<ParallelReadResult> {
  try {
    const { recovered, end } = await reader.done;
    return { recovered, end };
  } catch (err) {
    throw err instanceof ReaderFailed ? err.error : err;
  }
}

interface Reader {
  /** Its end, or ReaderFailed (the reader's error), or what a callback threw. */
  done: Promise<ReaderEnd>;
  stop: () => void;
}

/** One worker thread on `job`; its messages to the callbacks, in order. */
function startReader(job: ReadJob, onHeader: (h: LogHeader) => void, onChunk: (parts: ChunkParts) => void): Reader {
  const worker = new Worker(workerScript(import.meta.url, 'log', 'read-worker.js'), { workerData: job });
  let settled = false;
  const stop = (): void => {
    settled = true;
    void worker.terminate();
  };
  const done = new Promise<ReaderEnd>((resolve, reject) => {
    const fail = (err: Error): void => {
      if (settled) return;
      stop();
      reject(err);
    };
    worker.on('message', (m: ReadMessage) => {
      if (settled) return;
      try {
        switch (m.kind) {
          case 'header':
            onHeader(m.header);
            return;
          case 'chunk':
            onChunk(m.parts);
            return;
          case 'end':
            stop();
            resolve({ recovered: m.recovered, end: m.end, stopped: m.stopped });
            return;
          case 'error': {
            const { name, message, code, details } = m.error;
            const err = code === null ? new Error(message) : new LogError(code as LogErrorCode, message, details);
            if (code === null) err.name = name;
            fail(new ReaderFailed(err, m.end));
            return;
          }
        }
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`the log reader's thread stopped (exit ${code}) before the end of ${job.path}`)));
  });
  // Awaited later, or never (a second half not needed): its failure is read then, not reported as unhandled.
  done.catch(() => undefined);
  return { done, stop };
}

/**
 * Where a long log may be cut in two: just after the first commit marker line that starts past
 * the middle of the file (within BOUNDARY_SEARCH_BYTES), and that batch's number. Null for a log
 * shorter than `splitBytesMin`, or none found, or the file unreadable (the reader reports that).
 */
export function findBoundary(path: string, splitBytesMin: number): { offset: number; batches: number } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size < splitBytesMin) return null;
    const start = Math.floor(st.size / 2);
    const buf = Buffer.allocUnsafe(Math.min(BOUNDARY_SEARCH_BYTES, st.size - start));
    const n = readSync(fd, buf, 0, buf.length, start);
    // The first '\n' ends the line the middle falls in; complete lines follow it.
    let lineStart = buf.indexOf(0x0a, 0) + 1;
    if (lineStart === 0) return null;
    for (;;) {
      const nl = buf.indexOf(0x0a, lineStart);
      if (nl < 0 || nl >= n) return null;
      if (buf[lineStart] === 0x7b && buf[lineStart + 1] === 0x22 && buf[lineStart + 2] === 0x63) {
        const marker = parseMarker(buf.toString('utf8', lineStart, nl));
        if (marker !== null) return { offset: start + nl + 1, batches: marker.commit };
      }
      lineStart = nl + 1;
    }
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
