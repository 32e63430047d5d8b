/**
 * Reading a log file (format in log-format.ts): header, then batches, each delivered only once
 * its commit marker has been checked, so a reader never sees part of a batch.
 *
 * Recovery rules:
 * - torn tail: the first damage is in the last batch of the file (no complete commit marker
 *   follows it): everything from the end of the last complete batch is dropped, and
 *   `recovered.droppedBytes` says how much (the caller warns). A crash mid-write looks like this.
 * - corruption: damage with a complete marker somewhere after it is not a crash: a LogError
 *   LOG_CORRUPT naming the line and byte offset, and nothing is cut, unless `repair` is asked
 *   for: then reading stops at the last complete batch before the damage, as for a torn tail.
 * Reading never changes the file (openFileEventLog truncates, and only the dropped part).
 *
 * Speed: the file is read in large chunks and split on '\n' here; the frequent event lines are
 * decoded straight from the bytes by fast-decode.ts (exactly what JSON.parse plus the codec's
 * checks give, in every format version), any other line is one JSON.parse plus the codec's
 * checks for the log's version (an older version's event then takes the current shape); the CRC
 * is one call per batch over bytes already in memory (one more when the buffer moves mid-batch).
 */
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { EngineEvent } from '../core/events.js';
import { readFailure } from '../core/read-failure.js';
import { checkEvent, upgradeEvent } from './codec.js';
import { CRC32_EMPTY, crc32, crc32Hex } from './crc32.js';
import { LOG_FORMAT_VERSION, type LogHeader } from './event-log.js';
import { fastDecode } from './fast-decode.js';
import { decodeHeader, markerRead, parseMarker, parseMarkerBytes } from './log-format.js';
import { LogError } from './log-errors.js';

const CHUNK_BYTES = 8 << 20;
const NL = 0x0a;

export interface ReadOptions {
  /** Cut at the last complete batch before corruption instead of failing. */
  repair?: boolean;
}

export interface Recovered {
  /** Bytes after the last complete batch that were ignored (torn tail, or repaired corruption). */
  droppedBytes: number;
  /** Set when `repair` cut at corruption: what was wrong, where. */
  repairedAt?: { line: number; offset: number; problem: string };
}

/** Where a log stands after its last complete batch: what a snapshot records, where appends go. */
export interface LogPosition {
  /** Byte offset just after the last complete batch's marker. */
  offset: number;
  /** Complete batches. */
  batches: number;
  /** Events in them. */
  events: number;
  /** 1-based number of the next line to be written. */
  nextLine: number;
}

export interface ScanResult {
  header: LogHeader;
  recovered: Recovered;
  end: LogPosition;
  fileBytes: number;
}

export interface ScanCallbacks {
  /** The header, before any event. */
  onHeader?: (header: LogHeader) => void;
  /** Each event of each complete batch, in order; `index` counts from 0. */
  onEvent?: (e: EngineEvent, index: number) => void;
  /** After each complete batch. */
  onBatch?: (position: LogPosition) => void;
  /** Skip the first `offset` bytes (a snapshot's position): batches before it are not delivered. */
  from?: LogPosition;
}

/**
 * Reads a whole log, calling back per event and batch, without keeping the events: the streaming
 * reader for big logs (replay, snapshots, the benchmark). `readEventLogFile` collects the events.
 */
export function scanEventLog(path: string, options: ReadOptions = {}, callbacks: ScanCallbacks = {}): ScanResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new LogError('LOG_NOT_FOUND', `${path}: ${readFailure(err)}`, { file: path });
  }
  try {
    return scanFd(fd, path, options, callbacks);
  } finally {
    closeSync(fd);
  }
}

function scanFd(fd: number, file: string, options: ReadOptions, cb: ScanCallbacks): ScanResult {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new LogError('LOG_NOT_FOUND', `${file}: not a file`, { file });
  const size = st.size;
  if (size === 0) throw new LogError('LOG_NOT_PUSHQ', `${file}: empty file, not a pushq event log`, { file });
  let buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size, 1)));
  let bufBase = 0; // file offset of buf[0]
  let filled = 0;
  let eof = false;
  const fill = (): void => {
    // Read after the `filled` bytes kept (an unfinished line, moved to the front), up to a full buffer or the end.
    while (filled < buf.length && !eof) {
      const n = readSync(fd, buf, filled, buf.length - filled, bufBase + filled);
      if (n === 0) eof = true;
      filled += n;
    }
  };
  fill();

  // Header.
  let nl = buf.indexOf(NL, 0);
  while (nl < 0 && !eof) {
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, filled);
    buf = bigger;
    fill();
    nl = buf.indexOf(NL, 0);
  }
  if (nl < 0 || nl >= filled) {
    // No complete first line: a torn header, or not a log at all.
    if (!buf.toString('utf8', 0, Math.min(filled, 64)).startsWith('{"format":"pushq-events"')) decodeHeader(buf.toString('utf8', 0, filled), file);
    throw new LogError('LOG_NOT_PUSHQ', `${file}: the header line is incomplete (the log was cut while it was being created)`, { file, line: 1, offset: 0 });
  }
  const header = decodeHeader(buf.toString('utf8', 0, nl), file);
  const version = header.version;
  cb.onHeader?.(header);

  const from = cb.from;
  const onEvent = cb.onEvent;
  const onBatch = cb.onBatch;
  const end: LogPosition = { offset: nl + 1, batches: 0, events: 0, nextLine: 2 };
  let line = 2;
  let pos = nl + 1; // index in buf of the next line's start
  if (from !== undefined && from.offset > end.offset) {
    // Jump to the snapshot's position: it must be a batch boundary of this log (the caller checks the prefix hash).
    if (from.offset > size) throw new LogError('SNAPSHOT_INVALID', `${file}: the snapshot's position (byte ${from.offset}) is past the end of the log (${size} bytes)`, { file });
    end.offset = from.offset;
    end.batches = from.batches;
    end.events = from.events;
    end.nextLine = from.nextLine;
    line = from.nextLine;
    bufBase = from.offset;
    filled = 0;
    eof = false;
    fill();
    pos = 0;
  }

  // Lines the fast path (fast-decode.ts) leaves go through JSON.parse. For them an all-ASCII chunk
  // is decoded once, and each line is a slice of it: cheaper than decoding line by line (byte and
  // character offsets are then the same). Done on the chunk's first such line, not up front, as
  // most chunks have none: `text` is undefined until then.
  let text: string | null | undefined;
  const decodeChunk = (): string | null => {
    text = isAscii(buf.subarray(0, filled)) ? buf.toString('latin1', 0, filled) : null;
    return text;
  };
  const batchEvents: EngineEvent[] = [];
  // The batch's CRC covers buf[crcFrom, pos) plus, in `crc`, what it had before the buffer last moved.
  let crc = CRC32_EMPTY;
  let crcFrom = pos;
  let problem: { line: number; offset: number; message: string } | null = null;

  outer: for (;;) {
    let nlAt = buf.indexOf(NL, pos);
    if (nlAt < 0 || nlAt >= filled) {
      if (eof) break;
      // Move the unfinished line to the front and read more (grow if one line fills the buffer).
      crc = crc32(buf, crcFrom, pos, crc);
      crcFrom = 0;
      const rest = filled - pos;
      if (rest === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, pos, filled);
        buf = bigger;
      } else {
        buf.copy(buf, 0, pos, filled);
      }
      bufBase += pos;
      filled = rest;
      pos = 0;
      fill();
      text = undefined;
      continue;
    }
    // buf[pos, nlAt) is a line.
    if (buf[pos] === 0x7b && buf[pos + 1] === 0x22 && buf[pos + 2] === 0x63) {
      // {"c... : a commit marker.
      let why: string | null = null;
      const crcNow = crc32(buf, crcFrom, pos, crc);
      if (!parseMarkerBytes(buf, pos, nlAt)) why = 'malformed commit marker';
      else if (markerRead.commit !== end.batches + 1) why = `commit marker for batch ${markerRead.commit}, expected batch ${end.batches + 1}`;
      else if (markerRead.n !== batchEvents.length) why = `batch ${markerRead.commit} declares ${markerRead.n} events but has ${batchEvents.length}`;
      else if (markerRead.crc !== crcNow) why = `batch ${markerRead.commit}: checksum mismatch (recorded ${crc32Hex(markerRead.crc)}, computed ${crc32Hex(crcNow)})`;
      if (why !== null) {
        problem = { line, offset: bufBase + pos, message: why };
        break outer;
      }
      if (onEvent) {
        let index = end.events;
        for (let i = 0; i < batchEvents.length; i++) onEvent(batchEvents[i] as EngineEvent, index++);
      }
      end.events += batchEvents.length;
      end.batches++;
      end.offset = bufBase + nlAt + 1;
      end.nextLine = line + 1;
      if (onBatch) onBatch(end);
      batchEvents.length = 0; // reused: most batches hold one or two events, a new array each is garbage
      crc = CRC32_EMPTY;
      crcFrom = nlAt + 1;
    } else {
      let value: unknown = fastDecode(buf, pos, nlAt);
      let why: string | null = null;
      if (value === null) {
        const chunk = text === undefined ? decodeChunk() : text;
        try {
          value = JSON.parse(chunk !== null ? chunk.slice(pos, nlAt) : buf.toString('utf8', pos, nlAt));
          why = checkEvent(value, version);
          // An older version's line, valid in its layout, becomes the current shape (schemas.ts).
          if (why === null && version !== LOG_FORMAT_VERSION) value = upgradeEvent(value, version);
        } catch (err) {
          why = `not JSON (${(err as Error).message})`;
        }
      }
      if (why !== null) {
        problem = { line, offset: bufBase + pos, message: why };
        break outer;
      }
      batchEvents.push(value as EngineEvent);
    }
    line++;
    pos = nlAt + 1;
  }

  const dropped = size - end.offset;
  const recovered: Recovered = { droppedBytes: dropped };
  if (problem !== null && completeMarkerAfter(fd, problem.offset, size)) {
    if (!options.repair) {
      // What a repair would do (cut at `cutAt`, dropping the rest) is each command's to say: the details carry it.
      throw new LogError('LOG_CORRUPT', `${file}:${problem.line}: corrupt log at byte ${problem.offset}: ${problem.message} (complete batches follow, so this is not a torn tail)`, {
        file,
        line: problem.line,
        offset: problem.offset,
        cutAt: end.offset,
        fileBytes: size,
      });
    }
    recovered.repairedAt = { line: problem.line, offset: problem.offset, problem: problem.message };
  }
  return { header, recovered, end: { ...end }, fileBytes: size };
}

/** Whether a complete, well-formed commit marker line starts anywhere after `offset`. */
function completeMarkerAfter(fd: number, offset: number, size: number): boolean {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - offset + 1));
  let base = offset;
  let carry = '';
  let first = true;
  while (base < size) {
    const n = readSync(fd, chunk, 0, chunk.length, base);
    if (n === 0) break;
    base += n;
    const text = carry + chunk.toString('utf8', 0, n);
    const lines = text.split('\n');
    carry = lines.pop() as string;
    for (const l of lines) {
      // The damaged line itself is skipped: it may be the marker with a bad checksum.
      if (first) {
        first = false;
        continue;
      }
      if (l.startsWith('{"commit":') && parseMarker(l) !== null) return true;
    }
  }
  return false;
}
