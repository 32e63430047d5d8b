/**
 * The report of many runs (`pushq simulate --seeds N --report`, `pushq compare --report`): one
 * self-contained HTML file, as the one-run report (render.ts) is: uPlot, the styles and the data
 * inlined, a Content-Security-Policy that allows no request.
 *
 * It shows, per queue: each figure's mean with its 95% interval, min and max for each variant
 * (and, for compare, the verdict on each difference from the first); and charts of the series,
 * each variant's median as a line over its 5–95% band, the variants overlaid in their own colours.
 */
import { ALL_QUEUES } from '../../projections/series-types.js';
import { BANDS_SCRIPT } from './bands-script.js';
import type { BandsReportInput, FigureSummary } from './bands-input.js';
import { chartLibrary } from './chart-library.js';
import { devServerLine } from './dev-server-line.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { formatNumber } from './figures-table.js';

export type { BandsReportInput } from './bands-input.js';

/** Variant colours, in order (the first is the baseline). */
const VARIANT_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#d97706', '#0891b2'];

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; }
body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 16px 0 6px; }
.run, .explain { color: #4b5563; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 6px; border-bottom: 1px solid #e5e7eb; white-space: nowrap; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f4f6; }
td.verdict { text-align: left; white-space: normal; color: #374151; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px 24px; }
figure.chart { margin: 0; min-width: 0; } figcaption { font-size: 13px; font-weight: 600; margin: 0 0 4px; }
.note { color: #6b7280; font-size: 13px; border: 1px dashed #d1d5db; padding: 12px; margin: 0; }
pre { background: #f9fafb; border: 1px solid #e5e7eb; padding: 12px; overflow-x: auto; font-size: 12px; }
`;

/** The figures the tables show (every one is in --json). */
const SHOWN = [
  'succeeded', 'failed', 'attempts', 'retries', 'dispatch_rate_mean_per_second', 'in_flight_max',
  'last_dispatch_at_seconds', 'drained_at_seconds', 'backlog_max',
  'wait_seconds.p50', 'wait_seconds.p99', 'latency_seconds.p99', 'completion_seconds.p99',
];

/** A variant's two columns: the mean with its interval, and min–max. */
function cell(s: FigureSummary | undefined): string {
  // A variant without the queue (compare of files with different queues) still fills both of its
  // columns: one cell would shift every later file's figures under the wrong heading.
  if (s === undefined) return '<td>—</td><td>—</td>';
  const ci = s.ci95_low === null || s.ci95_high === null ? '' : ` <span class="explain">(${formatNumber(s.ci95_low)}–${formatNumber(s.ci95_high)})</span>`;
  return `<td>${formatNumber(s.mean)}${ci}</td><td>${formatNumber(s.min)}–${formatNumber(s.max)}</td>`;
}

function queueTable(input: BandsReportInput, queue: string): string {
  const head = input.variants.map((v, i) => `<th colspan="2"><span class="swatch" style="background:${VARIANT_COLORS[i % VARIANT_COLORS.length]}"></span>${escapeHtml(v.label)}: mean (95% CI), min–max</th>`).join('');
  const verdicts = input.verdicts?.[queue];
  const rows = SHOWN.map((figure) => {
    const cells = input.variants.map((v) => cell(v.queues[queue]?.[figure])).join('');
    const verdict = verdicts === undefined ? '' : `<td class="verdict">${(verdicts[figure] ?? []).map(escapeHtml).join('<br>')}</td>`;
    return `<tr data-field="${figure}"><td>${figure}</td>${cells}${verdict}</tr>`;
  });
  return `<h3>queue ${escapeHtml(queue)}</h3>\n<table data-queue="${escapeHtml(queue)}"><thead><tr><th>figure</th>${head}${verdicts === undefined ? '' : '<th>difference from the first</th>'}</tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`;
}

/** The report as one HTML document. */
export function renderBandsReport(input: BandsReportInput): string {
  const first = input.variants[0];
  if (first === undefined) throw new RangeError('a report of no variants');
  const queues = [...new Set(input.variants.flatMap((v) => Object.keys(v.queues)))];
  const data = {
    resolution_seconds: first.bands.resolution_seconds,
    order: [ALL_QUEUES, ...queues],
    colors: VARIANT_COLORS,
    variants: input.variants.map((v) => ({ label: v.label, bands: v.bands.queues })),
  };
  const library = chartLibrary();
  const labels = input.variants.map((v) => escapeHtml(v.label)).join(' vs ');
  const seeds = input.seeds.length === 1 ? `seed ${input.seeds[0]}` : `${input.seeds.length} seeds (${input.seeds[0]} to ${input.seeds[input.seeds.length - 1]})`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.command)}: ${labels}</title>
<style>${library.css}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(input.command)}: <span id="variants">${labels}</span></h1>
<p class="run">${seeds}${input.variants.length > 1 ? ', the same for each' : ''} · series: median and 5–95% band over the runs, one point every ${formatNumber(first.bands.resolution_seconds)} s</p>
${devServerLine(input.devServer)}</header>
<main>
<section>
<h2>Figures per queue</h2>
<p class="explain">Mean over the seeds with its 95% confidence interval (Student t), min and max.${input.verdicts === undefined ? '' : ' Differences are paired seed by seed against the first file; an interval that holds 0 is no clear difference.'}</p>
${queues.map((q) => queueTable(input, q)).join('\n')}
</section>
<section>
<h2>Charts</h2>
<div class="picker"><label for="queue">queue</label> <select id="queue"></select>
<span class="explain">each line is the median over the runs, the shade its 5–95% band; drag to zoom, double-click to reset</span></div>
<div id="charts"></div>
</section>
<section>
<h2>Scenario${input.variants.length > 1 ? 's' : ''}</h2>
${input.variants.map((v) => `<p class="run">${escapeHtml(v.label)}</p>\n<pre>
${escapeHtml(v.text)}</pre>`).join('\n')}
</section>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${library.script}</script>
<script>${BANDS_SCRIPT}</script>
</body>
</html>
`;
}
