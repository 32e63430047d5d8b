/**
 * The log read on a worker thread (src/log/parallel-read.ts) against the reader it runs
 * (scanEventLog): the same events in the same order, in memory logs of the chunk size asked for;
 * the same torn-tail recovery; the same errors (code, message, details) for a missing file, a file
 * that is not a log, corruption, and with `repair` the same cut. And a sink that throws stops the read.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import type { LogHeader } from '../../src/log/event-log.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { LogError } from '../../src/log/log-errors.js';
import { scanEventLog, type ReadOptions } from '../../src/log/log-reader.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { findBoundary, readLogInParallel } from '../../src/log/parallel-read.js';
import { richSimulation } from '../helpers/rich-sim.js';

let dir: string;
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-parallel-read-'));
  path = join(dir, 'rich.jsonl');
  const sim = richSimulation(7, (h) => createFileEventLogSync(path, h, { durable: false }));
  await sim.kernel.log.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inParallel(file: string, chunk: number, options: ReadOptions = {}, splitBytesMin?: number) {
  let header: LogHeader | null = null;
  const chunks: MemoryEventLog[] = [];
  const result = await readLogInParallel(file, options, chunk, { onHeader: (h) => (header = h), onChunk: (c) => chunks.push(c) }, splitBytesMin);
  return { header, chunks, events: chunks.flatMap((c) => c.toArray()), ...result };
}

function inOneThread(file: string, options: ReadOptions = {}) {
  const events: EngineEvent[] = [];
  const scan = scanEventLog(file, options, { onEvent: (e) => events.push(e) });
  return { header: scan.header, events, recovered: scan.recovered, end: scan.end };
}

async function errorOf(p: Promise<unknown>): Promise<LogError> {
  try {
    await p;
  } catch (err) {
    return err as LogError;
  }
  throw new Error('no error');
}

function syncErrorOf(f: () => unknown): LogError {
  try {
    f();
  } catch (err) {
    return err as LogError;
  }
  throw new Error('no error');
}

describe('readLogInParallel', () => {
  it('gives the events scanEventLog gives, in chunks of the size asked for, each one appendable', async () => {
    const one = inOneThread(path);
    expect(one.events.length).toBeGreaterThan(200);
    for (const size of [1, 17, 64, 100_000]) {
      const two = await inParallel(path, size);
      expect(two.header).toEqual(one.header);
      // Byte for byte: the JSON of each event, key order included.
      expect(two.events.map((e) => JSON.stringify(e))).toEqual(one.events.map((e) => JSON.stringify(e)));
      expect(two.chunks.slice(0, -1).every((c) => c.length === size)).toBe(true);
      expect((two.chunks.at(-1) as MemoryEventLog).length).toBeLessThanOrEqual(size);
      expect(two.end).toEqual(one.end);
      expect(two.recovered).toEqual(one.recovered);
    }
    // A chunk goes on as a memory log: appending after what it holds.
    const { chunks } = await inParallel(path, 64);
    const last = chunks.at(-1) as MemoryEventLog;
    const extra = one.events.slice(0, 300);
    for (const e of extra) last.append(e);
    expect(last.toArray().slice(-300).map((e) => JSON.stringify(e))).toEqual(extra.map((e) => JSON.stringify(e)));
  });

  it('a memory log moved as parts (a long one: its tape kept as it is) reads back and appends as the original', () => {
    const one = inOneThread(path);
    const original = new MemoryEventLog(one.header);
    while (original.length < 20_000) for (const e of one.events) original.append(e);
    const moved = MemoryEventLog.fromParts(one.header, structuredClone(original.toParts()));
    const more = one.events.slice(0, 50);
    for (const e of more) {
      original.append(e);
      moved.append(e);
    }
    expect(moved.length).toBe(original.length);
    expect(moved.toArray().map((e) => JSON.stringify(e))).toEqual(original.toArray().map((e) => JSON.stringify(e)));
  });

  it('a torn tail is dropped and reported as the one-thread reader does', async () => {
    const torn = join(dir, 'torn.jsonl');
    writeFileSync(torn, readFileSync(path));
    appendFileSync(torn, '{"t":1,"type":"TaskAdded","queue":"mail"');
    const one = inOneThread(torn);
    const two = await inParallel(torn, 50);
    expect(two.recovered.droppedBytes).toBeGreaterThan(0);
    expect(two.recovered).toEqual(one.recovered);
    expect(two.events.length).toBe(one.events.length);
  });

  it('fails as the one-thread reader does: missing, not a log, corrupt (and repair cuts at the damage)', async () => {
    const corrupt = join(dir, 'corrupt.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    // An event line in the middle, changed: its batch's checksum no longer matches, and complete batches follow.
    const at = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith('{"type":'));
    lines[at] = (lines[at] as string).replace(/"t":/, '"t":9');
    writeFileSync(corrupt, lines.join('\n'));
    const notLog = join(dir, 'not-a-log.txt');
    writeFileSync(notLog, 'hello\nworld\n');
    const codes = [];
    for (const file of [join(dir, 'missing.jsonl'), notLog, corrupt]) {
      const expected = syncErrorOf(() => scanEventLog(file));
      codes.push(expected.code);
      const got = await errorOf(inParallel(file, 32));
      expect(got).toBeInstanceOf(LogError);
      expect({ code: got.code, message: got.message, details: got.details }).toEqual({ code: expected.code, message: expected.message, details: expected.details });
    }
    expect(codes).toEqual(['LOG_NOT_FOUND', 'LOG_NOT_PUSHQ', 'LOG_CORRUPT']);
    const repaired = await inParallel(corrupt, 32, { repair: true });
    expect(repaired.recovered).toEqual(inOneThread(corrupt, { repair: true }).recovered);
    expect(repaired.recovered.repairedAt).toBeDefined();
  });

  it('a chunk the caller refuses (its callback throws) ends the read with that error', async () => {
    let chunks = 0;
    const err = await errorOf(
      readLogInParallel(path, {}, 16, {
        onHeader: () => {},
        onChunk: () => {
          if (++chunks === 3) throw new RangeError('refused');
        },
      }),
    );
    expect(err).toBeInstanceOf(RangeError);
    expect(chunks).toBe(3);
  });
});

/** Every batch boundary scanEventLog passes: offset → position. */
function boundaries(file: string): Map<number, { batches: number; events: number; nextLine: number }> {
  const all = new Map<number, { batches: number; events: number; nextLine: number }>();
  scanEventLog(file, {}, { onBatch: (p) => all.set(p.offset, { batches: p.batches, events: p.events, nextLine: p.nextLine }) });
  return all;
}

describe('readLogInParallel, a long log read in two halves at once', () => {
  const SPLIT = 1; // every log here is long enough

  /** A copy of the log with line `lineNo` (1-based) changed by `edit`. */
  function damaged(name: string, lineNo: (lines: string[]) => number, edit: (line: string) => string): string {
    const file = join(dir, name);
    const lines = readFileSync(path, 'utf8').split('\n');
    const at = lineNo(lines) - 1;
    lines[at] = edit(lines[at] as string);
    writeFileSync(file, lines.join('\n'));
    return file;
  }
  /** The 1-based number of the first line of `kind` (event or marker) at or past `fraction` of the file's bytes. */
  function lineAfter(lines: string[], fraction: number, kind: 'event' | 'marker'): number {
    const size = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    let offset = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i] as string;
      if (offset >= size * fraction && l.startsWith(kind === 'marker' ? '{"commit":' : '{"t')) return i + 1;
      offset += Buffer.byteLength(l) + 1;
    }
    throw new Error('no such line');
  }

  it('cuts after a commit marker past the middle: a boundary the one reader passes, with its batch number', () => {
    const b = findBoundary(path, SPLIT);
    expect(b).not.toBeNull();
    const at = boundaries(path).get(b!.offset);
    expect(at?.batches).toBe(b!.batches);
    expect(b!.offset).toBeGreaterThanOrEqual(readFileSync(path).length / 2);
    // Below the size asked for, or no file: not cut.
    expect(findBoundary(path, readFileSync(path).length + 1)).toBeNull();
    expect(findBoundary(join(dir, 'missing.jsonl'), SPLIT)).toBeNull();
  });

  it('gives the events, end and recovery of the one reader, chunks no longer than asked', async () => {
    const one = inOneThread(path);
    for (const size of [1, 13, 100_000]) {
      const two = await inParallel(path, size, {}, SPLIT);
      expect(two.header).toEqual(one.header);
      expect(two.events.map((e) => JSON.stringify(e))).toEqual(one.events.map((e) => JSON.stringify(e)));
      expect(two.chunks.every((c) => c.length > 0 && c.length <= size)).toBe(true);
      expect(two.end).toEqual(one.end);
      expect(two.recovered).toEqual(one.recovered);
    }
    // Cut where the halves meet: more chunks than the size alone makes.
    expect((await inParallel(path, 100_000, {}, SPLIT)).chunks.length).toBe(2);
  });

  it('a torn tail (in the second half) is dropped and reported as the one reader does', async () => {
    const torn = join(dir, 'torn-split.jsonl');
    writeFileSync(torn, readFileSync(path));
    appendFileSync(torn, '{"t":1,"type":"TaskAdded","queue":"mail"');
    const one = inOneThread(torn);
    const two = await inParallel(torn, 20, {}, SPLIT);
    expect(two.recovered.droppedBytes).toBeGreaterThan(0);
    expect({ recovered: two.recovered, end: two.end }).toEqual({ recovered: one.recovered, end: one.end });
    expect(two.events.map((e) => JSON.stringify(e))).toEqual(one.events.map((e) => JSON.stringify(e)));
  });

  it("corruption in either half, or at the marker where they meet: the one reader's error, line and all; repair cuts where it cuts", async () => {
    const cases = [
      damaged('corrupt-second.jsonl', (l) => lineAfter(l, 0.8, 'event'), (l) => l.replace(/"t":/, '"t":9')),
      damaged('corrupt-first.jsonl', (l) => lineAfter(l, 0.2, 'event'), (l) => l.replace(/"t":/, '"t":9')),
      // The marker the halves would meet at, with a wrong checksum: the first half stops before it.
      damaged('corrupt-boundary.jsonl', (l) => lineAfter(l, 0.5, 'marker'), (l) => l.replace(/"crc":"./, (m) => m.slice(0, -1) + (m.endsWith('0"') ? '1' : '0'))),
      // Not JSON just past the boundary: the second half fails on its first line.
      damaged('garbage-second.jsonl', (l) => lineAfter(l, 0.5, 'marker') + 1, () => 'not json'),
    ];
    for (const file of cases) {
      const expected = syncErrorOf(() => scanEventLog(file));
      expect(expected.code).toBe('LOG_CORRUPT');
      const got = await errorOf(inParallel(file, 16, {}, SPLIT));
      expect(got).toBeInstanceOf(LogError);
      expect({ code: got.code, message: got.message, details: got.details }).toEqual({ code: expected.code, message: expected.message, details: expected.details });
      const one = inOneThread(file, { repair: true });
      const two = await inParallel(file, 16, { repair: true }, SPLIT);
      expect(two.recovered.repairedAt).toBeDefined();
      expect({ recovered: two.recovered, end: two.end }).toEqual({ recovered: one.recovered, end: one.end });
      expect(two.events.map((e) => JSON.stringify(e))).toEqual(one.events.map((e) => JSON.stringify(e)));
    }
  });

  it("a missing file or one that is not a log: the one reader's error", async () => {
    const notLog = join(dir, 'not-a-log-split.txt');
    writeFileSync(notLog, 'hello\n{"commit":1,"n":1,"crc":"00000000"}\nworld\n{"commit":2,"n":1,"crc":"00000000"}\n');
    expect(findBoundary(notLog, SPLIT)).not.toBeNull(); // a "marker" to cut at: the first half's error comes first
    for (const file of [join(dir, 'missing.jsonl'), notLog]) {
      const expected = syncErrorOf(() => scanEventLog(file));
      const got = await errorOf(inParallel(file, 16, {}, SPLIT));
      expect({ code: got.code, message: got.message, details: got.details }).toEqual({ code: expected.code, message: expected.message, details: expected.details });
    }
  });

  it('a chunk the caller refuses in the second half ends the read with that error', async () => {
    const total = inOneThread(path).events.length;
    let seen = 0;
    const err = await errorOf(
      readLogInParallel(
        path,
        {},
        16,
        {
          onHeader: () => {},
          onChunk: (c) => {
            seen += c.length;
            if (seen > total * 0.8) throw new RangeError('refused');
          },
        },
        SPLIT,
      ),
    );
    expect(err).toBeInstanceOf(RangeError);
  });
});

