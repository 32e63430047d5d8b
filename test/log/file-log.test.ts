import { readFileSync, writeFileSync, mkdtempSync, truncateSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { createFileEventLog, createFileEventLogSync, openFileEventLog, readEventLogFile } from '../../src/log/file-log.js';
import { LogError } from '../../src/log/log-errors.js';
import { scanEventLog } from '../../src/log/log-reader.js';
import { LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { TEST_HEADER } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-file-log-'));
let n = 0;
const fresh = (): string => join(dir, `log-${n++}.jsonl`);
const paused = (t: number, queue: string): EngineEvent => ({ type: 'QueuePaused', t, queue });

/** Writes `batches` batches of 1..3 events each; returns the path and the byte offset after each batch. */
async function smallLog(batches: number): Promise<{ path: string; ends: number[]; sizes: number[] }> {
  const path = fresh();
  const log = await createFileEventLog(path, TEST_HEADER, { durable: false });
  const ends: number[] = [];
  const sizes: number[] = [];
  let t = 0;
  for (let b = 0; b < batches; b++) {
    const k = 1 + (b % 3);
    for (let i = 0; i < k; i++) log.append(paused(t++, `q-é-${b}`));
    log.commit();
    ends.push(log.position().offset);
    sizes.push(k);
  }
  await log.close();
  return { path, ends, sizes };
}

async function errorOf(p: Promise<unknown>): Promise<LogError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LogError) return err;
    throw err;
  }
  throw new Error('expected a LogError');
}

describe('creating', () => {
  test('refuses to overwrite a non-empty file unless asked; an empty file is fine', async () => {
    const { path } = await smallLog(2);
    const before = readFileSync(path);
    const err = await errorOf(createFileEventLog(path, TEST_HEADER));
    expect(err.code).toBe('LOG_EXISTS');
    expect(readFileSync(path)).toEqual(before);
    const log = await createFileEventLog(path, TEST_HEADER, { overwrite: true, durable: false });
    await log.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(2);
    const empty = fresh();
    writeFileSync(empty, '');
    await (await createFileEventLog(empty, TEST_HEADER, { durable: false })).close();
  });

  test('validates every event before writing it', async () => {
    const log = createFileEventLogSync(fresh(), TEST_HEADER, { durable: false });
    expect(() => log.append({ type: 'TaskDeleted', t: -1, id: 0 })).toThrow(/refusing to write an invalid event/);
    expect(() => log.append({ type: 'TaskDeleted', t: 1, id: 0, extra: 1 } as unknown as EngineEvent)).toThrow(/unknown field extra/);
    await log.close();
  });

  test('same events give the same bytes (no wall-clock time in a virtual log)', async () => {
    const a = await smallLog(5);
    const b = await smallLog(5);
    expect(readFileSync(a.path)).toEqual(readFileSync(b.path));
  });
});

describe('group commit', () => {
  test('flushes that overlap a sync share the next one: two syncs for fifty flushes', async () => {
    const log = await createFileEventLog(fresh(), TEST_HEADER, { durable: true });
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      log.append(paused(i, 'q'));
      log.commit();
      flushes.push(log.flush());
    }
    await Promise.all(flushes);
    expect(log.syncs).toBe(2);
    // Nothing new since: no further sync.
    await log.flush();
    expect(log.syncs).toBe(2);
    log.append(paused(99, 'q'));
    log.commit();
    await log.flush();
    expect(log.syncs).toBe(3);
    await log.close();
  });

  test('an uncommitted batch is never written, even at close', async () => {
    const path = fresh();
    const log = await createFileEventLog(path, TEST_HEADER, { durable: false });
    log.append(paused(1, 'kept'));
    log.commit();
    log.append(paused(2, 'not committed'));
    await log.close();
    const r = await readEventLogFile(path);
    expect(r.events.map((e) => (e as { queue: string }).queue)).toEqual(['kept']);
    expect(r.recovered.droppedBytes).toBe(0);
  });
});

describe('recovery', () => {
  test('a log cut at ANY byte offset recovers exactly the complete batches before the cut', async () => {
    const { path, ends, sizes } = await smallLog(16);
    const bytes = readFileSync(path);
    const headerEnd = bytes.indexOf(0x0a) + 1;
    const cut = join(dir, 'cut.jsonl');
    for (let at = headerEnd; at <= bytes.length; at++) {
      writeFileSync(cut, bytes.subarray(0, at));
      const r = await readEventLogFile(cut);
      const complete = ends.filter((e) => e <= at).length;
      const expected = sizes.slice(0, complete).reduce((a, b) => a + b, 0);
      expect(r.events.length, `cut at ${at}`).toBe(expected);
      expect(r.recovered.droppedBytes, `cut at ${at}`).toBe(at - (complete === 0 ? headerEnd : (ends[complete - 1] as number)));
    }
  });

  test('a simulation log cut anywhere replays to the state of its complete batches', async () => {
    const path = fresh();
    const sim = richSimulation(5, (h) => createFileEventLogSync(path, h, { durable: false }));
    await sim.kernel.log.close();
    const bytes = readFileSync(path);
    const batchEnds: { offset: number; events: number }[] = [];
    const all: EngineEvent[] = [];
    scanEventLog(path, {}, { onEvent: (e) => all.push(e), onBatch: (p) => batchEnds.push({ offset: p.offset, events: p.events }) });
    expect(stateDigest(replay(all))).toBe(stateDigest(sim.state));
    const cut = join(dir, 'cut-sim.jsonl');
    // 200 offsets spread over the file, plus each batch end and one byte either side of a few.
    const offsets = new Set<number>();
    for (let i = 0; i < 200; i++) offsets.add(Math.floor(((i * 7919) % 200) / 200 * bytes.length));
    for (const b of batchEnds.slice(0, 20)) [b.offset - 1, b.offset, b.offset + 1].forEach((o) => offsets.add(o));
    for (const at of offsets) {
      if (at < bytes.indexOf(0x0a) + 1 || at > bytes.length) continue;
      writeFileSync(cut, bytes.subarray(0, at));
      const r = await readEventLogFile(cut);
      const complete = batchEnds.filter((b) => b.offset <= at);
      const k = complete.length === 0 ? 0 : (complete[complete.length - 1] as { events: number }).events;
      expect(r.events.length, `cut at ${at}`).toBe(k);
      expect(stateDigest(replay(r.events))).toBe(stateDigest(replay(all.slice(0, k))));
    }
  });

  test('corruption before the tail is an error naming line and byte offset; nothing is changed', async () => {
    const { path, ends } = await smallLog(10);
    const bytes = Buffer.from(readFileSync(path));
    // Damage a character inside batch 3's first event line (its queue name), keeping valid JSON.
    const lineStart = (ends[1] as number);
    const at = bytes.indexOf('q-', lineStart) + 1;
    bytes[at] = 'X'.charCodeAt(0);
    writeFileSync(path, bytes);
    const lineNo = bytes.subarray(0, lineStart).toString('utf8').split('\n').length; // 1-based line of the damaged batch's first line
    const err = await errorOf(readEventLogFile(path));
    expect(err.code).toBe('LOG_CORRUPT');
    // The checksum is checked at the marker line of that batch.
    const markerOffset = bytes.indexOf('{"commit":3', lineStart);
    const markerLine = bytes.subarray(0, markerOffset).toString('utf8').split('\n').length;
    expect(err.details.offset).toBe(markerOffset);
    expect(err.details.line).toBe(markerLine);
    expect(markerLine).toBeGreaterThan(lineNo);
    expect(err.message).toContain(`${path}:${markerLine}: corrupt log at byte ${markerOffset}: batch 3: checksum mismatch`);
    // Where a repair would cut (the end of batch 2), and the file's size, for each command's advice.
    expect(err.details).toMatchObject({ cutAt: ends[1], fileBytes: bytes.length });
    expect(readFileSync(path)).toEqual(bytes);
    // --repair reads up to the last complete batch before the damage, without changing the file.
    const r = await readEventLogFile(path, { repair: true });
    expect(r.end.offset).toBe(ends[1]);
    expect(r.recovered.repairedAt?.line).toBe(markerLine);
    expect(readFileSync(path)).toEqual(bytes);
  });

  test('a line that is not an event is corruption at that line', async () => {
    const { path, ends } = await smallLog(6);
    const bytes = readFileSync(path);
    const off = ends[0] as number;
    writeFileSync(path, Buffer.concat([bytes.subarray(0, off), Buffer.from('{"type":"QueuePaused","t":"x","queue":"q"}\n'), bytes.subarray(off)]));
    const err = await errorOf(readEventLogFile(path));
    expect(err.code).toBe('LOG_CORRUPT');
    expect(err.details.offset).toBe(off);
    expect(err.details.line).toBe(4); // header, 1 event, marker, then the bad line
    expect(err.message).toContain('QueuePaused: field t is not a whole number');
  });

  test('a bad line of a type the fast decoder handles is the same corruption, with the codec\'s message', async () => {
    const { path, ends } = await smallLog(6);
    const bytes = readFileSync(path);
    const off = ends[0] as number;
    for (const [line, message] of [
      ['{"type":"TaskDeleted","t":9007199254740992,"id":2}', 'TaskDeleted: field t is not a whole number ≥ 0'],
      ['{"type":"AttemptDispatched","t":01,"id":2}', 'not JSON ('],
      ['{"type":"AttemptFailed","t":1,"id":2,"status":null,"reason":"other","latencyUs":0,"retry":1,"delayUs":1,"retryAt":2}', 'AttemptFailed: field reason is not one of'],
      ['{"type":"TaskAdded","t":1,"id":2,"queue":"q","eta":3,"size":4,"x":5}', 'TaskAdded: unknown field x'],
    ] as const) {
      writeFileSync(path, Buffer.concat([bytes.subarray(0, off), Buffer.from(`${line}\n`), bytes.subarray(off)]));
      const err = await errorOf(readEventLogFile(path));
      expect(err.code).toBe('LOG_CORRUPT');
      expect(err.details).toMatchObject({ offset: off, line: 4 });
      expect(err.message).toContain(`corrupt log at byte ${off}: ${message}`);
    }
  });

  test('openFileEventLog cuts a torn tail and appends after the last complete batch', async () => {
    const { path, ends } = await smallLog(8);
    truncateSync(path, (ends[6] as number) + 10); // inside batch 8
    const opened = await openFileEventLog(path, { durable: false });
    expect(opened.recovered.droppedBytes).toBe(10);
    expect(statSync(path).size).toBe(ends[6]);
    const before = opened.events.length;
    opened.log.append(paused(1000, 'after-restart'));
    opened.log.commit();
    await opened.log.close();
    const r = await readEventLogFile(path);
    expect(r.recovered.droppedBytes).toBe(0);
    expect(r.events).toHaveLength(before + 1);
    expect(r.end.batches).toBe(8);
    expect(readFileSync(path, 'utf8')).toContain('{"commit":8,');
  });

  test('openFileEventLog refuses a corrupt log, and with repair cuts at the damage', async () => {
    const { path, ends } = await smallLog(6);
    const bytes = Buffer.from(readFileSync(path));
    const k = (ends[0] as number) + 30;
    bytes[k] = (bytes[k] as number) ^ 1;
    writeFileSync(path, bytes);
    expect((await errorOf(openFileEventLog(path, { durable: false }))).code).toBe('LOG_CORRUPT');
    expect(readFileSync(path)).toEqual(bytes);
    const opened = await openFileEventLog(path, { durable: false, repair: true });
    await opened.log.close();
    expect(statSync(path).size).toBe(ends[0]);
  });
});

describe('headers', () => {
  test('errors: missing file, not a log, a newer format, an empty file', async () => {
    expect((await errorOf(readEventLogFile(join(dir, 'nope.jsonl')))).code).toBe('LOG_NOT_FOUND');
    const notLog = fresh();
    writeFileSync(notLog, '{"hello":1}\n');
    expect((await errorOf(readEventLogFile(notLog))).code).toBe('LOG_NOT_PUSHQ');
    const empty = fresh();
    writeFileSync(empty, '');
    expect((await errorOf(readEventLogFile(empty))).code).toBe('LOG_NOT_PUSHQ');
    expect((await errorOf(readEventLogFile(dir))).message).toMatch(/not a file/);
    const tornHeader = fresh();
    writeFileSync(tornHeader, '{"format":"pushq-events","vers');
    expect((await errorOf(readEventLogFile(tornHeader))).message).toMatch(/header line is incomplete/);
    const { path } = await smallLog(1);
    const newer = fresh();
    copyFileSync(path, newer);
    writeFileSync(newer, readFileSync(newer, 'utf8').replace(`"version":${LOG_FORMAT_VERSION}`, '"version":7'));
    const err = await errorOf(readEventLogFile(newer));
    expect(err.code).toBe('LOG_VERSION_NEWER');
    expect(err.message).toContain(`log format version 7 is newer than this pushq (${LOG_FORMAT_VERSION})`);
  });
});
