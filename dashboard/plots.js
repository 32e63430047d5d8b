// @ts-check
/**
 * uPlot options the dashboard's charts share, with the HTML report's choices
 * (src/simulate/report/client-script.ts): its colours, lines and dashed limits, stepped counts,
 * a rate per second both per interval and as a 1 s mean, zero-based y axes, durations on the x axis.
 * uPlot is the package's browser build, served by pushq itself (/pushq/assets/uplot.js, a global),
 * never from a CDN.
 *
 * Every chart over time draws the cursor (cursor.js) as a vertical line: the instant the rest of
 * the page shows.
 */
import { cursor, source } from './cursor.js';

export const HEIGHT = 190;
export const COLORS = {
  ready: '#2563eb', readyFill: '#bfdbfe', delayed: '#9333ea', delayedFill: '#e9d5ff', backoff: '#d97706', backoffFill: '#fde68a',
  dispatched: '#2563eb', dispatchedRaw: '#93c5fd', succeeded: '#16a34a', limit: '#dc2626', tokens: '#0891b2',
  wait: '#d97706', cursor: '#111827',
  http_5xx: '#dc2626', http_4xx: '#d97706', http_other: '#a16207', deadline: '#9333ea', connection: '#0891b2', gave_up: '#4b5563',
};

/** @param {number | null | undefined} v */
export function short(v) {
  if (v === null || v === undefined || !isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}

/** Seconds as 45s, 2m05s, 1h02m (axis labels). @param {number} v */
export function axisDuration(v) {
  const s = Math.round(v);
  if (Math.abs(s) < 60) return String(Number(v.toPrecision(3))) + 's';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (/** @type {number} */ n) => (n < 10 ? '0' : '') + n;
  return h > 0 ? h + 'h' + two(m) + 'm' : m + 'm' + (r === 0 ? '' : two(r) + 's');
}

/** @param {string} label @param {string} stroke @param {Partial<uPlot.Series>} [more] @returns {uPlot.Series} */
export function line(label, stroke, more) {
  return Object.assign({ label: label, stroke: stroke, width: 1.5, points: { show: false }, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => short(v) }, more || {});
}

/** @param {string} label @param {string} stroke */
export function limitLine(label, stroke) {
  return line(label, stroke, { dash: [6, 4], width: 1.5 });
}

export const stepped = uPlot.paths.stepped ? uPlot.paths.stepped({ align: -1 }) : undefined;

/** The cursor's x (seconds since the first event), or null when the page follows now. */
function cursorX() {
  const at = cursor();
  if (at !== null) return at;
  return source.mode === 'recorded' ? source.endSeconds : null;
}

/** Draws the cursor as a vertical line over the plot. @param {uPlot} u */
export function drawCursor(u) {
  const at = cursorX();
  if (at === null) return;
  const x = Math.round(u.valToPos(at, 'x', true));
  const ctx = u.ctx;
  ctx.save();
  ctx.setLineDash([]);
  ctx.strokeStyle = COLORS.cursor;
  ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
  ctx.beginPath();
  ctx.moveTo(x, u.bbox.top);
  ctx.lineTo(x, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.restore();
}

/** Options of a chart over time (x: seconds since the first event). @param {string} yLabel @param {uPlot.Series[]} series @returns {uPlot.Options} */
export function overTime(yLabel, series) {
  return {
    width: 300, height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: (/** @type {uPlot} */ u, /** @type {number} */ min, /** @type {number} */ max) => [0, max > 0 ? max * 1.08 : 1] } },
    axes: [
      { values: (/** @type {uPlot} */ u, /** @type {number[]} */ splits) => splits.map(axisDuration) },
      { label: yLabel, size: 56 },
    ],
    series: /** @type {uPlot.Series[]} */ ([{ label: 'time', value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => (v === null ? '—' : axisDuration(v)) }]).concat(series),
    hooks: { draw: [drawCursor] },
  };
}

/** Bars over named categories. @param {string} yLabel @param {string[]} labels @param {uPlot.Series[]} series @returns {uPlot.Options} */
export function bars(yLabel, labels, series) {
  const barPaths = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 90] }) : undefined;
  return {
    width: 300, height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (/** @type {uPlot} */ u, /** @type {number} */ min, /** @type {number} */ max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { splits: () => labels.map((_, i) => i), values: (/** @type {uPlot} */ u, /** @type {number[]} */ splits) => splits.map((i) => labels[i] || ''), grid: { show: false }, font: '10px system-ui, sans-serif' },
      { label: yLabel, size: 56 },
    ],
    series: /** @type {uPlot.Series[]} */ ([{ label: 'cause', value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => (v === null ? '' : labels[v] || '') }]).concat(
      series.map((s) => Object.assign({ paths: barPaths, points: { show: false }, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => short(v) }, s)),
    ),
  };
}

/** Per-second rate of a per-interval count (each interval's own width). @param {number[]} t @param {number[]} counts @param {number} resolution */
export function perSecond(t, counts, resolution) {
  return counts.map((n, i) => {
    const width = i === 0 ? resolution : (t[i] ?? 0) - (t[i - 1] ?? 0);
    return n / (width > 0 ? width : resolution);
  });
}

/**
 * The same over a trailing window of at least one second, or null when an interval already is
 * one: per interval, a short Δ makes a rate of whole dispatches jump between multiples of 1/Δ.
 * @param {number[]} t @param {number[]} counts @param {number} resolution
 */
export function perSecondOverOne(t, counts, resolution) {
  const span = Math.ceil(1 / resolution - 1e-9);
  if (!(span > 1)) return null;
  return counts.map((_, i) => {
    const from = Math.max(0, i - span + 1);
    let n = 0;
    for (let j = from; j <= i; j++) n += counts[j] || 0;
    const seconds = (t[i] ?? 0) - (from === 0 ? (t[0] ?? 0) - resolution : t[from - 1] ?? 0);
    return seconds > 0 ? n / seconds : 0;
  });
}

/** A constant line across the run, or null without such a limit. @param {number[]} t @param {number | null} v */
export function level(t, v) {
  return v === null ? null : t.map(() => v);
}

/**
 * Backlog by state, stacked: each series filled down to zero, the total first, so the later (lower)
 * ones paint over it; the legend shows each state's own count.
 * @param {import('./api.js').Columns} c
 * @returns {{ series: uPlot.Series[], data: uPlot.AlignedData }}
 */
export function backlog(c) {
  const readyDelayed = c.ready.map((v, i) => v + (c.delayed[i] || 0));
  const total = readyDelayed.map((v, i) => v + (c.backoff[i] || 0));
  const own = (/** @type {number[]} */ values) => (/** @type {uPlot} */ u, /** @type {number | null} */ v, /** @type {number} */ si, /** @type {number | null} */ i) => (i === null ? short(v) : short(values[i] ?? null));
  return {
    series: [
      line('backoff', COLORS.backoff, { fill: COLORS.backoffFill, value: own(c.backoff) }),
      line('delayed (ETA ahead)', COLORS.delayed, { fill: COLORS.delayedFill, value: own(c.delayed) }),
      line('ready', COLORS.ready, { fill: COLORS.readyFill, value: own(c.ready) }),
    ],
    data: [c.t_seconds, total, readyDelayed, c.ready],
  };
}
