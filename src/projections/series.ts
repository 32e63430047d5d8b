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
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, type SeriesColumns } from './series-types.js';

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
  /** Until when (µs, excluded) they hold if no event of the queue comes (or earlier); Infinity: ever. */
  steadyUntil: number;
}

/**
 * Reads a queue's gauges at time t: t ≥ the queue's events seen so far, and not earlier than a
 * previous read of that queue (reads of one queue come in time order).
 */
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

/** The gauges in a row's order: ready, delayed, backoff, in flight, tokens (NaN: none). */
const GAUGES = 5;

/**
 * One queue's closed rows, column by column, in typed arrays with room to spare: pushing a row
 * allocates nothing, and halving (automatic resolution) works in place. Plain arrays cost a
 * reallocation of every column each time they grew back after a halving shrank them (~10% of a
 * run's garbage). `tokens` holds NaN where the row has none (a queue without a bucket).
 *
 * Until a row differs from the first (a count, or a gauge that moved), no column is kept: the
 * rows are `quiet`, no counts and the first row's gauges. A queue that never gets a task (most of
 * a many-queue queue.yaml in a scenario about one of them) stays so for the whole run.
 */
export class QueueColumns {
  /** Rows closed. */
  length = 0;
  /** Whether the columns are kept (a row differed from the first). */
  kept = false;
  /** The gauges of every row while none is kept. */
  readonly quiet = new Float64Array(GAUGES);
  counts: Float64Array<ArrayBuffer>[] = [];
  /** ready, delayed, backoff, in flight, tokens. */
  gauges: Float64Array<ArrayBuffer>[] = [];
  /** Counts of the interval now open. */
  readonly open = new Float64Array(COUNTS);

  push(g: Gauges): void {
    if (!this.kept) {
      if (this.length === 0) this.quiet.set([g.ready, g.delayed, g.backoff, g.inFlight, g.tokens ?? NaN]);
      if (this.isQuiet(g)) {
        this.length++;
        return;
      }
      this.keep();
    }
    if (this.length === (this.counts[0] as Float64Array).length) this.grow();
    const i = this.length++;
    for (let c = 0; c < COUNTS; c++) {
      (this.counts[c] as Float64Array)[i] = this.open[c] as number;
      this.open[c] = 0;
    }
    const [ready, delayed, backoff, inFlight, tokens] = this.gauges as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    ready[i] = g.ready;
    delayed[i] = g.delayed;
    backoff[i] = g.backoff;
    inFlight[i] = g.inFlight;
    tokens[i] = g.tokens ?? NaN;
  }

  /** `rows` rows of the same gauges: the first takes the open counts, the others have none. */
  pushRepeated(g: Gauges, rows: number): void {
    if (rows <= 0) return;
    this.push(g);
    const more = rows - 1;
    // A first row left quiet makes the others quiet too: no counts, the same gauges.
    if (more === 0 || !this.kept) {
      this.length += more;
      return;
    }
    while (this.length + more > (this.counts[0] as Float64Array).length) this.grow();
    const from = this.length;
    this.length += more;
    for (const col of this.counts) col.fill(0, from, this.length);
    const values = [g.ready, g.delayed, g.backoff, g.inFlight, g.tokens ?? NaN];
    this.gauges.forEach((col, k) => col.fill(values[k] as number, from, this.length));
  }

  /** Merges rows pairwise (Δ doubles); an odd last row goes back into the open interval. */
  halve(): void {
    const n = this.length;
    const keep = n >> 1;
    this.length = keep;
    // Quiet rows merge into quiet rows: no counts to carry, the same gauges.
    if (!this.kept) return;
    if (n % 2 === 1) {
      for (let c = 0; c < COUNTS; c++) this.open[c] = (this.open[c] as number) + ((this.counts[c] as Float64Array)[n - 1] as number);
    }
    for (const col of this.counts) {
      for (let i = 0; i < keep; i++) col[i] = (col[2 * i] as number) + (col[2 * i + 1] as number);
    }
    // Gauges are those at the end of the merged pair: its second row's.
    for (const col of this.gauges) {
      for (let i = 0; i < keep; i++) col[i] = col[2 * i + 1] as number;
    }
  }

  private isQuiet(g: Gauges): boolean {
    for (let c = 0; c < COUNTS; c++) if (this.open[c] !== 0) return false;
    const q = this.quiet;
    const tokens = g.tokens ?? NaN;
    return g.ready === q[0] && g.delayed === q[1] && g.backoff === q[2] && g.inFlight === q[3] && (tokens === q[4] || (tokens !== tokens && q[4] !== q[4]));
  }

  /** Starts keeping the columns: the quiet rows so far written out. */
  private keep(): void {
    let size = 64;
    while (size <= this.length) size *= 2;
    this.counts = Array.from({ length: COUNTS }, () => new Float64Array(size));
    this.gauges = Array.from({ length: GAUGES }, (_, g) => new Float64Array(size).fill(this.quiet[g] as number, 0, this.length));
    this.kept = true;
  }

  private grow(): void {
    const bigger = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.counts = this.counts.map(bigger);
    this.gauges = this.gauges.map(bigger);
  }
}

/**
 * Closing an interval writes its end only. A queue's rows are written before an event of it
 * (`catchUp`) or a read, rows whose gauges hold written at once (Gauges.steadyUntil): the cost
 * follows the events, not queues × intervals (a large queue.yaml's idle queues; a live service's
 * first event after an idle spell). Pending rows: the open counts in the first, none after.
 */
export class SeriesRecorder {
  resolutionUs: number;
  private readonly auto: boolean;
  private nextBoundary: Micros;
  private readonly queues: QueueColumns[] = [];
  /** Each closed row's end, µs (every queue's rows end at the same times). */
  private t = new Float64Array(64);
  private readonly gauges: Gauges = { ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: null, steadyUntil: 0 };

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
      q.pushRepeated({ ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: null, steadyUntil: Infinity }, this.rows);
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
    // Times are those at the end of each merged pair: its second row's.
    const keep = this.rows >> 1;
    for (let i = 0; i < keep; i++) this.t[i] = this.t[2 * i + 1] as number;
    this.rows = keep;
    this.resolutionUs *= 2;
    // The open interval now ends at the next multiple of the new Δ after the kept rows.
    this.nextBoundary = this.startUs + (this.rows + 1) * this.resolutionUs;
    return true;
  }

  private close(boundary: Micros): void {
    if (this.rows === this.t.length) {
      const t = new Float64Array(this.t.length * 2);
      t.set(this.t);
      this.t = t;
    }
    this.t[this.rows++] = boundary;
  }

  /**
   * Writes queue `queueIndex`'s rows up to the intervals closed, its gauges read at their ends:
   * before an event of the queue is counted or changes what its gauges read.
   */
  catchUp(queueIndex: number): void {
    const q = this.queues[queueIndex];
    if (q === undefined) return;
    while (q.length < this.rows) {
      const from = q.length;
      this.readGauges(queueIndex, this.t[from] as number, this.gauges);
      // The rows after it whose end comes before the gauges may change have the same gauges.
      const until = this.gauges.steadyUntil;
      let lo = from + 1;
      let hi = lo < this.rows && (this.t[lo] as number) < until ? this.rows : lo;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.t[mid] as number) < until) lo = mid + 1;
        else hi = mid;
      }
      q.pushRepeated(this.gauges, lo - from);
    }
  }

  /** Every queue caught up (catchUp): before the rows are read, or every queue's state changes. */
  catchUpAll(): void {
    for (let i = 0; i < this.queues.length; i++) this.catchUp(i);
  }

  /** Counts an event of the queue in the interval now open (its rows before it caught up first). */
  count(queueIndex: number, what: Count): void {
    const q = this.queues[queueIndex] as QueueColumns;
    if (q.length < this.rows) this.catchUp(queueIndex);
    const open = q.open;
    open[what] = (open[what] as number) + 1;
  }

  /**
   * The series up to `endUs` (the run's time now): the closed rows, plus the open interval when it
   * holds anything or time has entered it. Per queue index (packed() has their sum too).
   */
  columns(endUs: Micros): SeriesColumns[] {
    const p = this.packed(endUs);
    return p.queues.map((data) => unpackColumns(p.t, data, p.rows));
  }

  /**
   * The series as `columns()` gives it, in typed arrays: one buffer holds each queue's fields
   * (SERIES_COUNT_FIELDS, then the gauges; tokens NaN where none), `rows` values each, and after
   * the queues their sum (`*`: sumPacked). Nothing goes through plain arrays: the
   * experiments move the buffer to the main thread as it is.
   */
  packed(endUs: Micros): PackedColumns {
    this.reach(endUs);
    this.catchUpAll();
    const partial = endUs > this.nextBoundary - this.resolutionUs || this.queues.some((q) => q.open.some((v) => v !== 0));
    // The open interval is a row too: at a fixed resolution it counts toward the limit.
    if (partial && !this.auto && this.rows + 1 > this.maxPoints) throw new SeriesTooLongError(this.resolutionUs, this.maxPoints);
    const closed = this.rows;
    // No queue: no rows (the sum of none is empty).
    const n = this.queues.length === 0 ? 0 : closed + (partial ? 1 : 0);
    // Automatic resolution: halve once more (pairs of rows merged) when that lands closer to 1,000 rows.
    const halve = this.auto && n >= 1_500;
    const rows = halve ? Math.ceil(n / 2) : n;
    const width = FIELDS * rows;
    const buffer = new Float64Array(width * (this.queues.length + 1));
    const queues = this.queues.map((_, i) => buffer.subarray(i * width, (i + 1) * width));
    // Row r of the answer ends where row src(r) of the run's does (the later of a merged pair).
    const src = (r: number): number => (halve ? Math.min(n - 1, 2 * r + 1) : r);
    const t = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const i = src(r);
      t[r] = ((i < closed ? (this.t[i] as number) : this.nextBoundary) - this.startUs) / 1e6;
    }
    this.queues.forEach((q, qi) => {
      const out = queues[qi] as Float64Array;
      if (partial) this.readGauges(qi, this.nextBoundary, this.gauges);
      const open = [this.gauges.ready, this.gauges.delayed, this.gauges.backoff, this.gauges.inFlight, this.gauges.tokens ?? NaN];
      // A quiet queue's rows (no columns kept) have no counts and its quiet gauges.
      for (let c = 0; c < COUNTS; c++) {
        const at = c * rows;
        const col = q.kept ? (q.counts[c] as Float64Array) : null;
        const openCount = q.open[c] as number;
        if (!halve) {
          if (col !== null) for (let r = 0; r < closed; r++) out[at + r] = col[r] as number;
          if (partial) out[at + closed] = openCount;
          continue;
        }
        // A quiet queue's rows count nothing (the buffer's zeros) but the last, where the open interval is.
        for (let r = col === null ? Math.max(0, rows - 1) : 0; r < rows; r++) {
          const a = 2 * r;
          const b = a + 1;
          const first = a < closed ? (col === null ? 0 : (col[a] as number)) : openCount;
          out[at + r] = first + (b < n ? (b < closed ? (col === null ? 0 : (col[b] as number)) : openCount) : 0);
        }
      }
      for (let g = 0; g < GAUGES; g++) {
        const at = (COUNTS + g) * rows;
        const col = q.kept ? (q.gauges[g] as Float64Array) : null;
        const quiet = q.quiet[g] as number;
        const openGauge = open[g] as number;
        // A quiet queue's rows have its quiet gauges but the last (when it is the open interval).
        if (col === null) out.fill(quiet, at, at + rows);
        for (let r = col === null ? Math.max(0, rows - 1) : 0; r < rows; r++) {
          const i = src(r);
          out[at + r] = i < closed ? (col === null ? quiet : (col[i] as number)) : openGauge;
        }
      }
    });
    let resolution = this.resolutionUs;
    if (halve) {
      resolution *= 2;
      if (n % 2 === 1) {
        // The last row was left alone: it ends half an interval short of the new grid. It is the
        // interval the run ended in, so it ends where that interval of the new Δ does, with the
        // gauges there (as a partial row's are read at its interval's end).
        const endOfLast = Math.ceil(Math.round(t[rows - 1]! * 1e6) / resolution) * resolution;
        t[rows - 1] = endOfLast / 1e6;
        queues.forEach((out, qi) => {
          this.readGauges(qi, this.startUs + endOfLast, this.gauges);
          const g = this.gauges;
          [g.ready, g.delayed, g.backoff, g.inFlight, g.tokens ?? NaN].forEach((v, k) => (out[(COUNTS + k) * rows + rows - 1] = v));
        });
      }
    }
    this.lastResolutionUs = resolution;
    const sum = buffer.subarray(this.queues.length * width);
    sumPacked(queues, sum, rows);
    return { resolutionUs: resolution, rows, t, buffer, queues, sum };
  }

  /** The Δ of the last `columns()` or `packed()` answer, µs. */
  lastResolutionUs = 0;
}

/** A run's series in typed arrays (SeriesRecorder.packed). */
export interface PackedColumns {
  /** Δ, µs. */
  resolutionUs: number;
  rows: number;
  /** Each row's end, seconds since the start. */
  t: Float64Array;
  /** Every queue's fields and their sum, in one buffer. */
  buffer: Float64Array<ArrayBuffer>;
  /** Per queue index: its fields, `rows` values each (counts, then gauges); NaN: no value. */
  queues: Float64Array[];
  /** The queues summed (`*`: sumPacked). */
  sum: Float64Array;
}

/** Fields of a packed queue: the counts, then the five gauges. */
const FIELDS = COUNTS + GAUGES;

/**
 * A queue's packed fields as SeriesColumns (NaN tokens as null), in SERIES_COUNT_FIELDS then
 * SERIES_GAUGE_FIELDS order. Copied by a loop: Array.from goes through a typed array's
 * iterator, ~10x slower (most of series() for 69 queues).
 */
export function unpackColumns(t: Float64Array, data: Float64Array, rows: number): SeriesColumns {
  const plain = (from: Float64Array, at: number, n: number): number[] => {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = from[at + i] as number;
    return out;
  };
  const columns: Record<string, (number | null)[]> = { t_seconds: plain(t, 0, t.length) };
  [...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS].forEach((name, f) => (columns[name] = plain(data, f * rows, rows)));
  columns.tokens = (columns.tokens as number[]).map((v) => (v === v ? v : null));
  return columns as unknown as SeriesColumns;
}

/** The all-queues column: each count and gauge summed row by row in queue order; tokens over the queues that have some (NaN when none has). */
function sumPacked(queues: readonly Float64Array[], out: Float64Array, rows: number): void {
  const tokensAt = (COUNTS + 4) * rows;
  for (let i = 0; i < tokensAt; i++) {
    let s = 0;
    for (const q of queues) s += q[i] as number;
    out[i] = s;
  }
  for (let i = tokensAt; i < tokensAt + rows; i++) {
    let s = NaN;
    for (const q of queues) {
      const v = q[i] as number;
      if (v === v) s = (s === s ? s : 0) + v;
    }
    out[i] = s;
  }
}
