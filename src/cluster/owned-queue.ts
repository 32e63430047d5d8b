/**
 * One queue this node owns: its lease, its log (the queue's own stream in the store) and a
 * PushqService running one kernel for that queue alone, so `rate`, `bucket_size` and
 * `max_concurrent_requests` stay exact and local (docs/cluster.md).
 *
 * Taking a queue: acquire its lease (a new epoch: every earlier writer is fenced from here on),
 * read the stream, start the service on it (the same restart path as a file log: fold, end the
 * attempts the last owner left in flight so they are retried, rebuild timers, apply the queue's
 * configuration if it changed). The service listens on 127.0.0.1, port chosen by the system; only
 * this node's router talks to it.
 *
 * Keeping it: the lease is renewed every quarter of its lifetime, on connections appends do not use; each success moves the local
 * validity (leased-log.ts) to `sent + ttl − margin`. A watchdog ends ownership when that instant
 * passes without a renewal, when a renewal or an append is refused for the epoch (deposed), and
 * then the service stops at once: no new attempt, no grace.
 *
 * Giving it up (rebalance, clean stop): the service drains for a bounded grace, flushes, and the
 * lease is released, so the next owner need not wait for it to run out.
 */
import type { QueueFileConfig } from '../config/types.js';
import type { LogHeader } from '../log/event-log.js';
import { PushqService, type ServiceOptions } from '../server/service.js';
import type { EventStore } from '../store/store.js';
import { LeasedLog } from './leased-log.js';
import { queueStream } from './membership.js';

/** What a queue's service shares with every other on the node (targets, security). */
export type SharedServiceOptions = Omit<ServiceOptions, 'config' | 'configPath' | 'log' | 'replayed' | 'host' | 'port' | 'grpcPort' | 'dataLock'>;

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
  /** Called once when ownership ends by itself (lease lost or deposed), after the service stopped. */
  onLost: (queue: string, why: string) => void;
}

/** Renewals sent in one lifetime of the lease: three may be lost or slow before it runs out. */
export const RENEWALS_PER_LEASE = 4;

/** Safety margin taken off the lease's lifetime: clock rate differences and scheduling delays. */
export function leaseMarginMs(leaseMs: number): number {
  return Math.max(100, Math.round(leaseMs * 0.15));
}

export class OwnedQueue {
  private renewer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ended: Promise<unknown> | null = null;

  private constructor(
    readonly queue: string,
    readonly epoch: number,
    readonly service: PushqService,
    private readonly log: LeasedLog,
    private readonly options: OwnedQueueOptions,
  ) {}

  /** The local URL of the queue's service (only this node's router calls it). */
  get url(): string {
    return this.service.url;
  }

  get replayedEvents(): number {
    return this.service.replayedEvents;
  }

  /** Takes the queue when its lease is free, run out or already this node's; null when another live node holds it. Throws StoreError. */
  static async take(options: OwnedQueueOptions): Promise<OwnedQueue | null> {
    const { store, node, leaseMs } = options;
    const stream = queueStream(options.queue);
    const sentAt = performance.now();
    const lease = await options.leases.acquire(stream, node, leaseMs);
    if (lease === null) return null;
    let owned: OwnedQueue | null = null;
    let lostEarly: string | null = null;
    const log = new LeasedLog(store, stream, await store.ensureStream(stream, options.header), lease, {
      onDeposed: (err) => {
        if (owned === null) lostEarly = err.message;
        else owned.lose(`deposed: ${err.message}`);
      },
    });
    log.validUntilMs = sentAt + leaseMs - leaseMarginMs(leaseMs);
    try {
      const events = await store.read(stream);
      const service = await PushqService.start({ ...options.service, config: options.config, log, replayed: events, host: '127.0.0.1', port: 0, grpcPort: null });
      owned = new OwnedQueue(options.queue, lease.epoch, service, log, options);
    } catch (err) {
      await log.close().catch(() => undefined);
      throw err;
    }
    owned.keep();
    if (lostEarly !== null) owned.lose(`deposed: ${lostEarly}`);
    return owned;
  }

  private keep(): void {
    const { leases, leaseMs } = this.options;
    let lease = this.log.lease;
    this.renewer = setInterval(() => {
      const sentAt = performance.now();
      leases.renew(lease, leaseMs).then(
        (next) => {
          if (next === null) {
            this.lose(`deposed: the lease of epoch ${lease.epoch} was taken by another node`);
            return;
          }
          lease = next;
          this.log.validUntilMs = Math.max(this.log.validUntilMs, sentAt + leaseMs - leaseMarginMs(leaseMs));
        },
        () => undefined, // the store is unreachable: the next renewal tries again; the watchdog ends ownership in time
      );
    }, Math.max(10, Math.floor(leaseMs / RENEWALS_PER_LEASE)));
    this.watchdog = setInterval(() => {
      if (!this.log.valid) this.lose('its lease was not renewed in time (the store unreachable, or this process paused)');
    }, Math.max(10, Math.floor(leaseMs / 20)));
  }

  /** Ownership ended by itself: stop dispatching at once (no grace), then tell the node. */
  private lose(why: string): void {
    if (this.ended !== null) return;
    this.ended = this.stop(0).then((refused) => this.options.onLost(this.queue, refused === null ? why : `${why}; its unsent events were refused: ${refused}`));
  }

  /** Gives the queue up (rebalance, shutdown): drains up to `graceMs`, flushes, releases the lease. */
  async release(graceMs: number): Promise<void> {
    this.ended ??= this.stop(graceMs);
    await this.ended;
  }

  /** Stops the service; the final flush's refusal, if any (null when it went in or there was nothing). */
  private async stop(graceMs: number): Promise<string | null> {
    clearInterval(this.renewer);
    clearInterval(this.watchdog);
    // A deposed log refuses the final flush (STORE_FENCED); what it held was never acknowledged.
    // The log's close releases the lease only if it is still this epoch's.
    try {
      await this.service.close(graceMs);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
