/**
 * What the Cloud Tasks Task resource shows about attempts that the engine state does not keep:
 * the last attempt's schedule, dispatch and response times and its outcome, and why it failed.
 * Also each queue's last purge time. (The retry reason the next attempt carries is in the state:
 * TaskTable.retryReason.)
 *
 * A projection, so it is rebuilt exactly by folding the replayed events of a restart: nothing
 * here is stored outside the log. Per-task fields live in plain arrays indexed
 * by task id (ids are dense); NaN means "none yet".
 */
import { assertNever } from '../core/assert.js';
import type { EngineEvent, FailureReason } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import type { Projection } from './projection.js';

export interface LastAttempt {
  scheduleTimeUs: number;
  dispatchTimeUs: number;
  /** NaN while the attempt is in flight. */
  responseTimeUs: number;
  /** HTTP status; null when no response came (see `reason`), or while in flight. */
  status: number | null;
  reason: FailureReason | null;
  error: string | undefined;
}

export class AttemptHistory implements Projection {
  private readonly scheduleAt: number[] = [];
  private readonly dispatchAt: number[] = [];
  private readonly responseAt: number[] = [];
  private readonly status: number[] = [];
  /** Why the task's last failed attempt failed (kept across the next dispatch), and its status. */
  private readonly reasons: (FailureReason | null)[] = [];
  private readonly errors = new Map<number, string>();
  /** Queue name → time of its last purge, µs. */
  readonly purgedAt = new Map<string, number>();
  /**
   * Queue name → time of its last test reset (QueuePurged with `refillBucket`), µs: what ran
   * before it is no part of the queue's statistics (FetchQueueStats), as for a fresh deploy.
   */
  readonly resetAt = new Map<string, number>();

  readonly observe = (e: EngineEvent, state: EngineState): void => {
    switch (e.type) {
      case 'TaskAdded':
        while (this.scheduleAt.length <= e.id) {
          this.scheduleAt.push(NaN);
          this.dispatchAt.push(NaN);
          this.responseAt.push(NaN);
          this.status.push(-1);
          this.reasons.push(null);
        }
        return;
      case 'AttemptDispatched':
        // The task's eta before this dispatch is what it was scheduled for; evolve keeps it.
        this.scheduleAt[e.id] = state.tasks.eta[state.tasks.row(e.id)] as number;
        this.dispatchAt[e.id] = e.t;
        this.responseAt[e.id] = NaN;
        this.status[e.id] = -1;
        return;
      case 'AttemptSucceeded':
        this.ended(e.id, e.t, e.status, null, undefined);
        return;
      case 'AttemptFailed':
      case 'TaskGaveUp':
        this.ended(e.id, e.t, e.status, e.reason, e.error);
        return;
      case 'AttemptOrphaned':
        this.ended(e.id, e.t, e.status, e.status === null ? 'connection' : null, e.error);
        return;
      case 'QueuePurged':
        this.purgedAt.set(e.queue, e.t);
        if (e.refillBucket === true) this.resetAt.set(e.queue, e.t);
        return;
      case 'BackoffElapsed':
      case 'TaskDeleted':
      case 'QueuePaused':
      case 'QueueResumed':
      case 'ConfigApplied':
      case 'ServiceStarted':
        return;
      default:
        assertNever(e, 'event');
    }
  };

  private ended(id: number, t: number, status: number | null, reason: FailureReason | null, error: string | undefined): void {
    this.responseAt[id] = t;
    this.status[id] = status ?? -1;
    this.reasons[id] = reason;
    if (error !== undefined) this.errors.set(id, error);
    else this.errors.delete(id);
  }

  lastAttempt(id: number): LastAttempt | null {
    const dispatchTimeUs = this.dispatchAt[id];
    if (dispatchTimeUs === undefined || Number.isNaN(dispatchTimeUs)) return null;
    const status = this.status[id] as number;
    return {
      scheduleTimeUs: this.scheduleAt[id] as number,
      dispatchTimeUs,
      responseTimeUs: this.responseAt[id] as number,
      status: status === -1 ? null : status,
      reason: this.reasons[id] ?? null,
      error: this.errors.get(id),
    };
  }
}
