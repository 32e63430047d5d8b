/**
 * The series of many runs as one: per queue, per field and per interval, the median over the
 * runs and the 5–95% band (quantiles interpolated between order statistics).
 *
 * Runs are put on one time grid first. An automatic resolution is 1 ms · 2^k (series.ts), so runs
 * of different lengths have resolutions that divide each other: each run's rows are merged into
 * the coarsest one's (counts add up, gauges keep the later row, as series.ts merges them). A run
 * that ended before another goes on with its final state: no counts, the same gauges.
 */
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, type SeriesColumns, type SeriesData } from '../projections/series-types.js';
import type { Band, BandColumns, SeriesBands, SeriesField } from '../simulate/report/bands-input.js';
import { quantileSorted } from './statistics.js';

export type { Band, BandColumns, SeriesBands, SeriesField } from '../simulate/report/bands-input.js';
export const SERIES_FIELDS: readonly SeriesField[] = [...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS];

/**
 * The bands of `series` (one per run, at least one), on intervals of `resolutionSeconds` (a
 * multiple of every run's; default the coarsest run's): several sets of bands drawn together
 * (compare's variants) share one grid.
 */
export function seriesBands(series: readonly SeriesData[], resolutionSeconds?: number): SeriesBands {
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
export function coarsest(series: readonly SeriesData[]): number {
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
