/**
 * Statistics per queue, a projection of the events (so a replayed log gives the same figures as the
 * live run). This is the `queues` part of `pushq simulate --json` and of `pushq replay`.
 *
 * dispatches_max_in_any_1s counts, for each dispatch at time d, the dispatches in (d − 1 s, d]:
 * the maximum over those is the maximum over every window of length 1 s.
 */
import { attemptDurationUs } from '../core/attempt.js';
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import { US_PER_SECOND, type Micros } from '../core/time.js';
import { LogHistogram } from './histogram.js';
import type { Projection } from './projection.js';

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

export class QueueAccumulator {
  added = 0;
  succeeded = 0;
  failed = 0;
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
  /** Streaming histograms (histogram.ts): bounded memory, within 0.78% of the exact percentile. */
  latencies = new LogHistogram();
  completions = new LogHistogram();
  latencySumUs = 0;

  /** An attempt ended after `durationUs`; null (a restart ended it, attempt.ts) is no duration, left out of the latency figures. */
  ended(durationUs: number | null): void {
    if (durationUs === null) return;
    this.latencies.record(durationUs);
    this.latencySumUs += durationUs;
  }

  dispatched(t: number): void {
    if (Number.isNaN(this.firstDispatch)) this.firstDispatch = t;
    this.lastDispatch = t;
    const w = this.window;
    // The ring's length is a power of two: `& mask` wraps, without a division per dispatch.
    const mask = w.length - 1;
    while (this.count > 0 && (w[this.head] as number) <= t - US_PER_SECOND) {
      this.head = (this.head + 1) & mask;
      this.count--;
    }
    if (this.count === w.length) this.growWindow();
    this.window[(this.head + this.count) & (this.window.length - 1)] = t;
    this.count++;
    if (this.count > this.maxIn1s) this.maxIn1s = this.count;
  }

  private growWindow(): void {
    const old = this.window;
    const bigger = new Float64Array(old.length * 2);
    for (let i = 0; i < this.count; i++) bigger[i] = old[(this.head + i) & (old.length - 1)] as number;
    this.window = bigger;
    this.head = 0;
  }
}

export class StatsCollector implements Projection {
  private readonly queues: QueueAccumulator[] = [];

  /** On the simulation's hot path (once per event of a million-task run): no allocation or indirection per event. */
  readonly observe = (e: EngineEvent, state: EngineState): void => {
    switch (e.type) {
      case 'ConfigApplied':
        while (this.queues.length < state.queues.length) this.queues.push(new QueueAccumulator());
        return;
      case 'TaskAdded':
        this.of(state, e.id).added++;
        return;
      case 'AttemptDispatched': {
        const tasks = state.tasks;
        const r = tasks.row(e.id);
        const acc = this.queues[tasks.queue[r] as number] as QueueAccumulator;
        acc.attempts++;
        if ((tasks.dispatchCount[r] as number) > 1) acc.retries++;
        acc.dispatched(e.t);
        const inFlight = (state.queues[tasks.queue[r] as number] as { inFlight: number }).inFlight;
        if (inFlight > acc.inFlightMax) acc.inFlightMax = inFlight;
        return;
      }
      case 'AttemptSucceeded': {
        const acc = this.of(state, e.id);
        acc.succeeded++;
        acc.ended(e.latencyUs);
        acc.completions.record(e.t - (state.tasks.addedAt[state.tasks.row(e.id)] as number));
        return;
      }
      case 'AttemptFailed': {
        this.of(state, e.id).ended(attemptDurationUs(e));
        return;
      }
      case 'TaskGaveUp': {
        const acc = this.of(state, e.id);
        acc.failed++;
        acc.ended(attemptDurationUs(e));
        return;
      }
      case 'AttemptOrphaned': {
        this.of(state, e.id).ended(attemptDurationUs(e));
        return;
      }
      default:
        return;
    }
  };

  /** Mean latency of the answered and timed-out attempts of queue `index`, µs; null before any. */
  meanLatencyUs(index: number): number | null {
    const acc = this.queues[index];
    return acc === undefined || acc.latencies.count === 0 ? null : acc.latencySumUs / acc.latencies.count;
  }

  /** The accumulator of task `id`'s queue (the task has an event now, so its row is held). */
  private of(state: EngineState, id: number): QueueAccumulator {
    return this.queues[state.tasks.queue[state.tasks.row(id)] as number] as QueueAccumulator;
  }

  /**
   * Figures for every queue that saw at least one task, by name. Instants (the first and last
   * dispatch) are seconds since `originUs` (default 0: a simulation's start).
   */
  report(state: EngineState, options: { includeIdle?: boolean; originUs?: Micros } = {}): Record<string, QueueStats> {
    const origin = options.originUs ?? 0;
    const out: Record<string, QueueStats> = {};
    state.queues.forEach((q, i) => {
      const acc = this.queues[i];
      if (!acc || (acc.added === 0 && !options.includeIdle)) return;
      const counts = q.countByState;
      const latencyP50 = acc.latencies.percentile(50);
      const latencyP99 = acc.latencies.percentile(99);
      const completionP50 = acc.completions.percentile(50);
      const completionP99 = acc.completions.percentile(99);
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
        // The gaps between the dispatches over the time they span: N dispatches 1 s apart are 1/s, not N/(N−1).
        dispatch_rate_mean_per_second: acc.attempts === 0 ? null : span > 0 ? (acc.attempts - 1) / (span / US_PER_SECOND) : null,
        dispatches_max_in_any_1s: acc.maxIn1s,
        in_flight_max: acc.inFlightMax,
        first_dispatch_at_seconds: seconds(acc.firstDispatch - origin),
        last_dispatch_at_seconds: seconds(acc.lastDispatch - origin),
        latency_seconds: { p50: seconds(latencyP50 ?? null), p99: seconds(latencyP99 ?? null) },
        completion_seconds: { p50: seconds(completionP50 ?? null), p99: seconds(completionP99 ?? null), max: seconds(acc.completions.count === 0 ? null : acc.completions.max) },
      };
    });
    return out;
  }
}
