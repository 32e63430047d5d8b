// @ts-check
/**
 * The charts of one queue (or of all, `*`): backlog by state, dispatch rate against the
 * configured rate, tokens against bucket_size, in flight against max_concurrent_requests, failed
 * attempts by reason, and the wait by cause (ready-task-seconds, as of the cursor).
 *
 * A live service pushes its series (`GET /pushq/series/stream`, Server-Sent Events) at the interval
 * the user picks, until paused; a recorded log's are read once (`GET /pushq/series.json`), over the
 * whole log. Each update calls `onSeries` (the timeline draws the `*` series too).
 *
 * Charts are updated in place (uPlot's setData) while their series stay the same, so a chart under
 * the pointer does not flicker; `#charts[data-updates]` counts the updates and each figure's
 * `data-end` says how far its series run (tests wait on them).
 */
import { read } from './api.js';
import { cursor, source } from './cursor.js';
import { $, el, queueOptions, setText } from './dom.js';
import { COLORS, HEIGHT, backlog, bars, level, limitLine, line, overTime, perSecond, perSecondOverOne, stepped } from './plots.js';

/**
 * @typedef {import('./api.js').SeriesPayload} SeriesPayload
 * @typedef {import('./api.js').ChartSeries} ChartSeries
 * @typedef {import('./api.js').Figures} Figures
 * @typedef {{ key: string, title: string, note?: string, opts?: uPlot.Options, data?: uPlot.AlignedData, categories?: string[] }} ChartSpec
 */

const REASONS = ['http_5xx', 'http_4xx', 'http_other', 'deadline', 'connection'];
const REASON_LABELS = { http_5xx: 'HTTP 5xx', http_4xx: 'HTTP 4xx', http_other: 'other status', deadline: 'deadline', connection: 'connection' };
const CAUSES = ['tokens', 'concurrency', 'paused', 'disabled', 'transport', 'not_running'];
/** A cause's label on the chart (HOLD_CAUSE_TEXT in src/projections/series-types.ts; test/e2e checks the page shows it). */
const CAUSE_LABELS = { tokens: 'tokens', concurrency: 'concurrency', paused: 'paused', disabled: 'disabled', transport: 'transport', not_running: 'not running' };

/** The queue whose charts are shown. */
let queue = '*';
/** The queues of the queue table, in order (the picker's options). @type {string[]} */
let knownQueues = [];
/** Whether the series are read (start() called): until then a queue picked is only remembered. */
let started = false;
/** @type {Map<string, { u: uPlot | null, figure: HTMLElement, signature: string }>} */
const drawn = new Map();
/** @type {SeriesPayload | null} */
let last = null;
/** @type {Figures | null} */
let figures = null;
/** @type {EventSource | null} */
let stream = null;
let updates = 0;
/** @type {((payload: SeriesPayload) => void)[]} */
const seriesListeners = [];

/** @param {(payload: SeriesPayload) => void} fn */
export function onSeries(fn) {
  seriesListeners.push(fn);
}

/** The queue whose charts are shown (`*`: all). */
export function chartedQueue() {
  return queue;
}

/** @param {string} name */
export function chartQueue(name) {
  if (name === queue) return;
  queue = name;
  queueOptions(/** @type {HTMLSelectElement} */ ($('chart-queue')), knownQueues, queue);
  for (const d of drawn.values()) d.u?.destroy();
  drawn.clear();
  $('charts').replaceChildren();
  if (started) start();
}

/** The queues to choose from, in order (the one charted stays an option though it is not among them). @param {string[]} names */
export function setChartQueues(names) {
  knownQueues = names;
  queueOptions(/** @type {HTMLSelectElement} */ ($('chart-queue')), names, queue);
}

/** The figures at the cursor (for the wait by cause). @param {Figures} f */
export function chartFigures(f) {
  figures = f;
  if (last !== null) render(last);
}

/** The cursor moved: its line is redrawn. */
export function redrawCursor() {
  for (const d of drawn.values()) d.u?.redraw(false, false);
}

/** @param {SeriesPayload} payload */
function received(payload) {
  last = payload;
  source.stepSeconds = payload.resolutionSeconds > 0 ? payload.resolutionSeconds : source.stepSeconds;
  if (source.mode === 'live') source.endSeconds = Math.max(source.endSeconds, payload.endSeconds);
  render(payload);
  updates++;
  $('charts').dataset['updates'] = String(updates);
  for (const fn of seriesListeners) fn(payload);
}

/**
 * After a dropped stream, the wait before it is opened again (the server's own `retry:` hint):
 * the page opens it itself, since EventSource's own retries are silent and it gives up for good on
 * an answer that is not a stream (a proxy's 502, the server's 4xx).
 */
const RECONNECT_MS = 3000;
/** @type {ReturnType<typeof setTimeout> | null} */
let reconnect = null;

/**
 * What the charts' label says of their source; `state` (also `#charts-state[data-stream]`): open
 * (a stream the server answered), connecting (asked for, not answered yet), down (dropped, being
 * opened again: it stays so until the server answers), failed (a read failed), paused, log.
 * @param {string} state
 * @param {string} text
 */
function sourceState(state, text) {
  const label = $('charts-state');
  label.dataset['stream'] = state;
  label.classList.toggle('bad', state === 'down' || state === 'failed');
  setText(label, text);
}

/** Starts reading the series: a stream while live and not paused, else one read. */
export function start() {
  started = true;
  stopStream();
  const paused = /** @type {HTMLInputElement} */ ($('charts-paused')).checked;
  if (source.mode === 'live' && !paused) {
    const interval = /** @type {HTMLSelectElement} */ ($('charts-interval')).value;
    const live = 'live, every ' + interval + ' s';
    const es = new EventSource('/pushq/series/stream?queue=' + encodeURIComponent(queue) + '&interval=' + encodeURIComponent(interval));
    stream = es;
    es.addEventListener('series', (ev) => {
      if (stream !== es) return;
      sourceState('open', live);
      received(JSON.parse(/** @type {MessageEvent} */ (ev).data));
    });
    // A read of the series that failed on the server (the stream goes on: the next may answer).
    es.addEventListener('failure', (ev) => {
      if (stream !== es) return;
      let message = '';
      try {
        message = String(JSON.parse(/** @type {MessageEvent} */ (ev).data).message);
      } catch (e) {
        message = 'the series could not be read';
      }
      sourceState('failed', 'failed: ' + message + ' (trying again every ' + interval + ' s)');
    });
    // The stream dropped or could not be opened (the server went away, or answered an error).
    es.addEventListener('error', () => {
      if (stream !== es) return;
      stopStream();
      sourceState('down', 'disconnected: the stream dropped, reconnecting every ' + RECONNECT_MS / 1000 + ' s');
      reconnect = setTimeout(start, RECONNECT_MS);
    });
    // Live once the server has answered, not when asked: a request that hangs (a server or a
    // network that takes the connection and says nothing) must not read "live". While it is
    // being opened again after a drop, the label goes on saying it dropped.
    es.addEventListener('open', () => {
      if (stream === es) sourceState('open', live);
    });
    if ($('charts-state').dataset['stream'] !== 'down') sourceState('connecting', 'connecting to the stream…');
    return;
  }
  sourceState(source.mode === 'live' ? 'paused' : 'log', source.mode === 'live' ? 'paused' : 'the whole log');
  read('/pushq/series.json', { queue }).then(received, (err) => sourceState('failed', 'failed: ' + (err && err.message ? err.message : String(err))));
}

function stopStream() {
  if (reconnect !== null) clearTimeout(reconnect);
  reconnect = null;
  if (stream !== null) stream.close();
  stream = null;
}

/** @param {SeriesPayload} payload */
function render(payload) {
  const mine = payload.series.find((s) => s.queue === queue) || payload.series[0];
  if (mine === undefined) return;
  const box = $('charts');
  for (const spec of specsOf(mine, payload.resolutionSeconds)) {
    let d = drawn.get(spec.key);
    // (A bar chart's categories are its x axis: other categories, another chart.)
    const signature = spec.opts === undefined ? 'note:' + (spec.note || '') : (spec.opts.series || []).map((s) => s.label).join('|') + ':' + (spec.categories || []).join('|');
    if (d !== undefined && d.signature !== signature) {
      d.u?.destroy();
      d.figure.remove();
      drawn.delete(spec.key);
      d = undefined;
    }
    if (d === undefined) {
      const figure = el('figure', 'chart');
      figure.dataset['chart'] = spec.key;
      figure.appendChild(el('figcaption', null, spec.title));
      box.appendChild(figure);
      d = { u: null, figure, signature };
      drawn.set(spec.key, d);
      if (spec.opts === undefined) figure.appendChild(el('p', 'note', spec.note || ''));
      else {
        spec.opts.width = Math.max(240, figure.clientWidth - 4);
        d.u = new uPlot(spec.opts, spec.data, figure);
      }
    } else if (d.u !== null && spec.data !== undefined) d.u.setData(spec.data);
    const caption = d.figure.querySelector('figcaption');
    if (caption !== null) setText(caption, spec.title);
    const t = mine.columns.t_seconds;
    d.figure.dataset['end'] = String(t.length === 0 ? 0 : t[t.length - 1]);
    // A bar chart's categories, in order (drawn on the canvas, so also said here for tests).
    if (spec.categories !== undefined) d.figure.dataset['categories'] = spec.categories.join(' ');
  }
}

/** Wait by cause at the cursor: the queue's, or all queues' summed. @returns {Record<string, number> | null} */
function causesNow() {
  if (figures === null) return null;
  const names = queue === '*' ? Object.keys(figures.summary) : [queue];
  /** @type {Record<string, number>} */
  const sum = {};
  let any = false;
  for (const name of names) {
    const stats = figures.summary[name]?.stats;
    if (!stats) continue;
    any = true;
    for (const c of CAUSES) sum[c] = (sum[c] || 0) + (stats.wait_by_cause_task_seconds[c] || 0);
  }
  return any ? sum : null;
}

/**
 * What the charts say in dev-server mode (docs/serve.md, Dev-server mode: one task at a time for
 * the whole app, in ETA order; rate, bucket_size and max_concurrent_requests not applied): no line
 * for a limit that holds nothing back, and no tokens, which would read as if they did.
 */
const DEV_SERVER_CHARTS = {
  dispatch: 'Dispatch rate (per second; dev-server mode: the configured rate is not applied)',
  tokens: 'Dev-server mode: rate and bucket_size are not applied (one task at a time for the whole app), so there are no tokens to show.',
  inFlight: 'In flight (dev-server mode: one task at a time for the whole app; max_concurrent_requests is not applied)',
  wait: '; dev-server mode: a ready task waits for the one task at a time of the whole app, counted as concurrency, never for tokens or a pause',
};

/** @param {ChartSeries} s @param {number} resolution @returns {ChartSpec[]} */
function specsOf(s, resolution) {
  const c = s.columns;
  const t = c.t_seconds;
  // Dev-server mode at the instant shown (dashboard.json), else the limits the series carry apply.
  const devServer = figures !== null && figures.devServer;
  /** @type {ChartSpec[]} */
  const out = [];
  const b = backlog(c);
  out.push({ key: 'backlog', title: 'Backlog by state (tasks; stacked)', opts: overTime('tasks', b.series), data: b.data });

  /** @type {uPlot.Series[]} */
  let rateSeries = [line('dispatched /s', COLORS.dispatched, { paths: stepped }), line('succeeded /s', COLORS.succeeded, { paths: stepped })];
  /** @type {uPlot.AlignedData} */
  let rateData = [t, perSecond(t, c.dispatched, resolution), perSecond(t, c.succeeded, resolution)];
  const dispatchedMean = perSecondOverOne(t, c.dispatched, resolution);
  const succeededMean = perSecondOverOne(t, c.succeeded, resolution);
  if (dispatchedMean !== null && succeededMean !== null) {
    rateSeries = [line('dispatched /s, per interval', COLORS.dispatchedRaw, { paths: stepped, width: 1 }), line('dispatched /s, 1 s mean', COLORS.dispatched, { width: 2 }), line('succeeded /s, 1 s mean', COLORS.succeeded)];
    rateData = [t, perSecond(t, c.dispatched, resolution), dispatchedMean, succeededMean];
  }
  const rate = devServer ? null : level(t, s.limits.ratePerSecond);
  if (rate !== null) {
    rateSeries.push(limitLine('rate (queue.yaml)', COLORS.limit));
    rateData.push(rate);
  }
  out.push({ key: 'dispatch', title: devServer ? DEV_SERVER_CHARTS.dispatch : 'Dispatch rate against the configured rate (per second)', opts: overTime('per second', rateSeries), data: rateData });

  if (devServer) out.push({ key: 'tokens', title: 'Tokens in the bucket', note: DEV_SERVER_CHARTS.tokens });
  else if (c.tokens.every((v) => v === null)) out.push({ key: 'tokens', title: 'Tokens in the bucket', note: 'No token bucket (a pull queue, or rate 0).' });
  else {
    /** @type {uPlot.Series[]} */
    const series = [line('tokens', COLORS.tokens)];
    /** @type {uPlot.AlignedData} */
    const data = [t, c.tokens];
    const bucket = level(t, s.limits.bucketSize);
    if (bucket !== null) {
      series.push(limitLine('bucket_size', COLORS.limit));
      data.push(bucket);
    }
    out.push({ key: 'tokens', title: 'Tokens in the bucket (whole tokens, end of each interval)', opts: overTime('tokens', series), data });
  }

  // A cap far above what was ever in flight (App Engine's default is 1000) would flatten the
  // curve against zero: then it is named in the legend instead of drawn.
  const cap = devServer ? null : s.limits.maxConcurrent;
  const offScale = cap !== null && cap > 4 * Math.max(1, c.in_flight.reduce((m, v) => (v > m ? v : m), 0));
  /** @type {uPlot.Series[]} */
  const flight = [line(offScale ? 'in flight (cap ' + cap + ', far above)' : 'in flight', COLORS.dispatched)];
  /** @type {uPlot.AlignedData} */
  const flightData = [t, c.in_flight];
  const capLine = offScale ? null : level(t, cap);
  if (capLine !== null) {
    flight.push(limitLine('max_concurrent_requests', COLORS.limit));
    flightData.push(capLine);
  }
  out.push({ key: 'in_flight', title: devServer ? DEV_SERVER_CHARTS.inFlight : 'In flight against the cap', opts: overTime('attempts', flight), data: flightData });

  /** @type {uPlot.Series[]} */
  const failSeries = REASONS.map((r) => line(REASON_LABELS[/** @type {keyof typeof REASON_LABELS} */ (r)], /** @type {Record<string, string>} */ (COLORS)[r] || '#000', { paths: stepped }));
  failSeries.push(line('gave up', COLORS.gave_up, { paths: stepped, dash: [4, 3] }));
  /** @type {uPlot.AlignedData} */
  const failData = [t, ...REASONS.map((r) => s.failures[r] || t.map(() => 0)), c.gave_up];
  out.push({ key: 'failures', title: 'Failed attempts by reason, and give-ups (per interval)', opts: overTime('per interval', failSeries), data: failData });

  const causes = causesNow();
  // The causes the mode at the instant shown can hold a task by (dashboard.json `holdCauses`: in
  // dev-server mode, src/projections/series-types.ts DEV_SERVER_HOLD_CAUSES, the one list of them),
  // and any other that holds seconds, from before the log's switch to the mode (holdCausesShown's rule).
  const modeCauses = figures === null ? CAUSES : figures.holdCauses;
  const shown = causes === null ? CAUSES : CAUSES.filter((k) => modeCauses.includes(k) || (causes[k] || 0) > 0);
  const title = 'Wait by cause (ready-task-seconds, ' + (cursor() === null && source.mode === 'live' ? 'so far' : 'up to the cursor') + (devServer ? DEV_SERVER_CHARTS.wait : '') + ')';
  if (causes === null) out.push({ key: 'wait_cause', title, note: 'No figures for this queue yet.' });
  else if (shown.every((k) => !causes[k])) out.push({ key: 'wait_cause', title, note: 'No ready task waited: every task went as soon as it could.' });
  else out.push({ key: 'wait_cause', title, categories: shown, opts: bars('task-seconds', shown.map((k) => CAUSE_LABELS[/** @type {keyof typeof CAUSE_LABELS} */ (k)]), [{ label: 'task-seconds', stroke: COLORS.wait, fill: COLORS.wait }]), data: [shown.map((_, i) => i), shown.map((k) => causes[k] || 0)] });
  return out;
}

/** Fits every chart to its figure's width (on resize). */
export function fitCharts() {
  for (const d of drawn.values()) if (d.u !== null) d.u.setSize({ width: Math.max(240, d.figure.clientWidth - 4), height: HEIGHT });
}
