/**
 * Runs' series folded into their bands on one grid, one run at a time, exactly: per queue, field
 * and interval, how many runs had each value. The median and the 5–95% band of a cell are order
 * statistics of its values, and a multiset of values gives them exactly as the sorted values do,
 * so nothing of a run is kept once it is folded. Memory is the cells times the distinct values a
 * cell has over the runs (counts and gauges are small whole numbers: a few each), not the runs:
 * keeping every run's columns held ~1.6 MB per run of a 14-queue scenario in the main thread,
 * and 10,000 seeds ran out of memory.
 *
 * A run is merged onto the grid first (`factor` of its intervals to one: counts add up, gauges
 * keep the later row), and after its end it counts as idle (no counts, its last gauges): that
 * tail is kept once per run, by where it starts, not per cell.
 */
import type { Band, BandColumns, SeriesBands } from '../simulate/report/bands-input.js';
import { COUNT_FIELDS, SERIES_FIELDS, type PackedSeries } from './packed-series.js';

/** Whole values below this (from 0) after a row's first are counted in a row of counters, not a map. */
const SMALL = 32;
const SMALL_COUNT_MAX = 0xffff;

/**
 * One field of one queue: per interval, the runs' values. The first value and its count inline;
 * the others, when small whole numbers (most counts and gauges), in `small` (SMALL counters a
 * row), else in a map: a map per cell cost more than the rest of the fold.
 */
class FieldCells {
  first = new Float64Array(0);
  firstCount = new Uint32Array(0);
  /** A run had no value here (null): the cell has none. */
  missing = new Uint8Array(0);
  /** Row i's runs of value v at i · SMALL + v, once a row has a second value. */
  small: Uint16Array | null = null;
  /** Row → value → runs, for the other values. */
  others = new Map<number, Map<number, number>>();
  /** From row `start` on, runs that ended there: start → value → runs (NaN: no value). */
  tails = new Map<number, Map<number, number>>();

  ensure(rows: number): void {
    if (rows <= this.first.length) return;
    const size = Math.max(rows, this.first.length * 2, 16);
    const first = new Float64Array(size);
    first.set(this.first);
    const firstCount = new Uint32Array(size);
    firstCount.set(this.firstCount);
    const missing = new Uint8Array(size);
    missing.set(this.missing);
    this.first = first;
    this.firstCount = firstCount;
    this.missing = missing;
    if (this.small !== null) this.small = this.grownSmall();
  }

  private grownSmall(): Uint16Array {
    const small = new Uint16Array(this.first.length * SMALL);
    if (this.small !== null) small.set(this.small);
    return small;
  }

  add(i: number, v: number): void {
    if (v !== v) {
      this.missing[i] = 1;
    } else if (this.firstCount[i] === 0) {
      this.first[i] = v;
      this.firstCount[i] = 1;
    } else if (this.first[i] === v) {
      this.firstCount[i] = (this.firstCount[i] as number) + 1;
    } else if ((v | 0) === v && v >= 0 && v < SMALL) {
      const small = this.small ?? (this.small = this.grownSmall());
      const at = i * SMALL + v;
      // A counter that is full goes on in the map (a value may be in both: counts add up).
      if (small[at] === SMALL_COUNT_MAX) {
        this.other(i, v, SMALL_COUNT_MAX);
        small[at] = 0;
      }
      small[at] = (small[at] as number) + 1;
    } else {
      this.other(i, v, 1);
    }
  }

  private other(i: number, v: number, runs: number): void {
    let values = this.others.get(i);
    if (values === undefined) this.others.set(i, (values = new Map()));
    values.set(v, (values.get(v) ?? 0) + runs);
  }

  tail(start: number, v: number, runs = 1): void {
    let values = this.tails.get(start);
    if (values === undefined) this.tails.set(start, (values = new Map()));
    values.set(v, (values.get(v) ?? 0) + runs);
  }

  clone(): FieldCells {
    const c = new FieldCells();
    c.first = this.first.slice();
    c.firstCount = this.firstCount.slice();
    c.missing = this.missing.slice();
    c.small = this.small === null ? null : this.small.slice();
    for (const [i, m] of this.others) c.others.set(i, new Map(m));
    for (const [s, m] of this.tails) c.tails.set(s, new Map(m));
    return c;
  }

  /** Values kept: one per cell with any, one per further distinct value, one per distinct tail. */
  stored(): number {
    let n = 0;
    for (let i = 0; i < this.firstCount.length; i++) if (this.firstCount[i] !== 0 || this.missing[i] !== 0) n++;
    if (this.small !== null) for (const k of this.small) if (k !== 0) n++;
    for (const m of this.others.values()) n += m.size;
    for (const m of this.tails.values()) n += m.size;
    return n;
  }

  /** The median and 5–95% band of `rows` intervals. */
  band(rows: number): Band {
    const out: Band = { median: [], p5: [], p95: [] };
    const starts = [...this.tails.keys()].sort((a, b) => a - b);
    const ended = new Map<number, number>();
    let endedValues: number[] = [];
    let endedCounts: number[] = [];
    let endedMissing = false;
    let next = 0;
    const values: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < rows; i++) {
      if (next < starts.length && (starts[next] as number) <= i) {
        while (next < starts.length && (starts[next] as number) <= i) {
          for (const [v, k] of this.tails.get(starts[next++] as number) as Map<number, number>) {
            if (v !== v) endedMissing = true;
            else ended.set(v, (ended.get(v) ?? 0) + k);
          }
        }
        endedValues = [...ended.keys()];
        endedCounts = [...ended.values()];
      }
      values.length = 0;
      counts.length = 0;
      if (i < this.first.length && this.firstCount[i] !== 0) {
        values.push(this.first[i] as number);
        counts.push(this.firstCount[i] as number);
      }
      const others = this.others.get(i);
      if (others !== undefined) for (const [v, k] of others) (values.push(v), counts.push(k));
      if (this.small !== null && i < this.first.length) {
        for (let v = 0; v < SMALL; v++) {
          const k = this.small[i * SMALL + v] as number;
          if (k !== 0) (values.push(v), counts.push(k));
        }
      }
      for (let j = 0; j < endedValues.length; j++) (values.push(endedValues[j] as number), counts.push(endedCounts[j] as number));
      const missing = endedMissing || (i < this.missing.length && this.missing[i] !== 0);
      const q = missing ? null : quantiles(values, counts);
      out.median.push(q === null ? null : q[0]);
      out.p5.push(q === null ? null : q[1]);
      out.p95.push(q === null ? null : q[2]);
    }
    return out;
  }
}

/** Median, p5, p95 of the multiset (each value `values[j]` `counts[j]` times); null when empty. */
function quantiles(values: number[], counts: number[]): [number, number, number] | null {
  let n = 0;
  for (const k of counts) n += k;
  if (n === 0) return null;
  if (values.length === 1 || values.every((v) => v === values[0])) {
    // Every run has the same value: it is every quantile (interpolating between equal values adds 0).
    const v = tidy(values[0] as number);
    return [v, v, v];
  }
  const order = values.map((_, j) => j);
  if (order.length > 1) order.sort((a, b) => (values[a] as number) - (values[b] as number));
  /** The k-th smallest value (from 0). */
  const kth = (k: number): number => {
    let seen = 0;
    for (const j of order) {
      seen += counts[j] as number;
      if (k < seen) return values[j] as number;
    }
    throw new RangeError(`value ${k} of ${n}`);
  };
  // As quantileSorted (statistics.ts) on the sorted values: interpolated between order statistics.
  const at = (q: number): number => {
    const h = q * (n - 1);
    const i = Math.floor(h);
    const lower = kth(i);
    if (i + 1 >= n) return lower;
    return lower + (h - i) * (kth(i + 1) - lower);
  };
  return [tidy(at(0.5)), tidy(at(0.05)), tidy(at(0.95))];
}

/**
 * An interpolated quantile of counts and gauges, rounded to 12 significant digits: the binary
 * noise of the interpolation (0.05 · 3 is 0.15000000000000002) is not part of the figure, and the
 * series CSV and JSON print it (1 + 0.15, not 1.1500000000000001).
 */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/** Seconds kept exact to the microsecond (the engine's unit): 0.001 · 3 is 0.003, not 0.0030000000000000001. */
function roundMicros(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

interface QueueFold {
  fields: FieldCells[];
  /** The most rows a run had on this grid. */
  rows: number;
  /** Where the queue first appeared: the run's index, the queue's place in it (the bands' order). */
  firstRun: number;
  place: number;
}

/** The value of a column that has one (NaN: none in every row), else undefined. */
function constantValue(data: Float64Array, at: number, n: number): number | undefined {
  const c = data[at] as number;
  if (c !== c) {
    for (let i = 1; i < n; i++) if (data[at + i] === data[at + i]) return undefined;
  } else {
    for (let i = 1; i < n; i++) if (data[at + i] !== c) return undefined;
  }
  return c;
}

/** Per column of `run` (queue by queue, field by field), its one value or undefined (constantValue). */
export function constantColumns(run: PackedSeries): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  run.queues.forEach((_, q) => {
    const n = run.rows[q] as number;
    for (let f = 0; f < SERIES_FIELDS.length; f++) out.push(n === 0 ? undefined : constantValue(run.data, (run.offsets[q] as number) + f * n, n));
  });
  return out;
}

/** Runs folded on one grid; see the module comment. */
export class GridFold {
  private queues = new Map<string, QueueFold>();
  private runs = 0;

  /**
   * Folds `run` (the `index`-th of the experiment: it orders the queues), `factor` of its
   * intervals to one of the grid (Infinity: all of them); `constants`: constantColumns(run), when
   * the caller folds it on several grids.
   */
  add(run: PackedSeries, index: number, factor: number, constants?: readonly (number | undefined)[]): void {
    const seen = new Set<string>();
    run.queues.forEach((name, q) => {
      seen.add(name);
      let fold = this.queues.get(name);
      if (fold === undefined) {
        fold = { fields: SERIES_FIELDS.map(() => new FieldCells()), rows: 0, firstRun: index, place: q };
        // The runs before it had no such queue: no counts, no gauges.
        if (this.runs > 0) fold.fields.forEach((cells, f) => cells.tail(0, f < COUNT_FIELDS ? 0 : NaN, this.runs));
        this.queues.set(name, fold);
      } else if (index < fold.firstRun || (index === fold.firstRun && q < fold.place)) {
        fold.firstRun = index;
        fold.place = q;
      }
      const n = run.rows[q] as number;
      const rows = n === 0 ? 0 : factor >= n ? 1 : Math.ceil(n / factor);
      fold.rows = Math.max(fold.rows, rows);
      const data = run.data;
      for (let f = 0; f < SERIES_FIELDS.length; f++) {
        const cells = fold.fields[f] as FieldCells;
        cells.ensure(rows);
        const at = (run.offsets[q] as number) + f * n;
        const isCount = f < COUNT_FIELDS;
        // A column of one value that the run keeps after its end too (a gauge; a count of 0), as
        // every column of a queue that got no task is: the run has that value in every interval.
        const constant = n === 0 ? undefined : constants !== undefined ? constants[q * SERIES_FIELDS.length + f] : constantValue(data, at, n);
        if (constant !== undefined && (!isCount || constant === 0)) {
          cells.tail(0, constant);
          continue;
        }
        // Most cells see one value in every run (an idle queue, a quiet interval): counted inline.
        const first = cells.first;
        const firstCount = cells.firstCount;
        for (let g = 0; g < rows; g++) {
          let v: number;
          if (!isCount) v = data[at + Math.min(n, (g + 1) * factor) - 1] as number;
          else if (factor === 1) v = data[at + g] as number;
          else {
            v = 0;
            const end = Math.min(n, (g + 1) * factor);
            for (let i = g === 0 ? 0 : g * factor; i < end; i++) v += data[at + i] as number;
          }
          if (first[g] === v && firstCount[g] !== 0) firstCount[g] = (firstCount[g] as number) + 1;
          else cells.add(g, v);
        }
        cells.tail(rows, isCount ? 0 : rows === 0 ? NaN : (data[at + n - 1] as number));
      }
    });
    for (const [name, fold] of this.queues) {
      if (!seen.has(name)) fold.fields.forEach((cells, f) => cells.tail(0, f < COUNT_FIELDS ? 0 : NaN));
    }
    this.runs++;
  }

  /** How many runs are folded. */
  get count(): number {
    return this.runs;
  }

  /** The values kept, over every cell (what memory grows with). */
  stored(): number {
    let n = 0;
    for (const fold of this.queues.values()) for (const cells of fold.fields) n += cells.stored();
    return n;
  }

  clone(): GridFold {
    const c = new GridFold();
    c.runs = this.runs;
    for (const [name, fold] of this.queues) c.queues.set(name, { ...fold, fields: fold.fields.map((cells) => cells.clone()) });
    return c;
  }

  /** The bands, the grid's intervals `resolutionSeconds` long. */
  bands(resolutionSeconds: number): SeriesBands {
    if (this.runs === 0) throw new RangeError('series bands of no runs');
    const names = [...this.queues.entries()].sort(([, a], [, b]) => a.firstRun - b.firstRun || a.place - b.place).map(([name]) => name);
    const queues: Record<string, BandColumns> = {};
    for (const name of names) {
      const fold = this.queues.get(name) as QueueFold;
      const fields = {} as BandColumns['fields'];
      SERIES_FIELDS.forEach((field, f) => (fields[field] = (fold.fields[f] as FieldCells).band(fold.rows)));
      queues[name] = { t_seconds: Array.from({ length: fold.rows }, (_, i) => roundMicros((i + 1) * resolutionSeconds)), fields };
    }
    return { resolution_seconds: resolutionSeconds, runs: this.runs, queues };
  }
}
