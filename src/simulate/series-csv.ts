/**
 * `pushq simulate --series FILE.csv`: one row per interval per queue, then `*` (all queues) for
 * that interval, in the column order SERIES_CSV_HEADER gives. An empty `tokens` cell: the queue
 * has no bucket (pull, rate 0).
 */
import { SERIES_COUNT_FIELDS, SERIES_CSV_HEADER, SERIES_GAUGE_FIELDS, type SeriesData } from '../projections/series-types.js';

export function seriesCsv(series: SeriesData): string {
  const names = Object.keys(series.queues).filter((n) => n !== '*');
  if (series.queues['*'] !== undefined) names.push('*');
  const rows = series.queues[names[0] ?? '*']?.t_seconds.length ?? 0;
  const lines = [SERIES_CSV_HEADER];
  for (let i = 0; i < rows; i++) {
    for (const name of names) {
      const c = series.queues[name]!;
      const cells: string[] = [String(c.t_seconds[i]), csvName(name)];
      for (const f of SERIES_COUNT_FIELDS) cells.push(String(c[f][i]));
      for (const f of SERIES_GAUGE_FIELDS) {
        const v = c[f][i];
        cells.push(v === null || v === undefined ? '' : String(v));
      }
      lines.push(cells.join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Queue names are [A-Za-z0-9-] (App Engine's rule), so they never need quoting; `*` neither. */
function csvName(name: string): string {
  return /^[A-Za-z0-9*-]+$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
