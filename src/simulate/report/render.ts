/**
 * `pushq simulate --report FILE.html`: one self-contained HTML file with the scenario, the
 * figures of each queue, which limit binds it, and charts of the run's series.
 *
 * Self-contained means no request at all when opened: uPlot, the styles and the data are inlined;
 * no font, image or script is fetched (a Content-Security-Policy in the page says so, and
 * test/simulate/report-browser.test.ts checks it in Chromium).
 *
 * Text from the scenario (its file name, its YAML, queue names) goes into the page escaped
 * (escape.ts); the data goes in as JSON in a `<script type="application/json">` block.
 */
import { ALL_QUEUES, holdCausesShown } from '../../projections/series-types.js';
import { chartLibrary } from './chart-library.js';
import { CLIENT_SCRIPT } from './client-script.js';
import { devServerLine } from './dev-server-line.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { boundTable, figuresTable, formatNumber } from './figures-table.js';
import type { ReportInput } from './input.js';

export type { ReportInput, ReportQueueFigures } from './input.js';


/**
 * The page allows nothing from outside: no connection, and scripts and styles only inline.
 * Without it a stray URL (in a future edit, or in the library) could still reach the network.
 */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; }
body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.run { color: #4b5563; margin: 0 0 8px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 6px; border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
thead th { background: #f3f4f6; font-weight: 600; text-align: center; white-space: normal; vertical-align: bottom; }
tbody td { text-align: right; }
tbody th { text-align: left; font-weight: 600; }
tbody tr[data-queue] { cursor: pointer; }
tbody tr[data-queue]:hover { background: #f9fafb; }
tbody tr.selected { background: #eff6ff; }
.picker { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px 24px; }
figure.chart { margin: 0; min-width: 0; }
figcaption { font-size: 13px; font-weight: 600; margin: 0 0 4px; }
.note { color: #6b7280; font-size: 13px; border: 1px dashed #d1d5db; padding: 12px; margin: 0; }
.uplot .u-legend { font-size: 12px; }
pre { background: #f9fafb; border: 1px solid #e5e7eb; padding: 12px; overflow-x: auto; font-size: 12px; }
.explain { color: #4b5563; font-size: 13px; max-width: 900px; }
`;

/** The report as one HTML document. */
export function renderReport(input: ReportInput): string {
  const { scenario, seed, stats, series } = input;
  // A queue that received no task has no figures and flat series: it is left out of the charts
  // too (as from the tables and --json).
  const names = Object.keys(series.queues).filter((n) => n !== ALL_QUEUES && stats.queues[n] !== undefined);
  const data = {
    resolution_seconds: series.resolution_seconds,
    all: ALL_QUEUES,
    order: series.queues[ALL_QUEUES] === undefined ? names : [ALL_QUEUES, ...names],
    // The causes the run's mode can hold a task by (in dev-server mode not tokens, a pause or the
    // transport: their bars would always be empty), and any other that held seconds.
    causes: holdCausesShown(input.devServer === true, Object.values(stats.queues).map((q) => q.wait_by_cause_task_seconds)),
    dev_server: input.devServer === true,
    series: Object.fromEntries([ALL_QUEUES, ...names].flatMap((n) => (series.queues[n] === undefined ? [] : [[n, series.queues[n]]]))),
    figures: Object.fromEntries(
      Object.entries(stats.queues).map(([name, q]) => [
        name,
        { bound: q.bound, wait_by_cause_task_seconds: q.wait_by_cause_task_seconds, wait_seconds: q.wait_seconds, latency_seconds: q.latency_seconds },
      ]),
    ),
  };
  const library = chartLibrary();
  const file = escapeHtml(scenario.file);
  const wall = stats.wall_seconds === undefined ? '' : ` in ${formatNumber(stats.wall_seconds)} wall seconds`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushq simulate: ${file}</title>
<style>${library.css}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>pushq simulate: <span id="scenario-file">${file}</span></h1>
<p class="run">seed <span id="seed">${seed}</span> · ${formatNumber(stats.virtual_seconds)} virtual seconds${wall} · ${stats.events} event${stats.events === 1 ? '' : 's'} · one point every ${formatNumber(series.resolution_seconds)} s</p>
${devServerLine(input.devServer)}</header>
<main>
<section>
<h2>Figures per queue</h2>
<div class="table-wrap">
${figuresTable(stats.queues)}
</div>
${refusedAdds(stats.adds_refused)}
<h2>Which limit binds</h2>
<p class="explain">The bound is the configuration's first-order throughput, min(rate, max_concurrent_requests / mean latency), and the
drain time it implies for the tasks added, beside what the run did. "Mostly for" is the limit that held the queue's ready
tasks longest (ready-task-seconds; the chart "Wait by cause" has every cause).</p>
<div class="table-wrap">
${boundTable(stats.queues)}
</div>
</section>
<section>
<h2>Charts</h2>
<div class="picker"><label for="queue">queue</label> <select id="queue"></select>
<span class="explain">pick a queue, or click its row in a table; drag across a chart to zoom, double-click to reset</span></div>
<div id="charts"></div>
</section>
<section>
<h2>Scenario</h2>
<!-- The line end after <pre> is the markup's: HTML drops the first one there, so a text that starts with a blank line keeps it. -->
<p class="run">${file}, run with seed ${seed}</p>
<pre id="scenario-text">
${escapeHtml(scenario.text)}</pre>
</section>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${library.script}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

function refusedAdds(refused: ReportInput['stats']['adds_refused']): string {
  const entries = Object.entries(refused ?? {});
  if (entries.length === 0) return '';
  const items = entries.map(([queue, codes]) => {
    const text = Object.entries(codes).map(([code, n]) => `${n} × ${code}`).join(', ');
    return `<li>${escapeHtml(queue)}: ${escapeHtml(text)}</li>`;
  });
  return `<p class="explain">Adds the engine refused (the tasks were not added):</p>\n<ul class="explain">${items.join('')}</ul>`;
}
