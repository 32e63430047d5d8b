/**
 * The report's script, for the browser: draws one queue's charts (or `*`'s, all queues together)
 * with uPlot from the JSON block, and switches queue from the selector, a table row or the URL
 * fragment (#q=NAME).
 *
 * Plain JavaScript in a string (the report is one file, so it is inlined, not loaded), checked
 * with `// @ts-check` against uPlot's and the DOM's types by test/simulate/report-script.test.ts.
 * It must contain no backtick and no dollar-brace (the string is a template literal).
 *
 * Invariants:
 * - Only the selected queue's charts exist: a switch destroys them and draws the next set, so a
 *   report with many queues costs one set's drawing, whatever the number of queues.
 * - Queue names reach the DOM through textContent and option values only, never as markup.
 * - When a set is drawn, body[data-rendered] names its queue (tests wait on it).
 */
import { TIME_AXIS_SCRIPT } from './time-axis-script.js';

export const CLIENT_SCRIPT = String.raw`// @ts-check
'use strict';
(function () {
  /**
   * @typedef {{ t_seconds: number[], added: number[], dispatched: number[], succeeded: number[],
   *   failed_attempts: number[], gave_up: number[], ready: number[], delayed: number[],
   *   backoff: number[], in_flight: number[], tokens: (number | null)[] }} Columns
   * @typedef {{ rate_per_second: number | null, bucket_size: number | null, max_concurrent_requests: number | null,
   *   mean_latency_seconds: number | null, throughput_per_second: number | null, binding: string | null,
   *   drain_lower_bound_seconds: number | null }} Bound
   * @typedef {{ bound: Bound, wait_by_cause_task_seconds: Record<string, number>,
   *   wait_seconds: Record<string, number | null>, latency_seconds: Record<string, number | null> }} Figures
   * @typedef {{ resolution_seconds: number, order: string[], causes: string[], dev_server: boolean, all: string,
   *   series: Record<string, Columns>, figures: Record<string, Figures> }} ReportData
   * @typedef {{ key: string, title: string, note?: string, opts?: uPlot.Options, data?: uPlot.AlignedData, categories?: string[] }} ChartSpec
   */

  const dataElement = document.getElementById('report-data');
  if (dataElement === null) throw new Error('the report has no data block');
  const report = /** @type {ReportData} */ (JSON.parse(dataElement.textContent || '{}'));
  const chartsElement = /** @type {HTMLElement} */ (document.getElementById('charts'));
  const select = /** @type {HTMLSelectElement} */ (document.getElementById('queue'));
  const HEIGHT = 220;
  const COLORS = {
    ready: '#2563eb', readyFill: '#bfdbfe', delayed: '#9333ea', delayedFill: '#e9d5ff', backoff: '#d97706', backoffFill: '#fde68a',
    dispatched: '#2563eb', dispatchedRaw: '#93c5fd', succeeded: '#16a34a', limit: '#dc2626', bound: '#7c3aed', tokens: '#0891b2',
    failed: '#d97706', gaveUp: '#dc2626', wait: '#d97706', latency: '#0891b2',
  };
  /** @type {uPlot[]} */
  let drawn = [];

` + TIME_AXIS_SCRIPT + String.raw`
  /** @param {number | null | undefined} v */
  function short(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  }

  /** A constant line across the run, or null when there is no such limit. @param {number[]} t @param {number | null} v */
  function level(t, v) {
    return v === null ? null : t.map(() => v);
  }

  /** Per-second rate of a per-interval count: each interval's own width (the last may be shorter). @param {number[]} t @param {number[]} counts */
  function perSecond(t, counts) {
    return counts.map((n, i) => {
      const width = i === 0 ? report.resolution_seconds : (t[i] ?? 0) - (t[i - 1] ?? 0);
      return n / (width > 0 ? width : report.resolution_seconds);
    });
  }

  /**
   * The same rate over a trailing window of at least one second, or null when an interval is
   * already a second or more. Per interval, a short Δ makes a rate of whole dispatches jump
   * between multiples of 1/Δ; the mean over a second reads against the configured rate.
   * @param {number[]} t @param {number[]} counts
   */
  function perSecondOverOne(t, counts) {
    const span = Math.ceil(1 / report.resolution_seconds - 1e-9);
    if (span <= 1) return null;
    return counts.map((_, i) => {
      const from = Math.max(0, i - span + 1);
      let n = 0;
      for (let j = from; j <= i; j++) n += counts[j] || 0;
      const seconds = (t[i] ?? 0) - (from === 0 ? (t[0] ?? 0) - report.resolution_seconds : t[from - 1] ?? 0);
      return seconds > 0 ? n / seconds : 0;
    });
  }

  /** @param {string} label @param {string} stroke @param {Partial<uPlot.Series>} [more] @returns {uPlot.Series} */
  function line(label, stroke, more) {
    return Object.assign({ label: label, stroke: stroke, width: 1.5, points: { show: false }, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => short(v) }, more || {});
  }

  /** @param {string} label @param {string} stroke */
  function limitLine(label, stroke) {
    return line(label, stroke, { dash: [6, 4], width: 1.5 });
  }

  const stepped = uPlot.paths.stepped ? uPlot.paths.stepped({ align: -1 }) : undefined;

  /** Options of a chart over time. @param {string} yLabel @param {uPlot.Series[]} series @returns {uPlot.Options} */
  function overTime(yLabel, series) {
    return {
      width: 100, height: HEIGHT,
      cursor: { sync: { key: 'time' } },
      scales: { x: { time: false }, y: { range: (/** @type {uPlot} */ u, /** @type {number} */ min, /** @type {number} */ max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        timeAxis(),
        { label: yLabel, size: 60 },
      ],
      series: /** @type {uPlot.Series[]} */ ([{ label: 'time', value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => (v === null ? '—' : duration(v)) }]).concat(series),
    };
  }

  /** Bars over named categories. @param {string} xLabel @param {string} yLabel @param {string[]} labels @param {uPlot.Series[]} series @returns {uPlot.Options} */
  function bars(xLabel, yLabel, labels, series) {
    const barPaths = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 90] }) : undefined;
    return {
      width: 100, height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (/** @type {uPlot} */ u, /** @type {number} */ min, /** @type {number} */ max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { splits: () => labels.map((_, i) => i), values: (/** @type {uPlot} */ u, /** @type {number[]} */ splits) => splits.map((i) => labels[i] || ''), grid: { show: false } },
        { label: yLabel, size: 60 },
      ],
      series: /** @type {uPlot.Series[]} */ ([{ label: xLabel, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => (v === null ? '' : labels[v] || '') }]).concat(
        series.map((s) => Object.assign({ paths: barPaths, points: { show: false }, value: (/** @type {uPlot} */ u, /** @type {number | null} */ v) => short(v) }, s)),
      ),
    };
  }

  /** The wait by cause of a queue, or of all queues (their sum). @param {string} queue */
  function waitByCause(queue) {
    /** @type {Record<string, number>} */
    const sum = {};
    const names = queue === report.all ? Object.keys(report.figures) : [queue];
    let any = false;
    for (const name of names) {
      const f = report.figures[name];
      if (f === undefined) continue;
      any = true;
      for (const cause of report.causes) sum[cause] = (sum[cause] || 0) + (f.wait_by_cause_task_seconds[cause] || 0);
    }
    return any ? sum : null;
  }

  /** Every chart of one queue (or of all, '*'): a spec to draw, or a note saying why there is none. @param {string} queue @returns {ChartSpec[]} */
  function chartsOf(queue) {
    const c = report.series[queue];
    if (c === undefined) return [];
    const figures = report.figures[queue];
    const bound = figures === undefined ? null : figures.bound;
    const t = c.t_seconds;
    /** @type {ChartSpec[]} */
    const out = [];

    // Backlog, stacked: each series is drawn filled down to zero, the total first, so the later
    // (lower) ones paint over it; the legend shows each state's own count, not the running sum.
    const readyDelayed = c.ready.map((v, i) => v + (c.delayed[i] || 0));
    const total = readyDelayed.map((v, i) => v + (c.backoff[i] || 0));
    const own = (/** @type {number[]} */ values) => (/** @type {uPlot} */ u, /** @type {number | null} */ v, /** @type {number} */ si, /** @type {number | null} */ i) => (i === null ? short(v) : short(values[i] ?? null));
    out.push({
      key: 'backlog', title: 'Backlog by state (tasks; stacked)',
      opts: overTime('tasks', [
        line('backoff', COLORS.backoff, { fill: COLORS.backoffFill, value: own(c.backoff) }),
        line('delayed (ETA ahead)', COLORS.delayed, { fill: COLORS.delayedFill, value: own(c.delayed) }),
        line('ready', COLORS.ready, { fill: COLORS.readyFill, value: own(c.ready) }),
      ]),
      data: [t, total, readyDelayed, c.ready],
    });

    /** @type {uPlot.Series[]} */
    let rateSeries = [line('dispatched /s', COLORS.dispatched, { paths: stepped }), line('succeeded /s', COLORS.succeeded, { paths: stepped })];
    /** @type {uPlot.AlignedData} */
    let rateData = [t, perSecond(t, c.dispatched), perSecond(t, c.succeeded)];
    const dispatchedMean = perSecondOverOne(t, c.dispatched), succeededMean = perSecondOverOne(t, c.succeeded);
    if (dispatchedMean !== null && succeededMean !== null) {
      rateSeries = [
        line('dispatched /s, per interval', COLORS.dispatchedRaw, { paths: stepped, width: 1 }),
        line('dispatched /s, 1 s mean', COLORS.dispatched, { width: 2 }),
        line('succeeded /s, 1 s mean', COLORS.succeeded),
      ];
      rateData = [t, perSecond(t, c.dispatched), dispatchedMean, succeededMean];
    }
    const rate = level(t, bound === null ? null : bound.rate_per_second);
    if (rate !== null) { rateSeries.push(limitLine('rate (queue.yaml)', COLORS.limit)); rateData.push(rate); }
    const throughput = bound === null ? null : bound.throughput_per_second;
    if (throughput !== null && bound !== null && bound.binding === 'max_concurrent_requests') { rateSeries.push(limitLine('bound: max_concurrent / mean latency', COLORS.bound)); rateData.push(t.map(() => throughput)); }
    out.push({ key: 'dispatch', title: 'Dispatch rate against the configured rate (per second)', opts: overTime('per second', rateSeries), data: rateData });

    if (c.tokens.every((v) => v === null)) {
      out.push({ key: 'tokens', title: 'Tokens in the bucket', note: 'No token bucket (a pull queue, or rate 0).' });
    } else {
      /** @type {uPlot.Series[]} */
      const tokenSeries = [line('tokens', COLORS.tokens)];
      /** @type {uPlot.AlignedData} */
      const tokenData = [t, c.tokens];
      const bucket = level(t, bound === null ? null : bound.bucket_size);
      if (bucket !== null) { tokenSeries.push(limitLine('bucket_size', COLORS.limit)); tokenData.push(bucket); }
      out.push({ key: 'tokens', title: 'Tokens in the bucket (whole tokens, end of each interval)', opts: overTime('tokens', tokenSeries), data: tokenData });
    }

    // A cap far above what was ever in flight (App Engine's default is 1000) would flatten the
    // curve against zero: then it is named in the legend instead of drawn.
    const capValue = bound === null ? null : bound.max_concurrent_requests;
    const offScale = capValue !== null && capValue > 4 * Math.max(1, c.in_flight.reduce((m, v) => (v > m ? v : m), 0));
    /** @type {uPlot.Series[]} */
    const flightSeries = [line(offScale ? 'in flight (max_concurrent_requests ' + capValue + ', far above)' : 'in flight', COLORS.dispatched)];
    /** @type {uPlot.AlignedData} */
    const flightData = [t, c.in_flight];
    const cap = offScale ? null : level(t, capValue);
    if (cap !== null) { flightSeries.push(limitLine('max_concurrent_requests', COLORS.limit)); flightData.push(cap); }
    out.push({ key: 'in_flight', title: 'In flight against the cap', opts: overTime('attempts', flightSeries), data: flightData });

    out.push({
      key: 'retries', title: 'Failed attempts and give-ups (per interval)',
      opts: overTime('per interval', [line('failed attempts', COLORS.failed, { paths: stepped }), line('gave up', COLORS.gaveUp, { paths: stepped })]),
      data: [t, c.failed_attempts, c.gave_up],
    });

    const causes = waitByCause(queue);
    // In dev-server mode a ready task waits for the app's one task at a time, counted as concurrency.
    const title = 'Wait by cause (ready-task-seconds held by each limit' + (report.dev_server ? "; dev-server mode: the app's one task at a time counts as concurrency" : '') + ')';
    if (causes === null) out.push({ key: 'wait_cause', title: title, categories: report.causes, note: 'No figures for this queue.' });
    else if (report.causes.every((k) => !causes[k])) out.push({ key: 'wait_cause', title: title, categories: report.causes, note: 'No ready task waited: every task went as soon as it could.' });
    else {
      out.push({
        key: 'wait_cause', title: title, categories: report.causes,
        opts: bars('cause', 'task-seconds', report.causes, [{ label: 'task-seconds', stroke: COLORS.wait, fill: COLORS.wait }]),
        data: [report.causes.map((_, i) => i), report.causes.map((k) => causes[k] || 0)],
      });
    }

    const pTitle = 'Wait and latency percentiles (seconds)';
    if (figures === undefined) {
      out.push({ key: 'percentiles', title: pTitle, note: queue === report.all ? 'Percentiles do not add up across queues: pick one queue.' : 'No figures for this queue.' });
    } else {
      const w = figures.wait_seconds, l = figures.latency_seconds;
      const labels = ['wait p50', 'p90', 'p99', 'max', 'latency p50', 'p99'];
      const wait = [w.p50, w.p90, w.p99, w.max, null, null];
      const latency = [null, null, null, null, l.p50, l.p99];
      if (wait.concat(latency).every((v) => v === null || v === undefined)) out.push({ key: 'percentiles', title: pTitle, note: 'No task was dispatched.' });
      else {
        // Waits and latencies can differ by orders of magnitude: each has its own axis.
        const opts = bars('figure', 'wait, seconds', labels, [
          { label: 'wait', stroke: COLORS.wait, fill: COLORS.wait },
          { label: 'latency', stroke: COLORS.latency, fill: COLORS.latency, scale: 'latency' },
        ]);
        const zeroUp = (/** @type {uPlot} */ u, /** @type {number} */ min, /** @type {number} */ max) => /** @type {uPlot.Range.MinMax} */ ([0, max > 0 ? max * 1.1 : 1]);
        opts.scales = Object.assign({}, opts.scales, { latency: { range: zeroUp } });
        (opts.axes || []).push({ scale: 'latency', side: 1, label: 'latency, seconds', size: 60, grid: { show: false } });
        out.push({
          key: 'percentiles', title: pTitle,
          opts: opts,
          data: [labels.map((_, i) => i), wait.map((v) => (v === undefined ? null : v)), latency.map((v) => (v === undefined ? null : v))],
        });
      }
    }
    return out;
  }

  /** @param {string} queue */
  function show(queue) {
    for (const u of drawn) u.destroy();
    drawn = [];
    chartsElement.textContent = '';
    for (const spec of chartsOf(queue)) {
      const figure = document.createElement('figure');
      figure.className = 'chart';
      figure.dataset['chart'] = spec.key;
      // A bar chart's categories, in order (drawn on the canvas, so also said here for tests).
      if (spec.categories !== undefined) figure.dataset['categories'] = spec.categories.join(' ');
      const caption = document.createElement('figcaption');
      caption.textContent = spec.title;
      figure.appendChild(caption);
      chartsElement.appendChild(figure);
      if (spec.opts === undefined || spec.data === undefined) {
        const note = document.createElement('p');
        note.className = 'note';
        note.textContent = spec.note || '';
        figure.appendChild(note);
        continue;
      }
      spec.opts.width = Math.max(240, figure.clientWidth);
      // One interval (a --resolution as long as the run or longer) is one point per series: a
      // line needs two, so without its point drawn each chart over time would be empty.
      if (spec.key !== 'wait_cause' && spec.key !== 'percentiles' && (spec.data[0] || []).length === 1) {
        for (const s of (spec.opts.series || []).slice(1)) s.points = { show: true, size: 8, fill: s.stroke };
      }
      drawn.push(new uPlot(spec.opts, spec.data, figure));
    }
    for (const row of document.querySelectorAll('tr[data-queue]')) row.classList.toggle('selected', row.getAttribute('data-queue') === queue);
    document.body.dataset['rendered'] = queue;
  }

  /** @param {string} queue */
  function choose(queue) {
    if (report.series[queue] === undefined) return;
    select.value = queue;
    history.replaceState(null, '', '#q=' + encodeURIComponent(queue));
    show(queue);
  }

  for (const name of report.order) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name === report.all ? report.all + ' (all queues)' : name;
    select.appendChild(option);
  }
  select.addEventListener('change', () => choose(select.value));
  for (const row of document.querySelectorAll('tr[data-queue]')) row.addEventListener('click', () => choose(row.getAttribute('data-queue') || ''));
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const u of drawn) u.setSize({ width: Math.max(240, u.root.parentElement ? u.root.parentElement.clientWidth : 240), height: HEIGHT }); }, 100);
  });

  const fromUrl = /^#q=(.*)$/.exec(location.hash);
  let first = report.order[0] || report.all;
  if (fromUrl !== null) { try { first = decodeURIComponent(fromUrl[1] || ''); } catch (e) { /* a malformed fragment: keep the default */ } }
  choose(report.series[first] === undefined ? report.order[0] || report.all : first);
})();
`;
