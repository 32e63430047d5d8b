/**
 * What a run's end-of-run totals cannot say, as one projection: the backlog over time and its
 * peak, when each queue drained, how long ready tasks waited and what held them (tokens,
 * concurrency, paused, ...), and the per-queue time series (series.ts). Fed live by the kernel
 * or by `fold` over a recorded log, with the same result.
 *
 * Definitions (docs/simulate.md):
 * - a task's wait, per attempt: from when it could first go (its ETA, or the end of its backoff)
 *   to its dispatch; forced runs (RunTask) are not waits;
 * - wait by cause: ready-task-seconds, summed per cause while ready tasks waited (ready-tracker.ts);
 * - backlog: ready + delayed + backoff (every task not ended and not in flight);
 * - drained at: the time the queue's last task ended, when none is left; null otherwise.
 */
import type { EngineEvent, ServiceStarted } from '../core/events.js';
import type { EngineState, QueueRuntime } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import type { Micros } from '../core/time.js';
import { LogHistogram } from './histogram.js';
import type { Projection } from './projection.js';
import { ReadinessTracker, type QueueReadiness } from './ready-tracker.js';
import { Count, SeriesNotKeptError, SeriesRecorder, unpackColumns, type Gauges, type PackedColumns } from './series.js';
import { ALL_QUEUES, type PackedSeries, type QueueBound, type SeriesData, type WaitByCause } from './series-types.js';
import { readyAtUs } from './task-waits.js';

export interface InsightOptions {
  /** The run's start, µs; default: the first event's time (0 for a simulation). */
  startUs?: Micros;
  /** Fixed series resolution, µs; absent: automatic (about 1,000 points). */
  resolutionUs?: Micros;
  /** Points allowed at a fixed resolution before SeriesTooLongError. */
  maxPoints?: number;
  /** Record the series (default true); false: `seriesData` throws SeriesNotKeptError. */
  series?: boolean;
}

export interface QueueInsight {
  backlog_max: number;
  backlog_max_at_seconds: number | null;
  drained_at_seconds: number | null;
  wait_seconds: { p50: number | null; p90: number | null; p99: number | null; max: number | null; mean: number | null };
  wait_by_cause_task_seconds: WaitByCause;
}

// Per-queue snapshot slots (the state after the queue's last event), for gauges at interval ends.
const PENDING = 0;
const BACKOFF = 1;
const IN_FLIGHT = 2;
const CREDIT = 3;
const REFILLED_AT = 4;
const HAS_BUCKET = 5;
const SLOTS = 6;

export class InsightProjection implements Projection {
  private readiness: ReadinessTracker;
  series: SeriesRecorder;
  /**
   * Whether events reach `series`. A run whose series nobody reads (experiments, a plain
   * `pushq simulate`) skips it: the recorder's per-event work was ~6% of such a run. Its figures
   * do not depend on it (the wait sums are exact in integer µs however often they are cut).
   */
  private readonly keepSeries: boolean;
  private started: boolean;
  private runtimes: readonly QueueRuntime[] = [];
  private snapshot = new Float64Array(0);
  private readonly waits: LogHistogram[] = [];
  private readonly added: number[] = [];
  private readonly backlogMax: number[] = [];
  private readonly backlogMaxAt: number[] = [];
  /**
   * Each queue's backlog after its latest event, and that event's instant. The peak counts a
   * backlog as it stands at the end of an instant: tasks added and dispatched in the same
   * microsecond never waited, and how the engine batches the adds of an instant (100 at a time)
   * must not show in the figure.
   */
  private readonly instantBacklog: number[] = [];
  private readonly instantAt: number[] = [];
  private readonly lastEnd: number[] = [];
  private lastUs: Micros;

  constructor(private readonly options: InsightOptions = {}) {
    this.started = options.startUs !== undefined;
    this.keepSeries = options.series ?? true;
    this.lastUs = options.startUs ?? 0;
    this.readiness = new ReadinessTracker(this.lastUs);
    this.series = new SeriesRecorder(this.lastUs, this.readGauges, options.resolutionUs, options.maxPoints);
  }

  /** On the simulation's hot path: no allocation per event. */
  readonly observe = (e: EngineEvent, state: EngineState): void => {
    // The event's time, read from the state evolve just set: a read of `e.t` here meets every
    // event's shape, and V8 would copy the number out of its box for every event.
    const t = state.lastEventAt;
    if (!this.started) {
      // The run starts with its first event (a wall-clock log's first instant).
      this.started = true;
      this.readiness = new ReadinessTracker(t);
      this.series = new SeriesRecorder(t, this.readGauges, this.options.resolutionUs, this.options.maxPoints);
    }
    this.lastUs = t;
    // Before the series reach `t` (restarted says why).
    if (e.type === 'ServiceStarted') {
      this.restarted(e, state);
      return;
    }
    if (this.keepSeries) this.series.reach(t);
    if (e.type === 'ConfigApplied' || e.type === 'QueuePaused' || e.type === 'QueueResumed' || e.type === 'QueuePurged') {
      this.queueEvent(e, state);
      return;
    }
    const id = e.id;
    const qi = state.tasks.queue[state.tasks.row(id)] as number;
    // The queue's rows so far read its gauges as they were before this event.
    if (this.keepSeries) this.series.catchUp(qi);
    const q = this.readiness.queues[qi] as QueueReadiness;
    this.readiness.advance(q, t);
    switch (e.type) {
      case 'TaskAdded':
        this.readiness.added(q, id, e.eta, t, state.tasks.base);
        this.added[qi] = (this.added[qi] as number) + 1;
        if (this.keepSeries) this.series.count(qi, Count.Added);
        break;
      case 'AttemptDispatched':
        this.readiness.left(q, id);
        if (e.forced !== true) {
          // It could go from its ETA (or its backoff's end), but never before it was added.
          const readyAt = readyAtUs(state.tasks, id);
          (this.waits[qi] as LogHistogram).record(t > readyAt ? t - readyAt : 0);
        }
        if (this.keepSeries) this.series.count(qi, Count.Dispatched);
        break;
      case 'BackoffElapsed':
        this.readiness.becameReady(q, id, readyAtUs(state.tasks, id), t);
        break;
      case 'AttemptSucceeded':
        if (this.keepSeries) this.series.count(qi, Count.Succeeded);
        this.lastEnd[qi] = t;
        break;
      case 'AttemptFailed':
        if (this.keepSeries) this.series.count(qi, Count.FailedAttempts);
        break;
      case 'TaskGaveUp':
        if (this.keepSeries) {
          this.series.count(qi, Count.FailedAttempts);
          this.series.count(qi, Count.GaveUp);
        }
        this.lastEnd[qi] = t;
        break;
      case 'TaskDeleted':
        this.readiness.left(q, id);
        this.lastEnd[qi] = t;
        break;
      case 'AttemptOrphaned':
        break;
    }
    this.settle(qi, state, t);
  };

  /**
   * pushq started again: every queue's ready tasks were held by what held them up to the last
   * event before the start, then by the span nothing ran (ReadinessTracker.restarted); the series'
   * intervals in the span see that too.
   */
  private restarted(e: ServiceStarted, state: EngineState): void {
    const t = e.t;
    const devServer = state.settings.devServer === true;
    const queues = this.readiness.queues;
    // The series read a queue's gauges when they catch it up (SeriesRecorder.catchUp), advancing
    // its readiness to each row's end: every row before the stop is read before the readiness moves
    // to it, and every row in the span after the span's cause is set, before it moves to the start.
    if (this.keepSeries) this.series.catchUpAll();
    for (let i = 0; i < queues.length; i++) this.readiness.restarted(queues[i] as QueueReadiness, state.queues[i] as QueueRuntime, e.stoppedAfter, t, devServer);
    if (this.keepSeries) {
      this.series.reach(t);
      this.series.catchUpAll();
    }
    for (let i = 0; i < queues.length; i++) {
      this.readiness.advance(queues[i] as QueueReadiness, t);
      this.settle(i, state, t);
    }
  }

  /** Events about a whole queue, or every queue. */
  private queueEvent(e: EngineEvent, state: EngineState): void {
    const t = e.t;
    if (e.type === 'ConfigApplied') {
      if (this.keepSeries) this.series.catchUpAll();
      this.runtimes = state.queues;
      const n = state.queues.length;
      if (this.snapshot.length < n * SLOTS) {
        const next = new Float64Array(n * SLOTS);
        next.set(this.snapshot);
        this.snapshot = next;
      }
      for (let i = 0; i < n; i++) {
        const q = this.readiness.queue(i);
        this.readiness.advance(q, t);
        this.series.ensureQueue(i);
        while (this.waits.length <= i) {
          this.waits.push(new LogHistogram());
          this.added.push(0);
          this.backlogMax.push(0);
          this.backlogMaxAt.push(NaN);
          this.instantBacklog.push(0);
          this.instantAt.push(NaN);
          this.lastEnd.push(NaN);
        }
        this.settle(i, state, t);
      }
      return;
    }
    const runtime = state.queueByName.get((e as { queue: string }).queue) as QueueRuntime;
    if (this.keepSeries) this.series.catchUp(runtime.index);
    const q = this.readiness.queues[runtime.index] as QueueReadiness;
    this.readiness.advance(q, t);
    if (e.type === 'QueuePurged') {
      this.readiness.emptied(q);
      this.lastEnd[runtime.index] = t;
    }
    this.settle(runtime.index, state, t);
  }

  /** After an event of queue `qi`: its hold cause, backlog peak and snapshot, from the state. */
  private settle(qi: number, state: EngineState, t: Micros): void {
    const runtime = state.queues[qi] as QueueRuntime;
    this.readiness.recheck(this.readiness.queues[qi] as QueueReadiness, runtime, t, state.settings.devServer === true);
    const counts = runtime.countByState;
    const pending = counts[TaskState.Pending] as number;
    const backoff = counts[TaskState.Backoff] as number;
    if (t !== this.instantAt[qi]) this.closeInstant(qi);
    this.instantAt[qi] = t;
    this.instantBacklog[qi] = pending + backoff;
    const s = this.snapshot;
    const o = qi * SLOTS;
    s[o + PENDING] = pending;
    s[o + BACKOFF] = backoff;
    s[o + IN_FLIGHT] = runtime.inFlight;
    const bucket = runtime.bucket;
    s[o + HAS_BUCKET] = bucket === null ? 0 : 1;
    if (bucket !== null) {
      s[o + CREDIT] = bucket.credit;
      s[o + REFILLED_AT] = bucket.refilledAt;
    }
  }

  /** Queue `qi`'s latest instant is over: its backlog then may be the peak. */
  private closeInstant(qi: number): void {
    const backlog = this.instantBacklog[qi] as number;
    if (backlog > (this.backlogMax[qi] as number)) {
      this.backlogMax[qi] = backlog;
      this.backlogMaxAt[qi] = this.instantAt[qi] as number;
    }
  }

  /**
   * Gauges of queue `qi` at `t`: closing an interval (t ≤ the event being seen) advances the
   * tracker; a partial one does not. They hold (steadyUntil) until a delayed task's ETA comes
   * or the bucket gains a token.
   */
  private readonly readGauges = (qi: number, t: Micros, out: Gauges): void => {
    const q = this.readiness.queues[qi];
    const s = this.snapshot;
    const o = qi * SLOTS;
    let ready = 0;
    let steadyUntil = Infinity;
    if (q !== undefined) {
      if (t <= this.lastUs) {
        this.readiness.advance(q, t);
        ready = q.ready;
      } else {
        ready = this.readiness.readyAt(q, t);
      }
      // An ETA at or before t not yet counted (a partial row's read): no promise past t.
      const eta = q.delayed.topEta();
      steadyUntil = eta > t ? eta : t;
    }
    out.ready = ready;
    out.delayed = Math.max(0, (s[o + PENDING] ?? 0) - ready);
    out.backoff = s[o + BACKOFF] ?? 0;
    out.inFlight = s[o + IN_FLIGHT] ?? 0;
    out.tokens = null;
    const bucket = this.runtimes[qi]?.bucket;
    if (s[o + HAS_BUCKET] === 1 && bucket) {
      const missing = bucket.capacityCredit - (s[o + CREDIT] as number);
      const elapsed = t - (s[o + REFILLED_AT] as number);
      const credit = elapsed <= 0 || missing <= 0 ? (s[o + CREDIT] as number) : elapsed >= Math.ceil(missing / bucket.tokensPerPeriod) ? bucket.capacityCredit : (s[o + CREDIT] as number) + elapsed * bucket.tokensPerPeriod;
      out.tokens = Math.floor(credit / bucket.periodUs);
      if (credit < bucket.capacityCredit) {
        // The next whole token comes no earlier than this (a µs less for rounding).
        const next = (s[o + REFILLED_AT] as number) + Math.floor(((out.tokens + 1) * bucket.periodUs - (s[o + CREDIT] as number)) / bucket.tokensPerPeriod) - 1;
        steadyUntil = Math.min(steadyUntil, next > t ? next : t);
      }
    }
    out.steadyUntil = steadyUntil;
  };

  /** Per-queue figures at `endUs` (the run's time now), for queues that saw a task. */
  /** Instants (the backlog's peak, the drain) are seconds since `originUs` (a simulation's start: 0). */
  figures(state: EngineState, endUs: Micros, originUs: Micros = 0): Record<string, QueueInsight> {
    const out: Record<string, QueueInsight> = {};
    if (this.keepSeries) this.series.catchUpAll();
    const seconds = (us: number): number | null => (Number.isNaN(us) ? null : us / 1e6);
    state.queues.forEach((runtime, i) => {
      const q = this.readiness.queues[i];
      if (q === undefined || (this.added[i] ?? 0) === 0) return;
      // The latest instant counts as it stands, without being recorded: a read in the middle of an
      // instant (a schedule callback, a dashboard poll) must not change the figure.
      const latest = this.instantBacklog[i] as number;
      const peak = latest > (this.backlogMax[i] as number) ? { max: latest, at: this.instantAt[i] as number } : { max: this.backlogMax[i] as number, at: this.backlogMaxAt[i] as number };
      const counts = runtime.countByState;
      const live = (counts[TaskState.Pending] as number) + (counts[TaskState.Dispatching] as number) + (counts[TaskState.Backoff] as number);
      const w = this.waits[i] as LogHistogram;
      out[runtime.name] = {
        backlog_max: peak.max,
        backlog_max_at_seconds: seconds(peak.at - originUs),
        drained_at_seconds: live === 0 ? seconds((this.lastEnd[i] as number) - originUs) : null,
        wait_seconds: { p50: seconds(w.percentile(50) ?? NaN), p90: seconds(w.percentile(90) ?? NaN), p99: seconds(w.percentile(99) ?? NaN), max: seconds(w.count === 0 ? NaN : w.max), mean: seconds(w.mean() ?? NaN) },
        // Summed to endUs without advancing the tracker: a view read at an instant may be folded on (time-travel.ts).
        wait_by_cause_task_seconds: q.waitByCauseSeconds(this.readiness.byCauseAt(q, endUs)),
      };
    });
    return out;
  }

  /** The series up to `endUs`, per queue name and `*` for all queues. */
  seriesData(state: EngineState, endUs: Micros): SeriesData {
    const p = this.packedColumns(endUs);
    const queues: SeriesData['queues'] = {};
    state.queues.forEach((q, i) => {
      const c = p.queues[i];
      if (c !== undefined) queues[q.name] = unpackColumns(p.t, c, p.rows);
    });
    queues[ALL_QUEUES] = unpackColumns(p.t, p.sum, p.rows);
    return { resolution_seconds: p.resolutionUs / 1e6, queues };
  }

  /** The series of seriesData in one buffer, its queues in SeriesData's key order: what a worker thread hands over. */
  packedSeries(state: EngineState, endUs: Micros): PackedSeries {
    const p = this.packedColumns(endUs);
    const offsets: Record<string, number> = {};
    state.queues.forEach((q, i) => {
      const c = p.queues[i];
      if (c !== undefined) offsets[q.name] = c.byteOffset / Float64Array.BYTES_PER_ELEMENT;
    });
    offsets[ALL_QUEUES] = p.sum.byteOffset / Float64Array.BYTES_PER_ELEMENT;
    const names = Object.keys(offsets);
    return { resolution_seconds: p.resolutionUs / 1e6, queues: names, rows: names.map(() => p.rows), offsets: names.map((name) => offsets[name] as number), data: p.buffer };
  }

  private packedColumns(endUs: Micros): PackedColumns {
    if (!this.keepSeries) throw new SeriesNotKeptError();
    return this.series.packed(endUs);
  }
}

/**
 * The first-order figures for a queue's configuration: throughput min(rate, cap / latency) and
 * which term wins; and for `tasks` added at once, each succeeding at its first attempt, the time
 * from the add to the last end: the rate needs (tasks − bucket) / rate after the burst, the cap
 * (⌈tasks / cap⌉ − 1) rounds of one latency, and the last attempt one latency more.
 */
export function queueBound(runtime: QueueRuntime, tasks: number, meanLatencyUs: number | null): QueueBound {
  const c = runtime.config;
  const rate = c.rate_per_second !== null && c.rate_per_second > 0 && runtime.isPush ? c.rate_per_second : null;
  const cap = c.max_concurrent_requests ?? (runtime.isPush ? runtime.maxConcurrent : null);
  const latency = meanLatencyUs === null ? null : meanLatencyUs / 1e6;
  const bucket = c.bucket_size;
  const byCap = cap !== null && latency !== null && latency > 0 ? cap / latency : Infinity;
  const throughput = rate === null ? null : Math.min(rate, byCap);
  const binding = rate === null ? null : byCap < rate ? 'max_concurrent_requests' : 'rate';
  if (rate !== null && bucket === 0) {
    // A bucket of 0 never holds a whole token (decide.ts queueIsDispatching): nothing is ever dispatched.
    return { rate_per_second: rate, bucket_size: bucket, max_concurrent_requests: cap, mean_latency_seconds: latency, throughput_per_second: 0, binding: 'bucket_size', drain_lower_bound_seconds: null };
  }
  let drain: number | null = null;
  if (rate !== null && latency !== null && tasks > 0) {
    const byRate = Math.max(0, tasks - (bucket ?? 0)) / rate;
    const byConcurrency = cap === null ? 0 : (Math.ceil(tasks / cap) - 1) * latency;
    drain = Math.max(byRate, byConcurrency) + latency;
  }
  return {
    rate_per_second: rate,
    bucket_size: bucket,
    max_concurrent_requests: cap,
    mean_latency_seconds: latency,
    throughput_per_second: throughput,
    binding,
    drain_lower_bound_seconds: drain,
  };
}
