/**
 * A run's series as it crosses from a worker thread to the experiment: every column of every
 * queue in one Float64Array (queue after queue, each field after the other in SERIES_FIELDS
 * order), null as NaN. It is transferred, not copied: the structured clone of a SeriesData (plain
 * arrays, ~165,000 numbers for 14 queues) cost about as much as the run's own series, and the
 * experiment keeps none of it (series-fold.ts folds it into the bands and drops it).
 */
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, type PackedSeries, type SeriesData } from '../projections/series-types.js';
import type { SeriesField } from '../simulate/report/bands-input.js';

export type { PackedSeries } from '../projections/series-types.js';

export const SERIES_FIELDS: readonly SeriesField[] = [...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS];
/** Fields before this index are counts (they add up when intervals merge); the rest are gauges. */
export const COUNT_FIELDS = SERIES_COUNT_FIELDS.length;

/** `series` packed (its columns copied; a value missing or null is NaN). */
export function packSeries(series: SeriesData): PackedSeries {
  const queues = Object.keys(series.queues);
  const rows = queues.map((q) => series.queues[q]?.t_seconds.length ?? 0);
  const offsets: number[] = [];
  let size = 0;
  for (const n of rows) {
    offsets.push(size);
    size += n * SERIES_FIELDS.length;
  }
  const data = new Float64Array(size);
  queues.forEach((q, qi) => {
    const columns = series.queues[q];
    const n = rows[qi] as number;
    SERIES_FIELDS.forEach((field, f) => {
      const col = columns?.[field] as readonly (number | null)[] | undefined;
      const at = (offsets[qi] as number) + f * n;
      for (let i = 0; i < n; i++) data[at + i] = col?.[i] ?? NaN;
    });
  });
  return { resolution_seconds: series.resolution_seconds, queues, rows, offsets, data };
}
