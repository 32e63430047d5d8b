/**
 * One queue this node owns: its lease, its log (the queue's own stream in the store) and a
 * PushqService running one kernel for that queue alone, so `rate`, `bucket_size` and
 * `max_concurrent_requests` stay exact and local (docs/cluster.md).
 *
 * Taking a queue: acquire its lease (a new epoch: every earlier writer is fenced from here on),
 * read the stream from its latest fold snapshot (src/server/stream-snapshots.ts: restore it, read
 * only the events after it; the whole stream when there is no usable one), start the service on it
 * (the same restart path as a file log: fold, end the
 * attempts the last owner left in flight so they are retried, rebuild timers, apply the queue's
 * configuration if it changed). The service listens on 127.0.0.1 (REST and gRPC), ports chosen by
 * the system; only this node's router and gRPC front talk to it.
 *
 * While it is owned, a snapshot of the queue's fold is written every so many events, fenced by
 * this epoch, so the next owner folds only what came after it.
 *
 * Keeping it: the lease is renewed every quarter of its lifetime, on connections appends do not use; each success moves the local
 * validity (leased-log.ts) to `sent + ttl − margin`. A watchdog ends ownership when that instant
 * passes without a renewal, when a renewal or an append is refused for the epoch (deposed), and
 * then the service stops at once: no new attempt, no grace.
 *
 * Giving it up (rebalance, clean stop): the service drains for a bounded grace, flushes, and the
 * lease is released, so the next owner need not wait for it to run out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueFileConfig } from '../config/types.js';
import { keepDefaultQueue } from '../core/queue-config.js';
import type { LogHeader } from '../log/event-log.js';
import { PushqService, type ServiceOptions } from '../server/service.js';
import { SnapshotWriter, readFromSnapshot } from '../server/stream-snapshots.js';
import { queueStream, type EventStore } from '../store/store.js';
import { LeasedLog } from './leased-log.js';
import { leaseMarginMs } from '../store/store-log.js';


/** What a queue's service shares with every other on the node (targets, security). */
export type SharedServiceOptions = Omit<ServiceOptions, 'config' | 'configPath' | 'log' | 'replayed' | 'snapshot' | 'host' | 'port' | 'grpcPort' | 'dataLock' | 'node'>;

export interface OwnedQueueOptions {
  store: EventStore;
  /** The same store on connections of their own, for acquire and renew: a renewal never waits behind appends. */
  leases: EventStore;
  node: string;
  queue: string;
  /** The queue file with only this queue in it. */
  config: QueueFileConfig;
  header: LogHeader;
  leaseMs: number;
  service: SharedServiceOptions;
  /** Called once the lease is taken, before the stream is read and the queue's service starts (nothing dispatched yet). */
  onAcquired?: (epoch: number) => void;
  /** Snapshot cadence (src/server/stream-snapshots.ts); tests shorten it. */
  snapshotEveryEvents?: number;
  snapshotCheckMs?: number;
  /** Called once when ownership ends by itself (lease lost or deposed), after the service stopped. */
  onLost: (queue: string, why: string) => void;
  /** Bytes the cluster's other queues hold under total_storage_limit (storage-budget.ts), asked at each create. */
  storedElsewhere?: () => number;
}

/** Renewals sent in one lifetime of the lease: three may be lost or slow before it runs out. */
const RENEWALS_PER_LEASE = 4;

export class OwnedQueue {
  private ended: Promise<unknown> | null = null;

  private constructor(
    readonly queue: string,
    readonly epoch: number,
    readonly service: PushqService,
    private readonly options: OwnedQueueOptions,
    private readonly timers: LeaseTimers,
    /** Where the replay at takeover started: the position of the snapshot restored, 0 without one. */
    readonly replayedFrom: number,
    readonly snapshots: SnapshotWriter,
  ) {}

  /**
   * Its end has begun (lease lost, deposed, or given up): its service is stopping and takes no new
   * call (it would answer SHUTTING_DOWN, which says the node itself stops). The node then routes
   * new calls as for a queue it does not own (node.ts); calls the service already took finish there.
   */
  get ending(): boolean {
    return this.ended !== null;
  }

  /** The local URL of the queue's service (only this node's router calls it). */
  get url(): string {
    return this.service.url;
  }

  /**
   * Answers a call for this queue in process. Its Host becomes the service's own address, as an
   * HTTP hop to it would make it: the node's router has checked the caller's Host already.
   */
  serve(req: IncomingMessage, res: ServerResponse): void {
    req.headers.host = this.host;
    this.service.handle(req, res);
  }

  private get host(): string {
    return new URL(this.service.url).host;
  }

  /** `127.0.0.1:PORT` of the queue's gRPC service (only this node's gRPC front calls it). */
  get grpcAddress(): string {
    return `127.0.0.1:${this.service.grpcPort ?? 0}`;
  }

  /** Bytes of the queue's tasks not yet ended, as its kernel holds them now (counted against total_storage_limit). */
  get storedBytes(): number {
    return this.service.driver.kernel.state.storageBytes;
  }

  get replayedEvents(): number {
    return this.service.replayedEvents;
  }

  /** Applies the queue's new configuration to its kernel with deploy semantics (as one node's reload does), durable once it returns. */
  async applyFile(config: QueueFileConfig, declaresDefault: boolean): Promise<void> {
    this.service.driver.run((k) => k.applyConfig(declaresDefault ? config : keepDefaultQueue(config, k.state.config), k.state.settings));
    await this.service.log.flush();
  }

  /** Takes the queue when its lease is free, run out or already this node's; null when another live node holds it. Throws StoreError. */
  static async take(options: OwnedQueueOptions): Promise<OwnedQueue | null> {
    const { store, node, leaseMs } = options;
    const stream = queueStream(options.queue);
    const sentAt = performance.now();
    const lease = await options.leases.acquire(stream, node, leaseMs);
    if (lease === null) return null;
    options.onAcquired?.(lease.epoch);
    // Until the service runs, ownership that ends is only noted; the service, once started, is stopped at once.
    let owned: OwnedQueue | null = null;
    let lostEarly: string | null = null;
    const lost = (why: string): void => {
      if (owned === null) lostEarly ??= why;
      else owned.lose(why);
    };
    const log = new LeasedLog(store, stream, await store.ensureStream(stream, options.header), lease, { onDeposed: (err) => lost(`deposed: ${err.message}`) });
    log.validUntilMs = sentAt + leaseMs - leaseMarginMs(leaseMs);
    // Renewed from now on, not from when the service runs: reading a long stream may take a while.
    const timers = keepLease(log, options, lost);
    try {
      // From the latest snapshot when there is a usable one: only the events after it are read and folded.
      const warn = (line: string): void => void process.stderr.write(`pushq serve: node ${node}: queue ${options.queue}: ${line}\n`);
      const start = await readFromSnapshot(store, stream, log.header, warn);
      log.durableEvents = start.from + start.tail.length;
      const service = await PushqService.start({
        ...options.service,
        config: options.config,
        log,
        warn,
        node,
        replayed: start.tail,
        ...(start.snapshot === null ? {} : { snapshot: start.snapshot }),
        host: '127.0.0.1',
        port: 0,
        grpcPort: 0,
      });
      const elsewhere = options.storedElsewhere;
      if (elsewhere !== undefined) {
        const kernel = service.driver.kernel;
        // Asked only while a limit is set: a create pays nothing for it otherwise.
        kernel.storedElsewhere = () => (kernel.state.config?.total_storage_limit_bytes == null ? 0 : elsewhere());
      }
      const snapshots = new SnapshotWriter(service, {
        store,
        log,
        epoch: lease.epoch,
        lastPosition: start.from,
        warn,
        ...(options.snapshotEveryEvents === undefined ? {} : { everyEvents: options.snapshotEveryEvents }),
        ...(options.snapshotCheckMs === undefined ? {} : { checkMs: options.snapshotCheckMs }),
      });
      owned = new OwnedQueue(options.queue, lease.epoch, service, options, timers, start.from, snapshots);
      // The node's own lines go to stdout (serve-cluster.ts); this one says how much a takeover folded.
      process.stdout.write(`pushq serve: node ${node} queue ${options.queue}: replayed ${start.tail.length} event${start.tail.length === 1 ? '' : 's'} from position ${start.from}${start.snapshot === null ? ' (no snapshot)' : ' (after its snapshot)'}\n`);
    } catch (err) {
      clearInterval(timers.renewer);
      clearInterval(timers.watchdog);
      await log.close().catch(() => undefined);
      throw err;
    }
    if (lostEarly !== null) owned.lose(lostEarly);
    return owned;
  }

  /** Ownership ended by itself: stop dispatching at once (no grace), then tell the node. */
  private lose(why: string): void {
    if (this.ended !== null) return;
    // The final flush fails when the store refuses it (STORE_FENCED: another epoch holds the
    // stream) or, before the store answers, when the lease's validity has passed (store-log.ts):
    // either way what it held was never acknowledged.
    this.ended = this.stop(0, false).then((failed) => this.options.onLost(this.queue, failed === null ? why : `${why}; its unsent events were not acknowledged: ${failed}`));
  }

  /**
   * Gives the queue up (rebalance, shutdown): drains up to `graceMs`, flushes, releases the lease,
   * then writes a last snapshot (best effort) so the next owner folds next to nothing.
   */
  async release(graceMs: number): Promise<void> {
    this.ended ??= this.stop(graceMs, true);
    await this.ended;
  }

  /** Stops the service; the final flush's refusal, if any (null when it went in or there was nothing). */
  private async stop(graceMs: number, handOver: boolean): Promise<string | null> {
    if (!handOver) this.snapshots.stop();
    // A lost queue stops renewing at once; one handed over renews while it drains (a drain may
    // outlast the lease: attempts that take longer than what is left of it), until its log
    // releases the lease (LeasedLog.stopRenewals, set in keepLease).
    if (!handOver) {
      clearInterval(this.timers.renewer);
      clearInterval(this.timers.watchdog);
    }
    // A deposed log refuses the final flush (STORE_FENCED); what it held was never acknowledged.
    // The log's close releases the lease only if it is still this epoch's.
    try {
      await this.service.close(graceMs);
    } catch (err) {
      this.snapshots.stop();
      return (err as Error).message;
    } finally {
      // Already stopped by the log's release, unless its close failed before it: never renew a queue given up.
      clearInterval(this.timers.renewer);
      clearInterval(this.timers.watchdog);
    }
    if (handOver) await this.snapshots.writeFinal();
    return null;
  }
}

interface LeaseTimers {
  renewer: NodeJS.Timeout;
  watchdog: NodeJS.Timeout;
}

/**
 * Renews `log`'s lease every quarter of its lifetime, moving its local validity on with each
 * success, and calls `lost` when a renewal is refused (deposed) or the validity passes.
 */
function keepLease(log: LeasedLog, options: OwnedQueueOptions, lost: (why: string) => void): LeaseTimers {
  const { leases, leaseMs } = options;
  let lease = log.lease;
  let inFlight: Promise<unknown> = Promise.resolve();
  const renewer = setInterval(() => {
    const sentAt = performance.now();
    inFlight = leases.renew(lease, leaseMs).then(
      (next) => {
        if (next === null) {
          lost(`deposed: the lease of epoch ${lease.epoch} was taken by another node`);
          return;
        }
        lease = next;
        log.validUntilMs = Math.max(log.validUntilMs, sentAt + leaseMs - leaseMarginMs(leaseMs));
      },
      () => undefined, // the store is unreachable: the next renewal tries again; the watchdog ends ownership in time
    );
  }, Math.max(10, Math.floor(leaseMs / RENEWALS_PER_LEASE)));
  const watchdog = setInterval(() => {
    if (!log.valid) lost('its lease was not renewed in time (the store unreachable, or this process paused)');
  }, Math.max(10, Math.floor(leaseMs / 20)));
  log.stopRenewals = async () => {
    clearInterval(renewer);
    clearInterval(watchdog);
    await inFlight;
  };
  return { renewer, watchdog };
}
