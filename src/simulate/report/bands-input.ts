/**
 * What the report of many runs reads (`pushq simulate --seeds N --report`, `pushq compare
 * --report`): per variant (one for --seeds, one per scenario file for compare), each figure's
 * summary over the seeds and the series' median with its 5–95% band. The experiments
 * (src/experiments) produce these shapes; they are defined here, where the report reads them.
 */
import type { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS } from '../../projections/series-types.js';

/** A figure over the runs: mean and its 95% interval (Student t), min and max. */
export interface FigureSummary {
  mean: number | null;
  /** null with one run (no spread to estimate) or when a run has no value. */
  ci95_low: number | null;
  ci95_high: number | null;
  min: number | null;
  max: number | null;
}

export type SeriesField = (typeof SERIES_COUNT_FIELDS)[number] | (typeof SERIES_GAUGE_FIELDS)[number];

/** One series field over the runs, per interval: null where a run has no value (tokens without a bucket). */
export interface Band {
  median: (number | null)[];
  p5: (number | null)[];
  p95: (number | null)[];
}

export interface BandColumns {
  /** End of each interval, seconds (as in SeriesColumns). */
  t_seconds: number[];
  fields: Record<SeriesField, Band>;
}

export interface SeriesBands {
  resolution_seconds: number;
  /** How many runs the bands are over. */
  runs: number;
  /** Per queue name, and `*` for all queues. */
  queues: Record<string, BandColumns>;
}

interface BandsVariant {
  /** The scenario file as given. */
  label: string;
  /** Its text, shown as written. */
  text: string;
  /** Queue → figure (dotted `--json` path) → summary. */
  queues: Record<string, Record<string, FigureSummary>>;
  bands: SeriesBands;
}

export interface BandsReportInput {
  /** `pushq simulate --seeds` or `pushq compare`. */
  command: string;
  seeds: number[];
  /** One (seeds) or several (compare; the first is the baseline). */
  variants: BandsVariant[];
  /** compare: queue → figure → the verdict on each variant's difference from the first. */
  verdicts?: Record<string, Record<string, string[]>>;
  /**
   * The runs followed dev_appserver's rules (`--dev-server`, or the scenario's `dev_server: true`):
   * said in the header, as the flag is not in the scenario text shown.
   */
  devServer?: boolean;
}
