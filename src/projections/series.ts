/**
 * Time series of a run, per queue: counts of what happened in each interval [t − Δ, t) and gauges
 * of the state at its end t. Intervals are closed as time passes them (an event at or after t),
 * so memory is one row per interval, whatever the number of events.
 *
 * Resolution: given (Δ fixed; more than `maxPoints` intervals is an error), or automatic: Δ starts
 * at 1 ms and doubles whenever the run passes AUTO_POINTS_MAX intervals (pairs of rows merge:
 * counts add up, gauges keep the later one), so a run of any length ends with 1,024 to 2,048 rows,
 * and `columns()` halves them once more when that gives rows closer to 1,000.
 */
import type { Micros } from '../core/time.js';
import { SERIES_COUNT_FIELDS, type SeriesColumns } from './series-types.js';

const AUTO_START_US = 1_000;
const AUTO_POINTS_MAX = 2_048;
export const FIXED_POINTS_MAX = 100_000;

const COUNTS = SERIES_COUNT_FIELDS.length;
/** Count slots, in SERIES_COUNT_FIELDS order. */
export const enum Count {
  Added = 0,
  Dispatched = 1,
  Succeeded = 2,
  FailedAttempts = 3,
  GaveUp = 4,
}

/** The gauges of one queue at an instant. */
export interface Gauges {
  ready: number;
  delayed: number;
  backoff: number;
  inFlight: number;
  tokens: number | null;
}

/** Reads a queue's gauges at time t (≥ every event seen so far). */
export type GaugeReader = (queueIndex: number, t: Micros, out: Gauges) => void;

/**
 * A fixed resolution that gives more than `maxPoints` rows. The message names no input (the
 * library sets the resolution under several names, the CLI with `--resolution`): a caller that
 * knows which input set it says so with `seriesTooLongMessage`.
 */
export class SeriesTooLongError extends Error {
  readonly code = 'SERIES_TOO_LONG';
  constructor(
    readonly resolutionUs: number,
    readonly maxPoints: number,
  ) {
    super(seriesTooLongMessage(`a series resolution of ${resolutionUs / 1e6} s`, maxPoints));
    this.name = 'SeriesTooLongError';
  }
}

/** The series of a run made without one (`series: false`) was asked for. */
export class SeriesNotKeptError extends Error {
  readonly code = 'SERIES_NOT_KEPT';
  constructor() {
    super('this run keeps no series (it was made with series: false)');
    this.name = 'SeriesNotKeptError';
  }
}

/** The refusal, `given` naming the resolution as its input set it (`--resolution 0.001s`). */
export function seriesTooLongMessage(given: string, maxPoints: number): string {
  return `${given} gives more than ${maxPoints.toLocaleString('en')} points over this run: choose a coarser resolution`;
}

/**
 * One queue's closed rows, column by column, in typed arrays with room to spare: pushing a row
 * allocates nothing, and halving (automatic resolution) works in place. Plain arrays cost a
 * reallocation of every column each time they grew back after a halving shrank them (~10% of a
 * run's garbage). `tokens` holds NaN where the row has none (a queue without a bucket).
 */
export class QueueColumns {
  /** Rows closed. */
  length = 0;
  t = new Float64Array(64);
  counts: Float64Array<ArrayBuffer>[] = SERIES_COUNT_FIELDS.map(() => new Float64Array(64));
  ready = new Float64Array(64);
  delayed = new Float64Array(64);
  backoff = new Float64Array(64);
  inFlight = new Float64Array(64);
  tokens = new Float64Array(64);
  /** Counts of the interval now open. */
  readonly open = new Float64Array(COUNTS);

  push(t: number, g: Gauges): void {
    if (this.length === this.t.length) this.grow();
    const i = this.length++;
    this.t[i] = t;
    for (let c = 0; c < COUNTS; c++) {
      (this.counts[c] as Float64Array)[i] = this.open[c] as number;
      this.open[c] = 0;
    }
    this.ready[i] = g.ready;
    this.delayed[i] = g.delayed;
    this.backoff[i] = g.backoff;
    this.inFlight[i] = g.inFlight;
    this.tokens[i] = g.tokens ?? NaN;
  }

  /** Merges rows pairwise (Δ doubles); an odd last row goes back into the open interval. */
  halve(): void {
    const n = this.length;
    const keep = n >> 1;
    if (n % 2 === 1) {
      for (let c = 0; c < COUNTS; c++) this.open[c] = (this.open[c] as number) + ((this.counts[c] as Float64Array)[n - 1] as number);
    }
    for (const col of this.counts) {
      for (let i = 0; i < keep; i++) col[i] = (col[2 * i] as number) + (col[2 * i + 1] as number);
    }
    // Times and gauges are those at the end of the merged pair: its second row's.
    for (const col of [this.t, this.ready, this.delayed, this.backoff, this.inFlight, this.tokens]) {
      for (let i = 0; i < keep; i++) col[i] = col[2 * i + 1] as number;
    }
    this.length = keep;
  }

  private grow(): void {
    const bigger = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.t = bigger(this.t);
    this.counts = this.counts.map(bigger);
    this.ready = bigger(this.ready);
    this.delayed = bigger(this.delayed);
    this.backoff = bigger(this.backoff);
    this.inFlight = bigger(this.inFlight);
    this.tokens = bigger(this.tokens);
  }
}

export class SeriesRecorder {
  resolutionUs: number;
  private readonly auto: boolean;
  private nextBoundary: Micros;
  private readonly queues: QueueColumns[] = [];
  private readonly gauges: Gauges = { ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: null };

  constructor(
    private readonly startUs: Micros,
    private readonly readGauges: GaugeReader,
    resolutionUs?: number,
    private readonly maxPoints = FIXED_POINTS_MAX,
  ) {
    this.auto = resolutionUs === undefined;
    this.resolutionUs = resolutionUs ?? AUTO_START_US;
    this.nextBoundary = startUs + this.resolutionUs;
  }

  /** Intervals closed so far (rows of every queue's columns). */
  rows = 0;

  /** Makes room for queue `index` (rows before it was created read 0 and no tokens). */
  ensureQueue(index: number): void {
    while (this.queues.length <= index) {
      const q = new QueueColumns();
      const zero: Gauges = { ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: null };
      for (let i = 0; i < this.rows; i++) q.push(this.startUs + (i + 1) * this.resolutionUs, zero);
      this.queues.push(q);
    }
  }

  /** Closes every interval that ends at or before `t` (call before counting an event at `t`). */
  reach(t: Micros): void {
    if (t < this.nextBoundary) return;
    if (this.auto) {
      while (this.widen(t));
    } else if (this.rows + Math.floor((t - this.nextBoundary) / this.resolutionUs) + 1 > this.maxPoints) {
      throw new SeriesTooLongError(this.resolutionUs, this.maxPoints);
    }
    while (this.nextBoundary <= t) {
      this.close(this.nextBoundary);
      this.nextBoundary += this.resolutionUs;
    }
  }

  /** Doubles Δ (automatic mode) when the intervals up to `t` would not fit; says whether it did. */
  private widen(t: Micros): boolean {
    const pending = Math.floor((t - this.nextBoundary) / this.resolutionUs) + 1;
    if (this.rows + pending <= AUTO_POINTS_MAX) return false;
    for (const q of this.queues) q.halve();
    this.rows >>= 1;
    this.resolutionUs *= 2;
    // The open interval now ends at the next multiple of the new Δ after the kept rows.
    this.nextBoundary = this.startUs + (this.rows + 1) * this.resolutionUs;
    return true;
  }

  private close(boundary: Micros): void {
    this.rows++;
    for (let i = 0; i < this.queues.length; i++) {
      this.readGauges(i, boundary, this.gauges);
      (this.queues[i] as QueueColumns).push(boundary, this.gauges);
    }
  }

  count(queueIndex: number, what: Count): void {
    const open = (this.queues[queueIndex] as QueueColumns).open;
    open[what] = (open[what] as number) + 1;
  }

  /**
   * The series up to `endUs` (the run's time now): the closed rows, plus the open interval when it
   * holds anything or time has entered it. Per queue index; `merge` gives the all-queues column.
   */
  columns(endUs: Micros): SeriesColumns[] {
    this.reach(endUs);
    const partial = endUs > this.nextBoundary - this.resolutionUs || this.queues.some((q) => q.open.some((v) => v !== 0));
    // The open interval is a row too: at a fixed resolution it counts toward the limit.
    if (partial && !this.auto && this.rows + 1 > this.maxPoints) throw new SeriesTooLongError(this.resolutionUs, this.maxPoints);
    let out = this.queues.map((q, i) => {
      const cols = toColumns(q, this.startUs);
      if (partial) {
        this.readGauges(i, this.nextBoundary, this.gauges);
        appendRow(cols, this.nextBoundary - this.startUs, q.open, this.gauges);
      }
      return cols;
    });
    // Automatic resolution: halve once more when that lands closer to 1,000 rows.
    let resolution = this.resolutionUs;
    if (this.auto && out.length > 0 && (out[0] as SeriesColumns).t_seconds.length >= 1_500) {
      const odd = (out[0] as SeriesColumns).t_seconds.length % 2 === 1;
      out = out.map(halveColumns);
      resolution *= 2;
      if (odd) {
        // The last row was left alone: it ends half an interval short of the new grid. It is the
        // interval the run ended in, so it ends where that interval of the new Δ does, with the
        // gauges there (as a partial row's are read at its interval's end).
        const rows = (out[0] as SeriesColumns).t_seconds.length;
        const endUs = Math.ceil(Math.round((out[0] as SeriesColumns).t_seconds[rows - 1]! * 1e6) / resolution) * resolution;
        out.forEach((cols, i) => {
          this.readGauges(i, this.startUs + endUs, this.gauges);
          setLastRow(cols, endUs, this.gauges);
        });
      }
    }
    this.lastResolutionUs = resolution;
    return out;
  }

  /** The Δ of the last `columns()` answer, µs. */
  lastResolutionUs = 0;
}

/** The rows with their times as seconds since the run's start (a wall-clock log's first event, not the epoch). */
function toColumns(q: QueueColumns, startUs: Micros): SeriesColumns {
  const n = q.length;
  const c = q.counts;
  const list = (col: Float64Array): number[] => Array.from(col.subarray(0, n));
  return {
    t_seconds: Array.from(q.t.subarray(0, n), (t) => (t - startUs) / 1e6),
    added: list(c[Count.Added] as Float64Array),
    dispatched: list(c[Count.Dispatched] as Float64Array),
    succeeded: list(c[Count.Succeeded] as Float64Array),
    failed_attempts: list(c[Count.FailedAttempts] as Float64Array),
    gave_up: list(c[Count.GaveUp] as Float64Array),
    ready: list(q.ready),
    delayed: list(q.delayed),
    backoff: list(q.backoff),
    in_flight: list(q.inFlight),
    tokens: Array.from(q.tokens.subarray(0, n), (v) => (Number.isNaN(v) ? null : v)),
  };
}

/** `t`: the interval's end, µs since the start. */
function appendRow(cols: SeriesColumns, t: Micros, open: Float64Array, g: Gauges): void {
  cols.t_seconds.push(t / 1e6);
  cols.added.push(open[Count.Added] as number);
  cols.dispatched.push(open[Count.Dispatched] as number);
  cols.succeeded.push(open[Count.Succeeded] as number);
  cols.failed_attempts.push(open[Count.FailedAttempts] as number);
  cols.gave_up.push(open[Count.GaveUp] as number);
  cols.ready.push(g.ready);
  cols.delayed.push(g.delayed);
  cols.backoff.push(g.backoff);
  cols.in_flight.push(g.inFlight);
  cols.tokens.push(g.tokens);
}

/** Sets the last row's end (µs since the start) and gauges. */
function setLastRow(cols: SeriesColumns, t: Micros, g: Gauges): void {
  const i = cols.t_seconds.length - 1;
  cols.t_seconds[i] = t / 1e6;
  cols.ready[i] = g.ready;
  cols.delayed[i] = g.delayed;
  cols.backoff[i] = g.backoff;
  cols.in_flight[i] = g.inFlight;
  cols.tokens[i] = g.tokens;
}

/** Rows merged pairwise (the last one alone when odd): counts add up, gauges keep the later. */
function halveColumns(c: SeriesColumns): SeriesColumns {
  const n = c.t_seconds.length;
  const rows = Math.ceil(n / 2);
  const pick = <T>(col: T[]): T[] => Array.from({ length: rows }, (_, i) => col[Math.min(n - 1, 2 * i + 1)] as T);
  const sum = (col: number[]): number[] => Array.from({ length: rows }, (_, i) => (col[2 * i] as number) + (2 * i + 1 < n ? (col[2 * i + 1] as number) : 0));
  return {
    t_seconds: pick(c.t_seconds),
    added: sum(c.added),
    dispatched: sum(c.dispatched),
    succeeded: sum(c.succeeded),
    failed_attempts: sum(c.failed_attempts),
    gave_up: sum(c.gave_up),
    ready: pick(c.ready),
    delayed: pick(c.delayed),
    backoff: pick(c.backoff),
    in_flight: pick(c.in_flight),
    tokens: pick(c.tokens),
  };
}

/** The all-queues column: counts and gauges summed row by row (tokens: null when no queue has any). */
export function sumColumns(all: readonly SeriesColumns[]): SeriesColumns {
  const first = all[0];
  const n = first?.t_seconds.length ?? 0;
  const sum = (pick: (c: SeriesColumns) => number[]): number[] => Array.from({ length: n }, (_, i) => all.reduce((s, c) => s + (pick(c)[i] as number), 0));
  return {
    t_seconds: first ? [...first.t_seconds] : [],
    added: sum((c) => c.added),
    dispatched: sum((c) => c.dispatched),
    succeeded: sum((c) => c.succeeded),
    failed_attempts: sum((c) => c.failed_attempts),
    gave_up: sum((c) => c.gave_up),
    ready: sum((c) => c.ready),
    delayed: sum((c) => c.delayed),
    backoff: sum((c) => c.backoff),
    in_flight: sum((c) => c.in_flight),
    tokens: Array.from({ length: n }, (_, i) => {
      let s: number | null = null;
      for (const c of all) {
        const v = c.tokens[i];
        if (v !== null && v !== undefined) s = (s ?? 0) + v;
      }
      return s;
    }),
  };
}
