/**
 * The script of the report of many runs (bands.ts), for the browser: draws one queue's charts (or
 * `*`'s, all queues together), each variant's median as a line over its 5–95% band (uPlot bands),
 * the variants overlaid in their colours; a selector switches queue.
 *
 * Plain JavaScript in a string (inlined, as the one-run report's script is), checked with
 * `// @ts-check` against uPlot's and the DOM's types by test/simulate/bands-report.test.ts. It must
 * contain no backtick and no dollar-brace (the string is a template literal).
 *
 * Invariant: only the selected queue's charts exist; body[data-rendered] names it once drawn.
 */
import { TIME_AXIS_SCRIPT } from './time-axis-script.js';

export const BANDS_SCRIPT = String.raw`// @ts-check
'use strict';
(function () {
  /**
   * @typedef {{ median: (number | null)[], p5: (number | null)[], p95: (number | null)[] }} Band
   * @typedef {{ t_seconds: number[], fields: Record<string, Band> }} BandColumns
   * @typedef {{ label: string, bands: Record<string, BandColumns> }} Variant
   * @typedef {{ resolution_seconds: number, order: string[], colors: string[], variants: Variant[] }} ReportData
   */
  const dataElement = document.getElementById('report-data');
  if (dataElement === null) throw new Error('the report has no data block');
  const report = /** @type {ReportData} */ (JSON.parse(dataElement.textContent || '{}'));
  const chartsElement = /** @type {HTMLElement} */ (document.getElementById('charts'));
  const select = /** @type {HTMLSelectElement} */ (document.getElementById('queue'));
  const CHARTS = [
    { field: 'ready', title: 'Ready tasks (ETA come, waiting to go)', perSecond: false },
    { field: 'dispatched', title: 'Dispatched per second', perSecond: true },
    { field: 'in_flight', title: 'In flight', perSecond: false },
    { field: 'backoff', title: 'In backoff', perSecond: false },
    { field: 'failed_attempts', title: 'Failed attempts per interval', perSecond: false },
    { field: 'tokens', title: 'Tokens in the bucket', perSecond: false },
  ];
  const HEIGHT = 220;
  /** @type {uPlot[]} */
  let drawn = [];

  /** '#rrggbb' with an alpha. @param {string} hex @param {number} alpha */
  function fade(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + ((n >> 16) & 255) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
  }

` + TIME_AXIS_SCRIPT + String.raw`
  /** @param {number | null} v */
  function short(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  }

  /** @param {string} queue */
  function draw(queue) {
    for (const u of drawn) u.destroy();
    drawn = [];
    chartsElement.textContent = '';
    /** @type {number[]} */
    let t = [];
    for (const v of report.variants) {
      const q = v.bands[queue];
      if (q !== undefined && q.t_seconds.length > t.length) t = q.t_seconds;
    }
    for (const chart of CHARTS) {
      const figure = document.createElement('figure');
      figure.className = 'chart';
      figure.dataset.chart = chart.field;
      const caption = document.createElement('figcaption');
      caption.textContent = chart.title;
      figure.appendChild(caption);
      chartsElement.appendChild(figure);
      /** @type {(number | null)[][]} */
      const data = [t];
      /** @type {uPlot.Series[]} */
      const series = [{ label: 'time', value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => (v === null ? '—' : duration(v)) }];
      /** @type {uPlot.Band[]} */
      const bands = [];
      let values = 0;
      report.variants.forEach(function (variant, i) {
        const color = report.colors[i % report.colors.length] || '#111827';
        const q = variant.bands[queue];
        const band = q === undefined ? undefined : q.fields[chart.field];
        const scale = chart.perSecond ? 1 / report.resolution_seconds : 1;
        /** @param {(number | null)[] | undefined} column */
        const pick = function (column) {
          return t.map(function (_, k) {
            const x = column === undefined ? null : column[k];
            if (x === null || x === undefined) return null;
            values++;
            return x * scale;
          });
        };
        data.push(pick(band && band.p95), pick(band && band.p5), pick(band && band.median));
        // One interval (a --resolution as long as the runs) is one point: a line needs two, so
        // the point itself is drawn.
        const line = { width: 1, points: t.length === 1 ? { show: true, size: 8 } : { show: false }, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => short(v) };
        series.push(Object.assign({ label: variant.label + ' p95', stroke: fade(color, 0.4) }, line));
        series.push(Object.assign({ label: variant.label + ' p5', stroke: fade(color, 0.4) }, line));
        series.push(Object.assign({ label: variant.label + ' median', stroke: color }, line, { width: 2 }));
        bands.push({ series: [data.length - 3, data.length - 2], fill: fade(color, 0.15) });
      });
      if (values === 0) {
        const note = document.createElement('p');
        note.className = 'note';
        note.textContent = chart.field === 'tokens' ? 'No token bucket (a paused or pull queue): no tokens to draw.' : 'Nothing to draw.';
        figure.appendChild(note);
        continue;
      }
      /** @type {uPlot.Options} */
      const opts = {
        // The figure's own width (its grid cell): a fixed width overflows a narrower cell into
        // the next chart and past the page's edge.
        width: Math.max(240, figure.clientWidth), height: HEIGHT,
        cursor: { sync: { key: 'time' } },
        scales: { x: { time: false } },
        axes: [timeAxis(), { size: 60 }],
        series: series,
        bands: bands,
      };
      drawn.push(new uPlot(opts, /** @type {uPlot.AlignedData} */ (/** @type {unknown} */ (data)), figure));
    }
    document.body.dataset.rendered = queue;
  }

  for (const name of report.order) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name === '*' ? '* (all queues)' : name;
    select.appendChild(option);
  }
  select.addEventListener('change', function () { draw(select.value); });
  let resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { for (const u of drawn) u.setSize({ width: Math.max(240, u.root.parentElement ? u.root.parentElement.clientWidth : 240), height: HEIGHT }); }, 100);
  });
  draw(report.order[0] || '*');
})();
`;
