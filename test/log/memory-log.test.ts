/**
 * The memory log (src/log/memory-log.ts, records laid out by src/log/tape.ts from the event
 * schema) gives back every event it was given, in order, equal and with the same key order (so
 * the same JSON), whether it kept it as a tape record or as the object itself; also across its
 * 8 MiB chunks. Read from a mark (`readFrom`, as the dashboard's past of a live service takes what
 * the log gained), it gives the events from there on, none twice, none missed, as the log grows.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ENGINE_EVENT_TYPES } from '../../src/core/event-schema.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_START, MemoryEventLog, type LogMark } from '../../src/log/memory-log.js';
import { TAPED_TYPES } from '../../src/log/tape.js';
import { eventArbitrary } from '../../spec/helpers/events.js';
import { TEST_HEADER } from './conformance.js';

function roundTrip(events: readonly EngineEvent[]): EngineEvent[] {
  const log = new MemoryEventLog(TEST_HEADER);
  for (const e of events) log.append(e);
  expect(log.length).toBe(events.length);
  return log.toArray();
}

function expectSame(got: readonly EngineEvent[], want: readonly EngineEvent[]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((e, i) => {
    // (fast-check's records have another prototype than the log's plain objects: compare values and bytes.)
    expect(e).toEqual(want[i]);
    expect(JSON.stringify(e)).toBe(JSON.stringify(want[i]));
  });
}

describe('memory log', () => {
  test('every type but ConfigApplied has a tape record (the others are kept as objects)', () => {
    expect(TAPED_TYPES).toEqual(ENGINE_EVENT_TYPES.filter((t) => t !== 'ConfigApplied'));
  });

  test('any events, of every type with every optional field, come back equal, in order, with the same JSON', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 30 }), (events) => expectSame(roundTrip(events), events)),
      { numRuns: 300 },
    );
  });

  test('edge values on the tape: null statuses, each reason, forced, 2^53 - 1, queue names that repeat', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const events: EngineEvent[] = [
      { type: 'TaskAdded', t: 0, id: 0, queue: 'a', eta: max, size: 0 },
      { type: 'TaskAdded', t: 1, id: 1, queue: 'b', eta: 1, size: 1 },
      { type: 'TaskAdded', t: 2, id: 2, queue: 'a', eta: 2, size: 2, options: { name: 'n' } },
      { type: 'AttemptDispatched', t: 3, id: 0 },
      { type: 'AttemptDispatched', t: 3, id: 1, forced: true },
      { type: 'AttemptFailed', t: 4, id: 0, status: null, reason: 'deadline', latencyUs: 1, retry: 1, delayUs: 2, retryAt: 6 },
      { type: 'AttemptFailed', t: 4, id: 1, status: 503, reason: 'status', latencyUs: 1, retry: 1, delayUs: 2, retryAt: 6 },
      { type: 'AttemptFailed', t: 4, id: 1, status: null, reason: 'connection', error: 'ECONNREFUSED', latencyUs: 1, retry: 2, delayUs: 2, retryAt: 6 },
      { type: 'TaskGaveUp', t: 5, id: 0, status: null, reason: 'connection', latencyUs: max },
      { type: 'AttemptOrphaned', t: 5, id: 2, status: null, latencyUs: 0 },
      { type: 'AttemptSucceeded', t: 6, id: 1, status: 200, latencyUs: 7 },
      { type: 'QueuePaused', t: 7, queue: 'b' },
      { type: 'QueueResumed', t: 8, queue: 'b' },
      { type: 'QueuePurged', t: max, queue: 'a' },
    ];
    expectSame(roundTrip(events), events);
  });

  test('hundreds of thousands of events span several chunks and come back in order', () => {
    const events: EngineEvent[] = [];
    for (let i = 0; i < 600_000; i++) {
      // Records of 3, 9 and 2 (object) slots, so chunks end at different offsets.
      if (i % 7 === 0) events.push({ type: 'AttemptFailed', t: i, id: i, status: 500, reason: 'status', latencyUs: i, retry: 1, delayUs: 2, retryAt: i + 2 });
      else if (i % 11 === 0) events.push({ type: 'TaskDeleted', t: i, id: i });
      else if (i % 13 === 0) events.push({ type: 'AttemptFailed', t: i, id: i, status: null, reason: 'connection', error: `e${i}`, latencyUs: i, retry: 1, delayUs: 2, retryAt: i + 2 });
      else events.push({ type: 'AttemptDispatched', t: i, id: i });
    }
    const log = new MemoryEventLog(TEST_HEADER);
    for (const e of events) log.append(e);
    expect(log.bytes).toBeGreaterThan(2 * 8 * (1 << 20)); // at least three chunks
    let i = 0;
    const wrong: number[] = [];
    for (const e of log) {
      const want = events[i] as EngineEvent;
      if (e.t !== i || e.type !== want.type || JSON.stringify(e) !== JSON.stringify(want)) wrong.push(i);
      i++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(i).toBe(events.length);
  });

  test('read from a mark a piece at a time while the log grows (and across its chunks), every event comes once, in order, with its JSON', () => {
    const event = (i: number): EngineEvent =>
      i % 7 === 0 ? { type: 'AttemptFailed', t: i, id: i, status: 500, reason: 'status', latencyUs: i, retry: 1, delayUs: 2, retryAt: i + 2 } : i % 13 === 0 ? { type: 'TaskDeleted', t: i, id: i } : { type: 'AttemptDispatched', t: i, id: i };
    const log = new MemoryEventLog(TEST_HEADER);
    const read: EngineEvent[] = [];
    let mark: LogMark = LOG_START;
    let appended = 0;
    const append = (n: number): void => {
      for (let k = 0; k < n; k++) log.append(event(appended++));
    };
    // Pieces of every size: none, one event, a few, past a doubling of the first tape, past a chunk.
    for (const piece of [0, 1, 5, 4_000, 0, 37_000, 200_000, 1, 300_000, 3]) {
      append(piece);
      const { events, end } = log.readFrom(mark);
      let k = 0;
      for (const e of events) {
        read.push(e);
        // The log grows while it is read: those events are the next read's.
        if (k++ % 50_000 === 0) append(1_000);
      }
      expect(end.events).toBe(read.length);
      mark = end;
    }
    const { events } = log.readFrom(mark);
    read.push(...events);
    expect(log.bytes).toBeGreaterThan(2 * 8 * (1 << 20)); // at least three chunks
    expect(read).toHaveLength(appended);
    const wrong = read.flatMap((e, i) => (e.t !== i || JSON.stringify(e) !== JSON.stringify(event(i)) ? [i] : []));
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
