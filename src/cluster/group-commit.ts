/**
 * A cluster node's group commit across its queues. Each owned queue writes its own stream (its own
 * fence), but the node sends the batches of every queue that has one in ONE transaction
 * (PgStore.appendMany): one commit and one fsync for all of them, as a single node's one stream
 * has. Appends made in the same turn of the event loop, and all that arrive while a transaction is
 * in flight, go in the next one.
 *
 * Each append still resolves or fails on its own: a fenced stream gets STORE_FENCED and writes
 * nothing while the others' batches are committed; the store lost fails them all (nothing
 * written). Order within a stream is kept because each queue's log sends one append at a time
 * (StoreEventLog.flush).
 */
import type { EngineEvent } from '../core/events.js';
import type { LogHeader } from '../log/event-log.js';
import type { PgStore } from '../store/pg-store.js';
import { StoreError, type EventStore, type Lease, type LeaseHolder, type StoredSnapshot } from '../store/store.js';

interface Waiting {
  stream: string;
  epoch: number;
  events: readonly EngineEvent[];
  at?: number;
  resolve: (position: number) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitStore implements EventStore {
  readonly displayUrl: string;
  private waiting: Waiting[] = [];
  private sending = false;
  /** Transactions sent and batches in them (batches per transaction, for a benchmark). */
  readonly stats = { transactions: 0, batches: 0 };

  constructor(private readonly store: PgStore) {
    this.displayUrl = store.displayUrl;
  }

  append(stream: string, epoch: number, events: readonly EngineEvent[], at?: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ stream, epoch, events, ...(at === undefined ? {} : { at }), resolve, reject });
      if (!this.sending) {
        this.sending = true;
        setImmediate(() => void this.send());
      }
    });
  }

  private async send(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      this.stats.transactions++;
      this.stats.batches += group.length;
      try {
        const results = await this.store.appendMany(group);
        for (let i = 0; i < group.length; i++) {
          const r = results[i];
          if (r instanceof StoreError || r === undefined) group[i]!.reject(r ?? new StoreError('STORE_FAILED', `${this.displayUrl}: no result for a batch`));
          else group[i]!.resolve(r);
        }
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.sending = false;
  }

  // Everything but append goes to the store as it is.
  ensureStream(stream: string, header: LogHeader): Promise<LogHeader> {
    return this.store.ensureStream(stream, header);
  }
  header(stream: string): Promise<LogHeader | null> {
    return this.store.header(stream);
  }
  read(stream: string, position?: number): Promise<EngineEvent[]> {
    return this.store.read(stream, position);
  }
  length(stream: string): Promise<number> {
    return this.store.length(stream);
  }
  streams(): Promise<string[]> {
    return this.store.streams();
  }
  putSnapshot(stream: string, epoch: number, position: number, bytes: Buffer): Promise<void> {
    return this.store.putSnapshot(stream, epoch, position, bytes);
  }
  getSnapshot(stream: string): Promise<StoredSnapshot | null> {
    return this.store.getSnapshot(stream);
  }
  acquire(stream: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.store.acquire(stream, owner, ttlMs);
  }
  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return this.store.renew(lease, ttlMs);
  }
  release(lease: Lease): Promise<void> {
    return this.store.release(lease);
  }
  leaseHolder(stream: string): Promise<LeaseHolder | null> {
    return this.store.leaseHolder(stream);
  }
  now(): Promise<number> {
    return this.store.now();
  }
  close(): Promise<void> {
    return this.store.close();
  }
}
