/**
 * The series' bands folded run by run (series-fold.ts, SeriesBandsBuilder) are exactly those of
 * every run's whole series sorted cell by cell, as the experiments computed them before: the
 * reference below is that code (src/experiments/series-bands.ts at 59be6a0), kept as the oracle.
 * And what the fold keeps grows with the distinct values of a cell, not with the runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packSeries } from '../../src/experiments/packed-series.js';
import { SeriesBandsBuilder, seriesBands } from '../../src/experiments/series-bands.js';
import { quantileSorted } from '../../src/experiments/statistics.js';
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, type SeriesColumns, type SeriesData } from '../../src/projections/series-types.js';
import type { Band, BandColumns, SeriesBands, SeriesField } from '../../src/simulate/report/bands-input.js';

// ---- The reference: every run's whole series, each cell's values sorted (59be6a0). ----
const SERIES_FIELDS: readonly SeriesField[] = [...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS];
function referenceBands(series: readonly SeriesData[], resolutionSeconds?: number): SeriesBands {
  if (series.length === 0) throw new RangeError('series bands of no runs');
  const resolution = resolutionSeconds ?? coarsest(series);
  const names = [...new Set(series.flatMap((s) => Object.keys(s.queues)))];
  const queues: Record<string, BandColumns> = {};
  for (const name of names) {
    const columns = series.map((s) => (s.queues[name] === undefined ? null : onGrid(s.queues[name] as SeriesColumns, s.resolution_seconds, resolution)));
    const rows = Math.max(...columns.map((c) => c?.t_seconds.length ?? 0));
    const fields = {} as Record<SeriesField, Band>;
    for (const field of SERIES_FIELDS) fields[field] = band(columns, field, rows);
    queues[name] = { t_seconds: Array.from({ length: rows }, (_, i) => roundMicros((i + 1) * resolution)), fields };
  }
  return { resolution_seconds: resolution, runs: series.length, queues };
}

/** The coarsest resolution of the runs, seconds. */
function coarsest(series: readonly SeriesData[]): number {
  return Math.max(...series.map((s) => s.resolution_seconds));
}

/** A run's columns merged onto intervals of `resolution` seconds (a multiple of its own). */
function onGrid(c: SeriesColumns, own: number, resolution: number): SeriesColumns {
  const factor = Math.round(resolution / own);
  if (factor <= 1) return c;
  if (Math.abs(factor * own - resolution) > 1e-9 * resolution) throw new Error(`series resolutions ${own}s and ${resolution}s do not divide`);
  const n = c.t_seconds.length;
  const rows = Math.ceil(n / factor);
  const last = (col: readonly (number | null)[], g: number) => col[Math.min(n, (g + 1) * factor) - 1] as number | null;
  const sum = (col: readonly number[], g: number) => {
    let s = 0;
    for (let i = g * factor; i < Math.min(n, (g + 1) * factor); i++) s += col[i] as number;
    return s;
  };
  const out = { t_seconds: Array.from({ length: rows }, (_, g) => roundMicros((g + 1) * resolution)) } as SeriesColumns;
  for (const f of SERIES_COUNT_FIELDS) out[f] = Array.from({ length: rows }, (_, g) => sum(c[f], g));
  for (const f of SERIES_GAUGE_FIELDS) (out[f] as (number | null)[]) = Array.from({ length: rows }, (_, g) => last(c[f], g));
  return out;
}

function band(columns: readonly (SeriesColumns | null)[], field: SeriesField, rows: number): Band {
  const out: Band = { median: [], p5: [], p95: [] };
  const isCount = (SERIES_COUNT_FIELDS as readonly string[]).includes(field);
  const values = new Float64Array(columns.length);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    let missing = false;
    for (const c of columns) {
      const col = c === null ? null : (c[field] as readonly (number | null)[]);
      const length = col?.length ?? 0;
      // Past a run's end: nothing more happens (counts 0), the state stays as it ended.
      const v = col === null || length === 0 ? (isCount ? 0 : null) : i < length ? col[i] : isCount ? 0 : col[length - 1];
      if (v === null || v === undefined) missing = true;
      else values[n++] = v;
    }
    if (missing || n === 0) {
      out.median.push(null);
      out.p5.push(null);
      out.p95.push(null);
      continue;
    }
    const sorted = values.subarray(0, n).sort();
    out.median.push(tidy(quantileSorted(sorted, 0.5)));
    out.p5.push(tidy(quantileSorted(sorted, 0.05)));
    out.p95.push(tidy(quantileSorted(sorted, 0.95)));
  }
  return out;
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

// ---- Runs as the recorder makes them: Δ 1 ms · 2^k, every queue the same rows. ----
interface RunShape {
  k: number;
  rows: number;
  queues: string[];
  values: number[];
  tokens: 'none' | 'some' | 'all';
}

function makeRun(shape: RunShape): SeriesData {
  const resolution = (1000 * 2 ** shape.k) / 1e6;
  let next = 0;
  const draw = (): number => shape.values[next++ % shape.values.length] as number;
  const queues: Record<string, SeriesColumns> = {};
  for (const name of shape.queues) {
    const col = () => Array.from({ length: shape.rows }, draw);
    queues[name] = {
      t_seconds: Array.from({ length: shape.rows }, (_, i) => ((i + 1) * resolution * 1e6) / 1e6),
      added: col(),
      dispatched: col(),
      succeeded: col().map((v) => (v > 2 ? 0 : v)),
      failed_attempts: col().map(() => 0),
      gave_up: col(),
      ready: col(),
      delayed: col().map(() => 2),
      backoff: col(),
      in_flight: col(),
      tokens: col().map((v, i) => (shape.tokens === 'all' || (shape.tokens === 'some' && (v + i) % 7 === 0) ? null : v)),
    };
  }
  return { resolution_seconds: resolution, queues };
}

const runShape = fc.record({
  k: fc.integer({ min: 0, max: 3 }),
  rows: fc.integer({ min: 0, max: 24 }),
  queues: fc.subarray(['q', 'idle', 'r', '*'], { minLength: 1 }),
  values: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 9 }),
  tokens: fc.constantFrom('none', 'some', 'all'),
}) as fc.Arbitrary<RunShape>;

/** The runs folded one by one in `order` (each with its own index), as the pool hands them over. */
function folded(series: SeriesData[], order: number[]): SeriesBandsBuilder {
  const builder = new SeriesBandsBuilder();
  for (const i of order) builder.add(packSeries(series[i] as SeriesData), i);
  return builder;
}

describe('series bands folded run by run', () => {
  it('equal the bands of every run kept, whatever order the runs end in, on their coarsest grid and on a coarser one', () => {
    fc.assert(
      fc.property(fc.array(runShape, { minLength: 1, maxLength: 12 }).chain((shapes) => fc.tuple(fc.constant(shapes), fc.shuffledSubarray(shapes.map((_, i) => i), { minLength: shapes.length }), fc.integer({ min: 0, max: 6 }))), ([shapes, order, up]) => {
        const series = shapes.map(makeRun);
        const builder = folded(series, order);
        expect(builder.bands()).toEqual(referenceBands(series));
        expect(seriesBands(series)).toEqual(referenceBands(series));
        // compare's grid: the coarsest of every variant's runs, coarser than these.
        const grid = builder.coarsest() * 2 ** up;
        expect(builder.bands(grid)).toEqual(referenceBands(series, grid));
      }),
      { numRuns: 300 },
    );
  });

  it('keep a number of values that does not grow with the runs (each cell: its distinct values)', () => {
    const shape = (i: number): RunShape => ({ k: i % 3 === 0 ? 1 : 0, rows: 60 + (i % 40), queues: ['q', 'idle', '*'], values: [(i * 7) % 5, (i * 3) % 4, 0, 1, (i * 11) % 5], tokens: 'none' });
    const idle = (s: SeriesData): SeriesData => {
      const q = s.queues.idle as SeriesColumns;
      for (const f of SERIES_FIELDS) (q[f] as number[]).fill(f === 'tokens' ? 5 : 0);
      return s;
    };
    const stored = (runs: number) => {
      const builder = new SeriesBandsBuilder();
      for (let i = 0; i < runs; i++) builder.add(packSeries(idle(makeRun(shape(i)))), i);
      return builder.stored();
    };
    const few = stored(100);
    const many = stored(2000);
    // Every run's series whole: 2,000 runs × 3 queues × 10 fields × 60–99 rows ≈ 4.7 million values.
    expect(many).toBeLessThan(few * 1.05);
    expect(many).toBeLessThan(30_000);
    // A queue that got no task costs one value per field on each grid kept (2 ms to 256 ms, where
    // 99 rows are one interval, and the grid of every run as one), however many runs and rows.
    const oneIdle = new SeriesBandsBuilder();
    for (let i = 0; i < 50; i++) oneIdle.add(packSeries(idle(makeRun({ ...shape(i), queues: ['idle'] }))), i);
    expect(oneIdle.stored()).toBe(10 * 9);
  });

  it('counts past 65,535 runs of one value in one interval (a full counter goes on in a map)', () => {
    const one = (v: number): SeriesData => ({ resolution_seconds: 1, queues: { q: { t_seconds: [1], added: [v], dispatched: [0], succeeded: [0], failed_attempts: [0], gave_up: [0], ready: [v], delayed: [0], backoff: [0], in_flight: [0], tokens: [null] } } });
    // The threes come first (a row's first value is counted inline); the fives fill a counter.
    const runs = [...Array.from({ length: 70_000 }, () => one(3)), ...Array.from({ length: 80_000 }, () => one(5)), one(0)].map(packSeries);
    const builder = new SeriesBandsBuilder();
    runs.forEach((run, i) => builder.add(run, i));
    // 150,001 values: one 0, 70,000 threes, 80,000 fives; the median is the 75,001st: a five.
    const band = builder.bands().queues.q!.fields.added;
    expect([band.median[0], band.p5[0], band.p95[0]]).toEqual([5, 3, 5]);
  });
});
