/**
 * The kernel's EventLog over an EventStore stream (`pushq serve --store postgres://...`).
 *
 * `append` and `commit` stay synchronous and in memory (the kernel's step does no IO); `flush`
 * sends every committed batch not yet in the store as ONE fenced append (one transaction: group
 * commit, as the file log's one fdatasync covers every batch committed before it), and resolves
 * when the store has committed it. CreateTask is answered after that flush: acknowledged means in
 * the store. A batch the store refused stays pending, whole and in order, and goes with the next
 * flush.
 *
 * Store lost (STORE_UNAVAILABLE): `writeFailure()` reports it until a flush gets everything in
 * again; meanwhile the kernel refuses commands (the API's UNAVAILABLE) and the service's outage
 * guard starts no attempt, as for a full disk (src/server/log-outage.ts). Deposed (STORE_FENCED:
 * another epoch took the stream): the failure is permanent and `onDeposed` is called once; the
 * node must stop dispatching, it will never write this stream again.
 *
 * Lease validity (a log whose lease it keeps: `keepLease`, and a cluster's queues, leased-log.ts):
 * the store grants a lease until `db_now + ttl` when the acquire or renewal reaches it, no earlier
 * than the instant it was sent, so the writer surely holds the stream until `sent + ttl − margin`
 * on its monotonic clock (performance.now(), which keeps counting while the process is stopped).
 * Past that instant, without a renewal back, `writeFailure()` reports the lease as not renewed:
 * the kernel refuses commands and no new attempt starts, before the store can give the stream to
 * another writer. A process woken from SIGSTOP after another took the stream over thus dispatches
 * nothing, even while the store is slow to tell it it was deposed.
 */
import type { EngineEvent } from '../core/events.js';
import type { EventLog, LogHeader } from '../log/event-log.js';
import { LogError } from '../log/log-errors.js';
import { QUEUE_STREAM_PREFIX, StoreError, type EventStore, type Lease } from './store.js';

/** Safety margin taken off a lease's lifetime: clock rate differences and scheduling delays. */
export function leaseMarginMs(leaseMs: number): number {
  return Math.max(100, Math.round(leaseMs * 0.15));
}

export interface StoreLogOptions {
  /** Called once when the store refuses this writer's epoch (another node took the stream). */
  onDeposed?: (err: StoreError) => void;
}

export class StoreEventLog implements EventLog {
  /** Committed batches not yet in the store, oldest first (flattened: one array of events). */
  private pending: EngineEvent[] = [];
  private batch: EngineEvent[] = [];
  private failure: LogError | null = null;
  private deposed = false;
  private flushing: Promise<void> | null = null;
  /** The flush that starts when the running one ends, shared by everyone who asked meanwhile. */
  private nextFlush: Promise<void> | null = null;
  private closed = false;
  /** Transactions sent, and events in them (events per transaction, for the benchmark). */
  readonly stats = { transactions: 0, events: 0 };
  /**
   * Events of the stream known to be in the store: set by the opener from what it read, then moved
   * on by each append (a fold snapshot may cover only these: src/server/stream-snapshots.ts). −1: not known.
   */
  durableEvents = -1;
  /**
   * performance.now() (ms) until which the lease is surely still this writer's: moved on by each
   * renewal (`keepLease`; a cluster's queues: owned-queue.ts). Infinity: no lease is kept (tools).
   */
  validUntilMs = Infinity;
  private expired: LogError | null = null;

  constructor(
    private readonly store: EventStore,
    readonly stream: string,
    readonly header: LogHeader,
    readonly lease: Lease,
    private readonly options: StoreLogOptions = {},
  ) {}

  append(event: EngineEvent): void {
    if (this.closed) throw new LogError('LOG_CLOSED', `${this.store.displayUrl}: stream ${this.stream}: append after close`);
    this.batch.push(event);
  }

  commit(): void {
    if (this.batch.length === 0) return;
    for (const e of this.batch) this.pending.push(e);
    this.batch = [];
  }

  /** Every event of the stream, after a flush (task stories read the log back; the store's copy is the whole log). */
  async readAll(): Promise<EngineEvent[]> {
    return this.readFrom(0);
  }

  /** The stream's events from `position` (0-based) on, after a flush (the dashboard's past reads what it lacks). */
  async readFrom(position: number): Promise<EngineEvent[]> {
    await this.flush();
    return this.store.read(this.stream, position);
  }

  writeFailure(): LogError | null {
    if (this.failure !== null) return this.failure;
    if (performance.now() < this.validUntilMs) return null;
    this.expired ??= this.leaseExpired();
    return this.expired;
  }

  /** The failure reported once the lease's validity has passed without a renewal back. */
  protected leaseExpired(): LogError {
    return new LogError('LOG_WRITE_FAILED', `${this.store.displayUrl}: stream ${this.stream}: the lease of epoch ${this.lease.epoch} was not renewed in time (the store unreachable, or this process paused); nothing is taken or dispatched until it is`);
  }

  /** True while the lease is surely held. */
  get valid(): boolean {
    return performance.now() < this.validUntilMs;
  }

  /**
   * Resolves once every batch committed before the call is in the store. Flushes run one at a
   * time; a flush asked for while one runs waits for the next, which carries everything committed
   * meanwhile (N CreateTasks between two transactions share one).
   *
   * Rejected with the lease's failure once the lease's validity passes while it waits: a store
   * that takes statements and does not answer them (a lock another session holds, a server or
   * network that hangs) would otherwise hold every command, a refused one included, for as long as
   * it lasts, while the node no longer surely holds its log. What the flush carries stays pending
   * and goes in when the store answers (then the command may still take effect: UNAVAILABLE means
   * "not acknowledged", as for a lost store).
   */
  flush(): Promise<void> {
    return this.withinLease(this.flushShared());
  }

  /** `p`, or the lease's failure if the validity passes (a renewal back moves it on) before `p` settles. */
  private withinLease(p: Promise<void>): Promise<void> {
    if (this.validUntilMs === Infinity) return p;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        const left = this.validUntilMs - performance.now();
        if (left <= 0) return reject(this.writeFailure());
        timer = setTimeout(check, left);
      };
      p.then(resolve, reject).finally(() => clearTimeout(timer));
      timer = setTimeout(check, Math.max(0, this.validUntilMs - performance.now()));
    });
  }

  private flushShared(): Promise<void> {
    if (this.flushing === null) {
      this.flushing = this.send().finally(() => {
        this.flushing = null;
      });
      return this.flushing;
    }
    // Every caller that arrives while a flush runs shares the ONE flush after it (whatever the
    // running one's outcome). Chaining each caller on its own would queue them one transaction
    // apiece, each carrying only what arrived meanwhile: no group commit under load.
    if (this.nextFlush === null) {
      const after = (): Promise<void> => {
        this.nextFlush = null;
        return this.flushShared();
      };
      this.nextFlush = this.flushing.then(after, after);
    }
    return this.nextFlush;
  }

  private async send(): Promise<void> {
    if (this.pending.length === 0) return;
    if (this.deposed) throw this.failure!;
    const events = this.pending;
    this.pending = [];
    try {
      // Where the stream ends, when known: a try whose commit went through unanswered is then
      // recognised by the store rather than written twice (EventStore.append).
      const position = await this.store.append(this.stream, this.lease.epoch, events, this.durableEvents >= 0 ? this.durableEvents : undefined);
      this.durableEvents = position + events.length;
      this.stats.transactions++;
      this.stats.events += events.length;
      this.failure = null;
    } catch (err) {
      // Not written: put the events back in front of what was committed meanwhile, in order.
      this.pending = events.concat(this.pending);
      const storeErr = err instanceof StoreError ? err : new StoreError('STORE_FAILED', (err as Error).message);
      this.failure = new LogError('LOG_WRITE_FAILED', `the store cannot be written: ${storeErr.message} (${storeErr.code})`);
      if (storeErr.code === 'STORE_FENCED' && !this.deposed) {
        this.deposed = true;
        this.options.onDeposed?.(storeErr);
      }
      throw this.failure;
    }
  }

  private renewer: NodeJS.Timeout | undefined;
  /** The renewal sent and not yet back: `close` waits for it before it releases the lease. */
  private renewal: Promise<void> = Promise.resolve();

  /**
   * Renews the lease every third of its lifetime (well inside it: two renewals may fail before it
   * runs out). A renewal the store refuses means another epoch took the stream: deposed.
   */
  keepLease(ttlMs: number): void {
    let lease = this.lease;
    this.renewer = setInterval(() => {
      const sentAt = performance.now();
      this.renewal = this.store.renew(lease, ttlMs).then(
        (next) => {
          if (this.closed) return; // released meanwhile: its answer tells nothing
          if (next !== null) {
            lease = next;
            this.validUntilMs = Math.max(this.validUntilMs, sentAt + ttlMs - leaseMarginMs(ttlMs));
          } else if (!this.deposed) {
            this.deposed = true;
            const err = new StoreError('STORE_FENCED', `${this.store.displayUrl}: stream ${this.stream}: the lease of epoch ${lease.epoch} was taken by another node`);
            this.failure = new LogError('LOG_WRITE_FAILED', err.message);
            this.options.onDeposed?.(err);
          }
        },
        () => undefined, // unreachable: the next renewal tries again; appends report the outage
      );
    }, Math.max(10, Math.floor(ttlMs / 3)));
    this.renewer.unref();
  }

  /**
   * The last flush, then the lease released. Renewals go on until the last flush is in: stopped
   * before it, a flush longer than the lease's validity (a store just back with a backlog, a loaded
   * machine) failed "not renewed in time" and the shutdown with it. The renewal in flight is waited
   * for before the release: answered after it (the stream's owner then cleared), it read as the
   * lease taken by another node ("deposed" on a plain SIGTERM).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.deposed && this.failure === null) await this.flush();
    } finally {
      clearInterval(this.renewer);
    }
    this.closed = true;
    await this.renewal;
    await this.releasing();
    await this.store.release(this.lease).catch(() => undefined);
  }

  /** Called as `close` is about to release the lease, after the last flush: renewals kept elsewhere stop here (leased-log.ts). */
  protected async releasing(): Promise<void> {}
}

/** The stream a single `pushq serve` node writes: its whole log (every queue), in one order. */
export const NODE_STREAM = '~node';

export interface OpenedStoreLog {
  log: StoreEventLog;
  /** The stream's events, for the service to fold at start. */
  events: EngineEvent[];
}

/**
 * Opens the node's stream: creates it with `header` when new, takes its lease (refused while another
 * live node holds it), and reads its events (unless `readEvents` is false: the caller reads them,
 * e.g. from a snapshot, and sets `durableEvents`). Throws StoreError.
 */
export async function openStoreLog(store: EventStore, owner: string, header: LogHeader, options: StoreLogOptions & { leaseMs?: number; readEvents?: boolean } = {}): Promise<OpenedStoreLog> {
  const stream = NODE_STREAM;
  // A cluster's store keeps one stream per queue (docs/cluster.md): a single node there would not see its tasks.
  if ((await store.streams()).some((s) => s.startsWith(QUEUE_STREAM_PREFIX))) throw new StoreError('STORE_FAILED', `${store.displayUrl}: this store holds a cluster's logs (pushq serve --cluster); run this node with --cluster too, or give it a store of its own`);
  const leaseMs = options.leaseMs ?? 30_000;
  // Sent no later than the acquire that succeeds: the lease is surely ours until sentAt + ttl − margin.
  const sentAt = performance.now();
  const lease = await acquireOrExplain(store, stream, owner, leaseMs);
  const kept = await store.ensureStream(stream, header);
  if (kept.clock !== 'wall') throw new StoreError('STORE_FAILED', `${store.displayUrl}: this log was written by a simulation (virtual clock), not by pushq serve`);
  const events = options.readEvents === false ? [] : await store.read(stream);
  const log = new StoreEventLog(store, stream, kept, lease, options);
  log.validUntilMs = sentAt + leaseMs - leaseMarginMs(leaseMs);
  if (options.readEvents !== false) log.durableEvents = events.length;
  return { log, events };
}

/**
 * The stream's lease for `owner`, or STORE_FAILED naming the node that holds it and when its lease
 * runs out. Refused, nothing is written: the holder keeps its epoch and runs on untouched. Every
 * process has an owner name of its own, so a second process (on this host or another) is refused
 * however it names itself; a crashed holder's lease runs out unrenewed, and a start after that takes it.
 */
async function acquireOrExplain(store: EventStore, stream: string, owner: string, leaseMs: number): Promise<Lease> {
  // Twice at most: a lease that runs out between the refusal and the reading of its holder is free.
  for (let tries = 0; ; tries++) {
    const lease = await store.acquire(stream, owner, leaseMs);
    if (lease !== null) return lease;
    const holder = await store.leaseHolder(stream);
    if (holder === null && tries === 0) continue;
    const left = holder === null ? '' : `: its lease runs out in ${Math.max(1, Math.ceil((holder.expiresAtMs - holder.nowMs) / 1000))} s (at ${new Date(holder.expiresAtMs).toISOString()}), unless that node renews it, as a running one does every ${formatSeconds(leaseMs / 3)} s`;
    throw new StoreError(
      'STORE_FAILED',
      `${store.displayUrl}: another pushq serve${holder === null ? '' : ` (${holder.owner})`} holds this store's log${left}; one node per store until cluster mode. If that node is no longer running, start again once its lease has run out (${formatSeconds(leaseMs)} s after its last renewal)`,
    );
  }
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
