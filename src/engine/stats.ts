/**
 * Statistics per queue, folded from events (so a replayed log gives the same figures as the live
 * run). This is the `queues` part of `pushq simulate --json`.
 *
 * dispatches_max_in_any_1s counts, for each dispatch at time d, the dispatches in (d − 1 s, d]:
 * the maximum over those is the maximum over every window of length 1 s.
 */
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import { US_PER_SECOND } from '../core/time.js';

export interface QueueStats {
  tasks_added: number;
  succeeded: number;
  /** Tasks that gave up (both retry limits exceeded). */
  failed: number;
  deleted: number;
  /** Tasks not yet ended: waiting, in backoff or in flight. */
  pending: number;
  attempts: number;
  retries: number;
  dispatch_rate_mean_per_second: number | null;
  dispatches_max_in_any_1s: number;
  in_flight_max: number;
  first_dispatch_at_seconds: number | null;
  last_dispatch_at_seconds: number | null;
  latency_seconds: { p50: number | null; p99: number | null };
  completion_seconds: { p50: number | null; p99: number | null; max: number | null };
}

class GrowableFloats {
  data = new Float64Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** Nearest-rank percentile of sorted values, or null when there are none. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

class QueueAccumulator {
  added = 0;
  succeeded = 0;
  failed = 0;
  deleted = 0;
  attempts = 0;
  retries = 0;
  inFlightMax = 0;
  firstDispatch = NaN;
  lastDispatch = NaN;
  maxIn1s = 0;
  // Dispatch times inside the last second, as a ring buffer.
  private window = new Float64Array(1024);
  private head = 0;
  private count = 0;
  latencies = new GrowableFloats();
  completions = new GrowableFloats();

  dispatched(t: number): void {
    if (Number.isNaN(this.firstDispatch)) this.firstDispatch = t;
    this.lastDispatch = t;
    const w = this.window;
    while (this.count > 0 && (w[this.head] as number) <= t - US_PER_SECOND) {
      this.head = (this.head + 1) % w.length;
      this.count--;
    }
    if (this.count === w.length) this.growWindow();
    this.window[(this.head + this.count) % this.window.length] = t;
    this.count++;
    if (this.count > this.maxIn1s) this.maxIn1s = this.count;
  }

  private growWindow(): void {
    const bigger = new Float64Array(this.window.length * 2);
    for (let i = 0; i < this.count; i++) bigger[i] = this.window[(this.head + i) % this.window.length] as number;
    this.window = bigger;
    this.head = 0;
  }
}

export class StatsCollector {
  private readonly queues: QueueAccumulator[] = [];

  /** An EventObserver: call it after each event is applied. */
  readonly observe = (e: EngineEvent, state: EngineState): void => {
    switch (e.type) {
      case 'ConfigApplied':
        while (this.queues.length < state.queues.length) this.queues.push(new QueueAccumulator());
        return;
      case 'TaskAdded':
        this.of(state, e.id).added++;
        return;
      case 'AttemptDispatched': {
        const acc = this.of(state, e.id);
        acc.attempts++;
        if ((state.tasks.retryCount[e.id] as number) > 1) acc.retries++;
        acc.dispatched(e.t);
        const inFlight = (state.queues[state.tasks.queue[e.id] as number] as { inFlight: number }).inFlight;
        if (inFlight > acc.inFlightMax) acc.inFlightMax = inFlight;
        return;
      }
      case 'AttemptSucceeded': {
        const acc = this.of(state, e.id);
        acc.succeeded++;
        acc.latencies.push(e.latencyUs);
        acc.completions.push(e.t - (state.tasks.addedAt[e.id] as number));
        return;
      }
      case 'AttemptFailed':
        this.of(state, e.id).latencies.push(e.latencyUs);
        return;
      case 'TaskGaveUp': {
        const acc = this.of(state, e.id);
        acc.failed++;
        acc.latencies.push(e.latencyUs);
        return;
      }
      case 'AttemptOrphaned':
        this.of(state, e.id).latencies.push(e.latencyUs);
        return;
      case 'TaskDeleted':
        this.of(state, e.id).deleted++;
        return;
      case 'QueuePurged': {
        // Counted from the state, which evolve has already updated.
        return;
      }
      default:
        return;
    }
  };

  private of(state: EngineState, id: number): QueueAccumulator {
    return this.queues[state.tasks.queue[id] as number] as QueueAccumulator;
  }

  /** Figures for every queue that saw at least one task, by name. */
  report(state: EngineState, options: { includeIdle?: boolean } = {}): Record<string, QueueStats> {
    const out: Record<string, QueueStats> = {};
    state.queues.forEach((q, i) => {
      const acc = this.queues[i];
      if (!acc || (acc.added === 0 && !options.includeIdle)) return;
      const counts = q.countByState;
      const latencies = acc.latencies.sorted();
      const completions = acc.completions.sorted();
      const span = acc.lastDispatch - acc.firstDispatch;
      const seconds = (us: number | null) => (us === null || Number.isNaN(us) ? null : us / US_PER_SECOND);
      out[q.name] = {
        tasks_added: acc.added,
        succeeded: acc.succeeded,
        failed: acc.failed,
        deleted: (counts[TaskState.Deleted] as number),
        pending: (counts[TaskState.Pending] as number) + (counts[TaskState.Dispatching] as number) + (counts[TaskState.Backoff] as number),
        attempts: acc.attempts,
        retries: acc.retries,
        dispatch_rate_mean_per_second: acc.attempts === 0 ? null : span > 0 ? acc.attempts / (span / US_PER_SECOND) : null,
        dispatches_max_in_any_1s: acc.maxIn1s,
        in_flight_max: acc.inFlightMax,
        first_dispatch_at_seconds: seconds(acc.firstDispatch),
        last_dispatch_at_seconds: seconds(acc.lastDispatch),
        latency_seconds: { p50: seconds(percentile(latencies, 50)), p99: seconds(percentile(latencies, 99)) },
        completion_seconds: {
          p50: seconds(percentile(completions, 50)),
          p99: seconds(percentile(completions, 99)),
          max: seconds(completions.length ? (completions[completions.length - 1] as number) : null),
        },
      };
    });
    return out;
  }
}
