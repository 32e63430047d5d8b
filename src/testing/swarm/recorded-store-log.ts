/**
 * The log one owner of a queue writes through in the PostgreSQL swarm (pg-run.ts): the real
 * StoreEventLog over the real PgStore, with a record beside it of every event appended (as the
 * exact line the codec writes) and where each committed batch ended. After a handover, the stream
 * must be the history before this owner, then a prefix of what it appended ending at one of its
 * batch boundaries, holding at least every event of a flush that resolved (`flushedEvents`).
 */
import type { EngineEvent } from '../../core/events.js';
import { encodeEvent } from '../../log/codec.js';
import type { EventLog, LogHeader } from '../../log/event-log.js';
import type { StoreEventLog } from '../../store/store-log.js';
import type { RecordedEvents } from './checks.js';

export class RecordedStoreLog implements EventLog, RecordedEvents {
  readonly lines: string[] = [];
  readonly events: EngineEvent[] = [];
  /** Events so far after each committed batch. */
  private readonly batchEnds = new Set<number>([0]);
  private flushed = 0;
  private committed = 0;

  constructor(
    readonly inner: StoreEventLog,
    /** The stream's length when this owner took it: its own events start there. */
    private readonly base: number,
  ) {}

  /**
   * Events of batches a resolved flush put in the store: a crash cannot take them back. Its own
   * flushes, and those others made on the inner log (a snapshot writer waiting for its events).
   */
  get flushedEvents(): number {
    return Math.max(this.flushed, this.inner.durableEvents - this.base);
  }

  get header(): LogHeader {
    return this.inner.header;
  }

  append(e: EngineEvent): void {
    this.inner.append(e);
    this.events.push(e);
    this.lines.push(encodeEvent(e, this.inner.header.version));
  }

  commit(): void {
    this.inner.commit();
    this.batchEnds.add(this.events.length);
    this.committed = this.events.length;
  }

  /** Resolves once every batch committed before the call is in the store (StoreEventLog.flush). */
  flush(): Promise<void> {
    const committed = this.committed;
    return this.inner.flush().then(() => {
      this.flushed = Math.max(this.flushed, committed);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  writeFailure(): Error | null {
    return this.inner.writeFailure();
  }

  /** Events committed and not yet known to be in the store. */
  get unflushed(): number {
    return this.committed - this.flushedEvents;
  }

  isBoundary(events: number): boolean {
    return this.batchEnds.has(events);
  }
}
