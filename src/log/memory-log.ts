/**
 * The in-memory event log: every event, kept compactly so a million-task simulation can hold
 * its whole history. Retaining 4 million event objects costs ~400 MB and more time in the
 * garbage collector than the simulation itself; here the frequent events are written as numbers
 * onto a Float64Array "tape" in chunks (the first grows by doubling up to 8 MiB, then each full
 * chunk is kept as it is and a new one started, so nothing is copied again), and only rare or rich
 * events (configuration, tasks with options, failures with an error text) are kept as objects
 * beside it.
 *
 * The records' layout is derived from the event schema (tape.ts); besides them the tape holds
 *   OBJECT_CODE  index into `objects`
 *   -1           end of chunk: the rest of this chunk is unused
 *
 * Decoding gives back objects equal to the ones appended, with the same key order, so the JSON
 * of a decoded event is byte-identical to the JSON of the original (test/log/memory-log.test.ts).
 */
import type { EngineEvent } from '../core/events.js';
import type { EventLog, LogHeader } from './event-log.js';
import { END_OF_CHUNK, OBJECT_CODE, RECORD_SLOTS_MAX, readTape, recordWriterSource } from './tape.js';

const CHUNK_SLOTS = 1 << 20; // 8 MiB per chunk; chunks are never copied when the log grows
const FIRST_SLOTS = 1 << 12;

/**
 * A memory log's contents as plain data, to move it to another thread (parallel-read.ts): the
 * tapes' buffers can be transferred rather than copied, the objects and strings are cloned.
 */
export interface TapeParts {
  /** Every tape, the last one cut to its used slots. */
  tapes: Float64Array<ArrayBuffer>[];
  objects: EngineEvent[];
  strings: string[];
  length: number;
}

/**
 * Where a reader of a memory log stands (readFrom): a tape (an index into the full chunks; their
 * count for the tape being written), the slot of the next record on it, and the events before it.
 */
export interface LogMark {
  readonly tape: number;
  readonly slot: number;
  readonly events: number;
}

/** The mark before the first event. */
export const LOG_START: LogMark = { tape: 0, slot: 0, events: 0 };

export class MemoryEventLog implements EventLog {
  /** Full chunks, then the one being written (`tape`). */
  private readonly chunks: Float64Array<ArrayBuffer>[] = [];
  private tape = new Float64Array(FIRST_SLOTS);
  private used = 0;
  private readonly objects: EngineEvent[] = [];
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  /** Events appended. */
  length = 0;
  /** Batches committed. */
  batches = 0;
  private lastCommitLength = 0;

  constructor(readonly header: LogHeader) {}

  /** Appends one event: its body is generated from the schema at load (APPEND_SOURCE, below). */
  declare append: (e: EngineEvent) => void;

  commit(): void {
    if (this.length === this.lastCommitLength) return;
    this.lastCommitLength = this.length;
    this.batches++;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Every event, in order, decoded lazily. */
  *[Symbol.iterator](): IterableIterator<EngineEvent> {
    for (const chunk of this.chunks) yield* readTape(chunk, chunk.length, this.strings, this.objects);
    yield* readTape(this.tape, this.used, this.strings, this.objects);
  }

  /**
   * The events from `mark` (LOG_START, or the `end` of an earlier call) to the log's end as it
   * stands at this call, decoded lazily, and the mark at that end. A reader that comes back for
   * what the log gained reads only that: the dashboard's past of `pushq serve --memory` decoded
   * the whole log from its first event at each read to skip what it had (~0.3 s a read over
   * 200,000 events). Events appended while these are read are not among them: the next call's.
   */
  readFrom(mark: LogMark): { events: Iterable<EngineEvent>; end: LogMark } {
    // Full chunks never change. The tape being written only grows (a doubling copies it whole
    // into a new array, which becomes the same tape index): what it holds up to `used` now stays.
    const { chunks, strings, objects } = this;
    const lastTape = chunks.length;
    const tape = this.tape;
    const used = this.used;
    function* events(): Generator<EngineEvent> {
      for (let k = mark.tape; k < lastTape; k++) {
        const chunk = chunks[k] as Float64Array;
        yield* readTape(chunk, chunk.length, strings, objects, k === mark.tape ? mark.slot : 0);
      }
      yield* readTape(tape, used, strings, objects, mark.tape === lastTape ? mark.slot : 0);
    }
    return { events: events(), end: { tape: lastTape, slot: used, events: this.length } };
  }

  /** Every event as an array (materialises them all: fine for tests, heavy for millions). */
  toArray(): EngineEvent[] {
    return [...this];
  }

  /** The contents as plain data (see TapeParts); the log may not be appended to afterwards. */
  toParts(): TapeParts {
    return { tapes: [...this.chunks, this.tape.slice(0, this.used)], objects: this.objects, strings: this.strings, length: this.length };
  }

  /** A log holding what `parts` holds (from `toParts`, perhaps on another thread); it can be appended to. */
  static fromParts(header: LogHeader, parts: TapeParts): MemoryEventLog {
    const log = new MemoryEventLog(header);
    const last = parts.tapes[parts.tapes.length - 1] ?? new Float64Array(0);
    for (const full of parts.tapes.slice(0, -1)) log.chunks.push(full);
    // The last tape was cut to its used slots: a first append grows it (nextChunk), which needs a
    // tape of some size to double.
    if (last.length >= FIRST_SLOTS) log.tape = last;
    else log.tape.set(last);
    log.used = last.length;
    for (const o of parts.objects) log.objects.push(o);
    for (const str of parts.strings) log.intern(str);
    log.length = parts.length;
    log.batches = parts.length === 0 ? 0 : 1;
    log.lastCommitLength = parts.length;
    return log;
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, this.tape.byteLength);
  }

  /** @internal A string's index in `strings` (queue names on the tape); the generated `append` calls it. */
  intern(s: string): number {
    let n = this.stringIndex.get(s);
    if (n === undefined) {
      n = this.strings.push(s) - 1;
      this.stringIndex.set(s, n);
    }
    return n;
  }

  /** @internal Room for the next record; the generated `append` calls it. */
  nextChunk(): void {
    if (this.tape.length < CHUNK_SLOTS) {
      // Small logs grow by doubling until a chunk is worth it.
      const bigger = new Float64Array(this.tape.length * 2);
      bigger.set(this.tape.subarray(0, this.used));
      this.tape = bigger;
      return;
    }
    if (this.used < this.tape.length) this.tape[this.used] = END_OF_CHUNK;
    this.chunks.push(this.tape);
    this.tape = new Float64Array(CHUNK_SLOTS);
    this.used = 0;
  }
}

/**
 * `append`: a record when the event has one (tape.ts), else the object itself and a record that
 * points at it. One straight-line function, as the hand-written one was: the switch per type is
 * generated from the schema, the rest is written here, beside the fields it uses.
 */
const APPEND_SOURCE = `'use strict';
this.length++;
if (this.used + ${RECORD_SLOTS_MAX} > this.tape.length) this.nextChunk();
const tape = this.tape;
const i = this.used;
${recordWriterSource('this.intern', (next) => `this.used = ${next};\nreturn;`)}
tape[i] = ${OBJECT_CODE};
tape[i + 1] = this.objects.push(e) - 1;
this.used = i + 2;`;

// Generated from the static schema table, never from input.
MemoryEventLog.prototype.append = new Function('e', APPEND_SOURCE) as (e: EngineEvent) => void;
