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
import { readLogInParallel } from '../../src/log/parallel-read.js';
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

async function inParallel(file: string, chunk: number, options: ReadOptions = {}) {
  let header: LogHeader | null = null;
  const chunks: MemoryEventLog[] = [];
  const result = await readLogInParallel(file, options, chunk, { onHeader: (h) => (header = h), onChunk: (c) => chunks.push(c) });
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

  it('hands over one chunk per turn of the event loop, also when the reader is far ahead: the caller\'s other work runs between two', async () => {
    // The first chunk is folded slowly (a loaded machine, a long log): meanwhile the reader posts
    // every other chunk. Each later chunk must still come in a turn of its own, after the work
    // queued at the one before (a live service's dispatch and requests, as it indexes its log).
    const turns: boolean[] = [];
    let ranSince = true;
    const result = await readLogInParallel(path, {}, 16, {
      onHeader: () => {},
      onChunk: (c) => {
        turns.push(ranSince);
        ranSince = false;
        setImmediate(() => (ranSince = true));
        if (turns.length === 1) {
          const until = performance.now() + 400;
          while (performance.now() < until);
        }
        expect(c.length).toBeGreaterThan(0);
      },
    });
    expect(turns.length).toBeGreaterThan(5);
    expect(turns).toEqual(turns.map(() => true));
    expect(result.end).toEqual(inOneThread(path).end);
  });
});
