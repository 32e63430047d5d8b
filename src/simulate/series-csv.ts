/**
 * `pushq simulate --series FILE.csv`: one row per interval per queue, then `*` (all queues) for
 * that interval, in the column order SERIES_CSV_HEADER gives. An empty `tokens` cell: the queue
 * has no bucket (pull, rate 0). The CSV of many seeds (cli/simulate-seeds.ts) has its rows in the
 * same order (csvRowOrder) and its names written alike (csvName), so one reader takes both.
 */
import { ALL_QUEUES, SERIES_COUNT_FIELDS, SERIES_CSV_HEADER, SERIES_GAUGE_FIELDS, type SeriesData } from '../projections/series-types.js';

export function seriesCsv(series: SeriesData): string {
  const names = csvRowOrder(Object.keys(series.queues));
  const rows = series.queues[names[0] ?? ALL_QUEUES]?.t_seconds.length ?? 0;
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

/** The rows of one interval: each queue in the order given, then `*` (all queues) if present. */
export function csvRowOrder(names: readonly string[]): string[] {
  const queues = names.filter((n) => n !== ALL_QUEUES);
  return names.includes(ALL_QUEUES) ? [...queues, ALL_QUEUES] : queues;
}

/** Queue names are [A-Za-z0-9-] (App Engine's rule), so they never need quoting; `*` neither. */
export function csvName(name: string): string {
  return /^[A-Za-z0-9*-]+$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
