/**
 * A queue's log in cluster mode: the store's log of the queue's stream (StoreEventLog, which
 * measures the lease's validity on this node's monotonic clock, as one `pushq serve --store` does),
 * not held until the acquire sets its validity, and saying, once that passes, that this node no
 * longer owns the queue.
 *
 * The rule that keeps one dispatcher per queue: a node stops dispatching a queue before the store
 * can grant its lease to another. The store grants at `db_now + ttl` when the renewal reaches it,
 * and that is no earlier than the instant the renewal was sent, so `sent_local + ttl − margin`
 * (performance.now(), which keeps counting while the process is stopped) is an instant the node
 * still owns the queue, whatever its wall clock says. Past it, `writeFailure()` reports the lease
 * as lost: the kernel refuses commands and the service's outage guard (src/server/log-outage.ts)
 * starts no new attempt, checked at every dispatch, so even a process that wakes from SIGSTOP
 * with its timers all due dispatches nothing before the node has renewed or given the queue up.
 */
import { LogError } from '../log/log-errors.js';
import { StoreEventLog } from '../store/store-log.js';

export class LeasedLog extends StoreEventLog {
  /** Until the acquire sets it (OwnedQueue.take, at once): not held. */
  override validUntilMs = -Infinity;
  /**
   * Stops the lease's renewals (owned-queue.ts sets it): run as the log closes, after its last
   * flush, just before the release. A queue given up cleanly goes on renewing while its service
   * drains, however long its attempts take, so no other node takes it mid-drain. Resolves once a
   * renewal already sent has come back: one arriving after the release would take the lease again.
   */
  stopRenewals: () => Promise<void> = async () => {};

  protected override releasing(): Promise<void> {
    return this.stopRenewals();
  }

  protected override leaseExpired(): LogError {
    return new LogError('LOG_WRITE_FAILED', `${this.stream}: the lease of epoch ${this.lease.epoch} was not renewed in time; this node no longer owns the queue`);
  }
}
