/**
 * The in-memory event log: every event, kept compactly so a million-task simulation can hold
 * its whole history. Retaining 4 million event objects costs ~400 MB and more time in the
 * garbage collector than the simulation itself; here the frequent events are written as numbers
 * onto one growing Float64Array "tape", and only rare or rich events (configuration, queue
 * commands, tasks with a name, URL, headers, body or retry options, failures with an error text)
 * are kept as objects beside it.
 *
 * Tape records (one number per slot):
 *   TaskAdded          0  t id queue eta size        (queue is an index into `strings`)
 *   AttemptDispatched  1  t id                       (2 when forced)
 *   AttemptSucceeded   3  t id status latencyUs
 *   AttemptFailed      4  t id status reason latencyUs retry delayUs retryAt
 *   TaskGaveUp         5  t id status reason latencyUs
 *   BackoffElapsed     6  t id
 *   AttemptOrphaned    7  t id status latencyUs
 *   TaskDeleted        8  t id
 *   (object)           9  index into `objects`
 *   (end of chunk)    -1  the rest of this chunk is unused
 * A null status is -1; reasons are indices into FAILURE_REASONS.
 *
 * Decoding gives back objects equal to the ones appended, with the same key order, so the JSON
 * of a decoded event is byte-identical to the JSON of the original (spec/memory-log.spec.ts).
 */
import { assertNever } from '../core/assert.js';
import type { EngineEvent, FailureReason } from '../core/events.js';
import type { EventLog, LogHeader } from './event-log.js';

/** Marks the unused end of a full chunk. */
const END_OF_CHUNK = -1;

const FAILURE_REASONS: readonly FailureReason[] = ['status', 'deadline', 'connection'];

const CHUNK_SLOTS = 1 << 20; // 8 MiB per chunk; chunks are never copied when the log grows

export class MemoryEventLog implements EventLog {
  /** Full chunks, then the one being written (`tape`). */
  private readonly chunks: Float64Array[] = [];
  private tape = new Float64Array(1 << 12);
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

  append(e: EngineEvent): void {
    this.length++;
    if (this.used + 9 > this.tape.length) this.nextChunk();
    const tape = this.tape;
    let i = this.used;
    switch (e.type) {
      case 'TaskAdded':
        if (
          e.name !== undefined || e.url !== undefined || e.method !== undefined || e.headers !== undefined ||
          e.body !== undefined || e.bodyBytes !== undefined || e.target !== undefined || e.retry !== undefined ||
          e.dispatchDeadlineUs !== undefined
        ) break;
        tape[i++] = 0; tape[i++] = e.t; tape[i++] = e.id; tape[i++] = this.intern(e.queue); tape[i++] = e.eta; tape[i++] = e.size;
        this.used = i;
        return;
      case 'AttemptDispatched':
        tape[i++] = e.forced ? 2 : 1; tape[i++] = e.t; tape[i++] = e.id;
        this.used = i;
        return;
      case 'AttemptSucceeded':
        tape[i++] = 3; tape[i++] = e.t; tape[i++] = e.id; tape[i++] = e.status; tape[i++] = e.latencyUs;
        this.used = i;
        return;
      case 'AttemptFailed':
        if (e.error !== undefined) break;
        tape[i++] = 4; tape[i++] = e.t; tape[i++] = e.id; tape[i++] = e.status ?? -1; tape[i++] = FAILURE_REASONS.indexOf(e.reason);
        tape[i++] = e.latencyUs; tape[i++] = e.retry; tape[i++] = e.delayUs; tape[i++] = e.retryAt;
        this.used = i;
        return;
      case 'TaskGaveUp':
        if (e.error !== undefined) break;
        tape[i++] = 5; tape[i++] = e.t; tape[i++] = e.id; tape[i++] = e.status ?? -1; tape[i++] = FAILURE_REASONS.indexOf(e.reason); tape[i++] = e.latencyUs;
        this.used = i;
        return;
      case 'BackoffElapsed':
        tape[i++] = 6; tape[i++] = e.t; tape[i++] = e.id;
        this.used = i;
        return;
      case 'AttemptOrphaned':
        tape[i++] = 7; tape[i++] = e.t; tape[i++] = e.id; tape[i++] = e.status ?? -1; tape[i++] = e.latencyUs;
        this.used = i;
        return;
      case 'TaskDeleted':
        tape[i++] = 8; tape[i++] = e.t; tape[i++] = e.id;
        this.used = i;
        return;
      case 'ConfigApplied':
      case 'QueuePaused':
      case 'QueueResumed':
      case 'QueuePurged':
        break;
      default:
        assertNever(e, 'event');
    }
    tape[i++] = 9;
    tape[i++] = this.objects.push(e) - 1;
    this.used = i;
  }

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
    for (const chunk of this.chunks) yield* this.decode(chunk, chunk.length);
    yield* this.decode(this.tape, this.used);
  }

  private *decode(tape: Float64Array, used: number): IterableIterator<EngineEvent> {
    let i = 0;
    while (i < used) {
      const code = tape[i] as number;
      const t = tape[i + 1] as number;
      const id = tape[i + 2] as number;
      switch (code) {
        case 0:
          yield { type: 'TaskAdded', t, id, queue: this.strings[tape[i + 3] as number] as string, eta: tape[i + 4] as number, size: tape[i + 5] as number };
          i += 6;
          break;
        case 1:
          yield { type: 'AttemptDispatched', t, id };
          i += 3;
          break;
        case 2:
          yield { type: 'AttemptDispatched', t, id, forced: true };
          i += 3;
          break;
        case 3:
          yield { type: 'AttemptSucceeded', t, id, status: tape[i + 3] as number, latencyUs: tape[i + 4] as number };
          i += 5;
          break;
        case 4:
          yield {
            type: 'AttemptFailed', t, id, status: nullable(tape[i + 3] as number), reason: FAILURE_REASONS[tape[i + 4] as number] as FailureReason,
            latencyUs: tape[i + 5] as number, retry: tape[i + 6] as number, delayUs: tape[i + 7] as number, retryAt: tape[i + 8] as number,
          };
          i += 9;
          break;
        case 5:
          yield { type: 'TaskGaveUp', t, id, status: nullable(tape[i + 3] as number), reason: FAILURE_REASONS[tape[i + 4] as number] as FailureReason, latencyUs: tape[i + 5] as number };
          i += 6;
          break;
        case 6:
          yield { type: 'BackoffElapsed', t, id };
          i += 3;
          break;
        case 7:
          yield { type: 'AttemptOrphaned', t, id, status: nullable(tape[i + 3] as number), latencyUs: tape[i + 4] as number };
          i += 5;
          break;
        case 8:
          yield { type: 'TaskDeleted', t, id };
          i += 3;
          break;
        case 9:
          yield this.objects[t] as EngineEvent;
          i += 2;
          break;
        case END_OF_CHUNK:
          i = used;
          break;
        default:
          throw new Error(`memory log: corrupt tape at slot ${i}`);
      }
    }
  }

  /** Every event as an array (materialises them all: fine for tests, heavy for millions). */
  toArray(): EngineEvent[] {
    return [...this];
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, this.tape.byteLength);
  }

  private intern(s: string): number {
    let n = this.stringIndex.get(s);
    if (n === undefined) {
      n = this.strings.push(s) - 1;
      this.stringIndex.set(s, n);
    }
    return n;
  }

  private nextChunk(): void {
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

function nullable(status: number): number | null {
  return status === -1 ? null : status;
}
