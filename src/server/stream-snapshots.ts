/**
 * Fold snapshots of a store stream (fold-snapshot.ts is the format): read when a queue is taken,
 * written while it is owned. They live beside the log (the store's `putSnapshot`), never in it:
 * the event stream is the same bytes with or without them.
 *
 * Reading (`readFromSnapshot`): the latest snapshot, decoded against the stream's header and
 * length; then only the events after its position. A snapshot that is missing, unreadable, from
 * another version or of another log is set aside with a warning and the whole stream is read:
 * never a wrong state, at worst a slower start.
 *
 * Writing (`SnapshotWriter`): every `everyEvents` events (checked each `checkMs`, on a timer, not
 * on the dispatch path), encode the fold as it is now, at position P = events applied; wait until
 * the log has P events in the store (a snapshot must never cover an event that was not written,
 * or that a deposed owner's store refused); then `putSnapshot` fenced by the owner's epoch. A
 * refused snapshot (STORE_FENCED: deposed) stops the writer and changes nothing; any other failure
 * is reported once per occurrence and tried again at a later position.
 */
import type { EngineEvent } from '../core/events.js';
import type { LogHeader } from '../log/event-log.js';
import { StoreError, type EventStore } from '../store/store.js';
import type { StoreEventLog } from '../store/store-log.js';
import { SnapshotError, decodeFoldSnapshot, encodeFoldSnapshot, type FoldSnapshot } from './fold-snapshot.js';
import type { PushqService } from './service.js';

/** Events between two snapshots: a takeover folds at most about this many plus the time to write one. */
const SNAPSHOT_EVERY_EVENTS = 50_000;
/** How often an owner checks whether a snapshot is due. */
const SNAPSHOT_CHECK_MS = 1_000;

/**
 * Events between two snapshots for this process: `PUSHQ_SNAPSHOT_EVERY_EVENTS` when set to a whole
 * number ≥ 1 (a smaller figure: faster takeovers, more snapshot writing; tests use a few hundred),
 * else SNAPSHOT_EVERY_EVENTS.
 */
function snapshotEveryEvents(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['PUSHQ_SNAPSHOT_EVERY_EVENTS']);
  return Number.isSafeInteger(n) && n >= 1 ? n : SNAPSHOT_EVERY_EVENTS;
}
/** How long a snapshot waits for its events to be in the store before it is given up (tried again later). */
const DURABLE_WAIT_MS = 10_000;

export interface StreamStart {
  /** The restored fold, or null: fold the whole stream. */
  snapshot: FoldSnapshot | null;
  /** The events after the snapshot's position (the whole stream without one). */
  tail: EngineEvent[];
  /** Where `tail` starts in the stream. */
  from: number;
}

/** A stream's events for a restart: from its latest usable snapshot, else from the start. `warn` hears why a snapshot was set aside. */
export async function readFromSnapshot(store: EventStore, stream: string, header: LogHeader, warn: (line: string) => void): Promise<StreamStart> {
  const stored = await store.getSnapshot(stream);
  if (stored !== null) {
    try {
      const length = await store.length(stream);
      const snapshot = decodeFoldSnapshot(stored.bytes, header, length);
      if (snapshot.position !== stored.position) throw new SnapshotError('SNAPSHOT_OTHER_LOG', `stored at position ${stored.position}, but it covers ${snapshot.position} events`);
      return { snapshot, tail: await store.read(stream, snapshot.position), from: snapshot.position };
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      warn(`${store.displayUrl}: stream ${stream}: its snapshot (position ${stored.position}, epoch ${stored.epoch}) is not used, the whole stream is replayed: ${err.message} (${err.code})`);
    }
  }
  return { snapshot: null, tail: await store.read(stream), from: 0 };
}

export interface SnapshotWriterOptions {
  store: EventStore;
  /** The service's log, which writes `stream` with `epoch`. */
  log: StoreEventLog;
  epoch: number;
  /** Position of the stream's latest snapshot (0: none). */
  lastPosition: number;
  everyEvents?: number;
  checkMs?: number;
  warn: (line: string) => void;
}

export class SnapshotWriter {
  /** Snapshots stored, and the position of the last one. */
  written = 0;
  lastPosition: number;
  private busy = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    /** What it reads the fold from: a queue's service (or the PostgreSQL swarm's simulated owner). */
    private readonly service: Pick<PushqService, 'kernel' | 'models'>,
    private readonly options: SnapshotWriterOptions,
  ) {
    this.lastPosition = options.lastPosition;
    this.timer = setInterval(() => void this.maybeWrite(), options.checkMs ?? SNAPSHOT_CHECK_MS);
    this.timer.unref();
  }

  /** Writes a snapshot if one is due (or `force`); resolves true when one was stored. */
  async maybeWrite(force = false): Promise<boolean> {
    const position = this.service.kernel.state.eventsApplied;
    if (this.busy || this.stopped || position <= this.lastPosition) return false;
    if (!force && position - this.lastPosition < this.everyEvents) return false;
    return this.write(position);
  }

  /**
   * At a clean hand-over, once the service has stopped and its log is flushed (the lease may be
   * released already): one last snapshot, so the next owner folds next to nothing. Only when at
   * least 2% of the cadence has come since the last one (encoding a big state to spare a few events
   * would cost more than it saves). Best effort: refused (the next owner took the queue already)
   * or failed, nothing changes, and the next owner folds from the previous snapshot.
   */
  async writeFinal(): Promise<boolean> {
    this.stop();
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    const position = this.service.kernel.state.eventsApplied;
    if (position - this.lastPosition < Math.max(1, Math.floor(this.everyEvents / 50))) return false;
    // Everything must be in the store already: the log is closed, nothing more will be written.
    if (this.options.log.durableEvents !== position) return false;
    return this.write(position);
  }

  private get everyEvents(): number {
    return this.options.everyEvents ?? snapshotEveryEvents();
  }

  private async write(position: number): Promise<boolean> {
    this.busy = true;
    const { store, log, epoch } = this.options;
    try {
      // The fold is read as it is at `position` before any other event applies (only the compression waits).
      const bytes = await encodeFoldSnapshot(this.service.kernel.state, this.service.models, log.header);
      if (!(await this.durable(position))) return false;
      await store.putSnapshot(log.stream, epoch, position, bytes);
      this.lastPosition = position;
      this.written++;
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'STORE_FENCED') this.stop();
      else this.options.warn(`stream ${log.stream}: a snapshot at position ${position} was not written: ${(err as Error).message}`);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Waits until the stream holds `position` events written by this log; false if it does not in time (or the log fails). */
  private async durable(position: number): Promise<boolean> {
    const log = this.options.log;
    const until = performance.now() + DURABLE_WAIT_MS;
    while (log.durableEvents < position) {
      if (this.stopped || performance.now() > until || log.writeFailure() !== null) return false;
      // Settled attempts' events are committed at the end of the event loop's turn: let it end, then flush.
      await new Promise((r) => setTimeout(r, 5));
      await log.flush();
    }
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
