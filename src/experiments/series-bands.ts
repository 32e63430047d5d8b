/**
 * The series of many runs as one: per queue, per field and per interval, the median over the
 * runs and the 5–95% band (quantiles interpolated between order statistics).
 *
 * Runs are put on one time grid first. An automatic resolution is 1 ms · 2^k (series.ts), so runs
 * of different lengths have resolutions that divide each other: each run's rows are merged into
 * the coarsest one's (counts add up, gauges keep the later row, as series.ts merges them). A run
 * that ended before another goes on with its final state: no counts, the same gauges.
 */
import type { SeriesData } from '../projections/series-types.js';
import type { SeriesBands } from '../simulate/report/bands-input.js';
import { packSeries, type PackedSeries } from './packed-series.js';
import { constantColumns, GridFold } from './series-fold.js';

export type { Band, BandColumns, SeriesBands, SeriesField } from '../simulate/report/bands-input.js';
export { SERIES_FIELDS } from './packed-series.js';

/**
 * The bands of `series` (one per run, at least one), on intervals of `resolutionSeconds` (a
 * multiple of every run's; default the coarsest run's): several sets of bands drawn together
 * (compare's variants) share one grid.
 */
export function seriesBands(series: readonly SeriesData[], resolutionSeconds?: number): SeriesBands {
  if (series.length === 0) throw new RangeError('series bands of no runs');
  const resolution = resolutionSeconds ?? Math.max(...series.map((s) => s.resolution_seconds));
  const fold = new GridFold();
  series.forEach((s, i) => fold.add(packSeries(s), i, gridFactor(s.resolution_seconds, resolution)));
  return fold.bands(resolution);
}

/** How many of a run's intervals of `own` seconds make one of `resolution` (1 when not more). */
function gridFactor(own: number, resolution: number): number {
  const factor = Math.round(resolution / own);
  if (factor <= 1) return 1;
  if (Math.abs(factor * own - resolution) > 1e-9 * resolution) throw new Error(`series resolutions ${own}s and ${resolution}s do not divide`);
  return factor;
}

/**
 * The bands of runs folded as they come, in any order, for a grid known only at the end: the
 * coarsest run's, or for compare the coarsest of every variant's runs. A run's resolution is its
 * Δ, doubled as often as its length needed (series.ts), so the grid is its Δ · 2^k for some k. The
 * builder keeps a fold per grid from the coarsest Δ seen so far up to where every run is one
 * interval (each half the size of the one before: about twice the cells of one grid in all), and
 * one fold of every run as a single interval, which every coarser grid starts from.
 */
export class SeriesBandsBuilder {
  /** µs → the grid's Δ in seconds and its fold, from the coarsest run's Δ up. */
  private readonly levels = new Map<number, { seconds: number; fold: GridFold }>();
  /** Every run as one interval (or none): what any grid coarser than every run's length holds. */
  private readonly singles = new GridFold();
  private coarsestUs = 0;
  private coarsestSeconds = 0;
  /** The runs' own Δ, µs. */
  private readonly own = new Set<number>();

  /** Folds the run of index `index` (its place among the runs orders the queues, as in seriesBands). */
  add(run: PackedSeries, index: number): void {
    const ownUs = Math.round(run.resolution_seconds * 1e6);
    this.own.add(ownUs);
    if (ownUs > this.coarsestUs) {
      for (const us of this.levels.keys()) if (us < ownUs) this.levels.delete(us);
      this.coarsestUs = ownUs;
      this.coarsestSeconds = run.resolution_seconds;
    }
    const n = Math.max(0, ...run.rows);
    let us = ownUs;
    let seconds = run.resolution_seconds;
    let factor = 1;
    while (us < this.coarsestUs) [us, seconds, factor] = [us * 2, seconds * 2, factor * 2];
    if (us !== this.coarsestUs) throw new Error(`series resolutions ${run.resolution_seconds}s and ${this.coarsestSeconds}s do not divide`);
    // The grids up to where this run is one interval; a grid new here held every run before as one.
    for (;;) {
      if (!this.levels.has(us)) this.levels.set(us, { seconds, fold: this.singles.clone() });
      if (factor >= n) break;
      [us, seconds, factor] = [us * 2, seconds * 2, factor * 2];
    }
    const constants = constantColumns(run);
    for (const [levelUs, level] of this.levels) {
      if (levelUs % ownUs !== 0) throw new Error(`series resolutions ${run.resolution_seconds}s and ${level.seconds}s do not divide`);
      level.fold.add(run, index, levelUs / ownUs, constants);
    }
    this.singles.add(run, index, Infinity, constants);
  }

  /** The coarsest Δ of the runs folded, seconds (0 before any). */
  coarsest(): number {
    return this.coarsestSeconds;
  }

  /** Values kept over every grid's cells (what memory grows with: not the runs). */
  stored(): number {
    let n = this.singles.stored();
    for (const level of this.levels.values()) n += level.fold.stored();
    return n;
  }

  /** The bands on intervals of `resolutionSeconds` (default the coarsest run's), as seriesBands gives them. */
  bands(resolutionSeconds: number = this.coarsestSeconds): SeriesBands {
    if (this.singles.count === 0) throw new RangeError('series bands of no runs');
    const us = Math.round(resolutionSeconds * 1e6);
    const level = this.levels.get(us);
    if (level !== undefined) return level.fold.bands(resolutionSeconds);
    const divides = [...this.own].every((own) => us % own === 0);
    if (divides && [...this.levels.keys()].every((kept) => us > kept)) return this.singles.bands(resolutionSeconds);
    throw new Error(`series resolutions ${[...this.own].map((own) => `${own / 1e6}s`).join(', ')} and ${resolutionSeconds}s do not divide`);
  }
}
