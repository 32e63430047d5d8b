/**
 * The log the swarm's kernel writes through: the real file log, with a record beside it of every
 * event appended (as the exact line the codec writes) and where each batch ended, in events and
 * in file bytes. After a crash this is what the file must be a prefix of, at a batch boundary,
 * and not shorter than what was synced.
 */
import type { EngineEvent } from '../../core/events.js';
import { encodeEvent } from '../../log/codec.js';
import type { EventLog } from '../../log/event-log.js';
import type { FileEventLog } from '../../log/file-log.js';

export class RecordedLog implements EventLog {
  /** Every event appended, encoded. */
  readonly lines: string[] = [];
  /** The events appended, as objects (what the projections and the checks read). */
  readonly events: EngineEvent[] = [];
  /** After each committed batch: events so far, and the file offset where the batch ends. */
  readonly batchEnds: { events: number; offset: number }[] = [];

  constructor(readonly inner: FileEventLog) {}

  get header(): FileEventLog['header'] {
    return this.inner.header;
  }

  append(e: EngineEvent): void {
    this.inner.append(e);
    this.events.push(e);
    this.lines.push(encodeEvent(e, this.inner.header.version));
  }

  commit(): void {
    this.inner.commit();
    const last = this.batchEnds[this.batchEnds.length - 1];
    if (this.events.length > (last?.events ?? 0)) this.batchEnds.push({ events: this.events.length, offset: this.inner.position().offset });
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  writeFailure(): Error | null {
    return this.inner.writeFailure();
  }

  /** Events in the batches wholly within the first `offset` bytes of the file. */
  eventsWithin(offset: number): number {
    let n = 0;
    for (const b of this.batchEnds) {
      if (b.offset > offset) break;
      n = b.events;
    }
    return n;
  }

  /** Whether `events` is a batch boundary of this log (0 always is). */
  isBoundary(events: number): boolean {
    return events === 0 || this.batchEnds.some((b) => b.events === events);
  }
}
