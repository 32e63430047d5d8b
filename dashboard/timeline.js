// @ts-check
/**
 * The timeline: the backlog of all queues over the log (the `*` series), with the cursor, marks
 * for configuration reloads, settings changes, pauses, resumes, purges and restarts, and the controls that move the cursor:
 * drag on the chart or the slider, step back and forth one interval of the series, play, go to the
 * start, go to the end (a recorded log) or back to now (a live service).
 *
 * Marks are elements on the chart's plotting area (`#timeline-marks .mark[data-kind]`), each with
 * its instant and queue in its title; a click on one moves the cursor to it.
 */
import { cursor, duration, onCursor, setCursor, source } from './cursor.js';
import { $, el, setText } from './dom.js';
import { HEIGHT, backlog, overTime } from './plots.js';

/**
 * @typedef {import('./api.js').SeriesPayload} SeriesPayload
 * @typedef {import('./api.js').Timeline} Timeline
 * @typedef {import('./api.js').Marker} Marker
 */

/** @type {uPlot | null} */
let plot = null;
/** @type {Marker[]} */
let marks = [];
/** @type {ReturnType<typeof setInterval> | null} */
let playing = null;
const PLAY_TICK_MS = 400;
const PLAY_STEPS = 100;

const KIND_TEXT = { config: 'configuration applied', settings: 'settings changed', pause: 'paused', resume: 'resumed', purge: 'purged', restart: 'pushq started again' };
/** What a mark's title adds to its kind. */
const KIND_NOTE = {
  settings: ' (a restart with new settings, such as --target or --scaling; queue.yaml not applied again, no queue changed state)',
  restart: ' (pushq was not running from the last event before it until then: the waits in that span count as "not running")',
};

/** @param {SeriesPayload} payload */
export function drawTimeline(payload) {
  const all = payload.series.find((s) => s.queue === '*');
  if (all === undefined) return;
  const b = backlog(all.columns);
  const box = $('timeline');
  if (plot === null) {
    const opts = overTime('tasks waiting', b.series);
    opts.height = Math.round(HEIGHT * 0.8);
    opts.width = Math.max(240, box.clientWidth - 20);
    opts.scales = Object.assign({}, opts.scales, { x: { time: false, range: () => /** @type {uPlot.Range.MinMax} */ ([0, Math.max(source.endSeconds, 1e-6)]) } });
    // The marks follow the x scale: placed again at each draw (a resize, a longer live span).
    opts.hooks = { draw: [...(opts.hooks?.draw || []), positionMarks] };
    plot = new uPlot(opts, b.data, box);
    // The marks sit on the plotting area, where uPlot's x positions are measured from.
    const strip = el('div');
    strip.id = 'timeline-marks';
    plot.over.appendChild(strip);
    dragOn(plot);
    placeMarks();
  } else plot.setData(b.data);
  box.dataset['end'] = String(source.endSeconds);
  syncControls();
}

/** @param {Timeline} t */
export function setMarks(t) {
  marks = t.markers;
  source.endSeconds = Math.max(source.endSeconds, t.endSeconds);
  placeMarks();
  syncControls();
}

function placeMarks() {
  if (plot === null) return;
  const strip = $('timeline-marks');
  strip.replaceChildren();
  for (const m of marks) {
    const mark = el('button', 'mark mark-' + m.kind);
    mark.type = 'button';
    mark.dataset['kind'] = m.kind;
    mark.dataset['at'] = String(m.atSeconds);
    const what = KIND_TEXT[/** @type {keyof typeof KIND_TEXT} */ (m.kind)] || m.kind;
    const note = KIND_NOTE[/** @type {keyof typeof KIND_NOTE} */ (m.kind)] || '';
    mark.title = what + (m.queue === null ? '' : ': queue ' + m.queue) + ' at ' + duration(m.atSeconds) + note;
    mark.setAttribute('aria-label', mark.title);
    mark.addEventListener('click', () => setCursor(m.atSeconds));
    strip.appendChild(mark);
  }
  positionMarks();
  setText($('timeline-legend'), marks.length === 0 ? 'no reload, settings change, pause, resume, purge or restart' : countsText());
}

/** Each mark at its instant on the x scale. */
function positionMarks() {
  const strip = document.getElementById('timeline-marks');
  if (plot === null || strip === null) return;
  const u = plot;
  for (const mark of strip.children) {
    const x = u.valToPos(Number(/** @type {HTMLElement} */ (mark).dataset['at']), 'x');
    /** @type {HTMLElement} */ (mark).style.left = (isFinite(x) ? x : -100) + 'px';
  }
}

function countsText() {
  /** @type {Record<string, number>} */
  const n = {};
  for (const m of marks) n[m.kind] = (n[m.kind] || 0) + 1;
  return Object.entries(n).map(([k, v]) => v + ' × ' + (KIND_TEXT[/** @type {keyof typeof KIND_TEXT} */ (k)] || k)).join(' · ');
}

/** Dragging on the chart moves the cursor. @param {uPlot} u */
function dragOn(u) {
  let down = false;
  const move = (/** @type {MouseEvent} */ e) => setCursor(Math.max(0, u.posToVal(e.clientX - u.over.getBoundingClientRect().left, 'x')));
  u.over.addEventListener('mousedown', (e) => {
    if (e.target !== u.over) return; // a mark: its own click
    down = true;
    stop();
    move(e);
  });
  u.over.addEventListener('mousemove', (e) => {
    if (down) move(e);
  });
  window.addEventListener('mouseup', () => (down = false));
}

function step() {
  return source.stepSeconds > 0 ? source.stepSeconds : Math.max(source.endSeconds / 1000, 0.001);
}

/** Where the cursor stands, as seconds (the end when it shows the end or now). */
function position() {
  const at = cursor();
  return at === null ? source.endSeconds : at;
}

function stop() {
  if (playing !== null) clearInterval(playing);
  playing = null;
  setText($('tl-play'), '▶ Play');
}

function play() {
  if (playing !== null) return stop();
  if (position() >= source.endSeconds) setCursor(0);
  setText($('tl-play'), '⏸ Pause');
  const by = Math.max(step(), source.endSeconds / PLAY_STEPS);
  playing = setInterval(() => {
    const next = position() + by;
    setCursor(Math.min(next, source.endSeconds));
    if (next >= source.endSeconds) stop();
  }, PLAY_TICK_MS);
}

/** The slider, the readout and the buttons, from the cursor. */
function syncControls() {
  const slider = /** @type {HTMLInputElement} */ ($('tl-slider'));
  slider.max = String(source.endSeconds);
  slider.step = String(step());
  slider.value = String(position());
  const at = cursor();
  const live = source.mode === 'live';
  setText($('tl-end'), live ? 'Live' : 'End »');
  $('tl-end').title = live ? 'Follow the service now' : 'Go to the end of the log';
  /** @type {HTMLButtonElement} */ ($('tl-end')).disabled = at === null;
  const shown = at === null ? (live ? 'now (live)' : 'the end, ' + duration(source.endSeconds)) : duration(at) + ' after the first event';
  setText($('tl-at'), 'showing ' + shown);
  $('timeline-panel').classList.toggle('past', at !== null);
}

export function initTimeline() {
  const slider = /** @type {HTMLInputElement} */ ($('tl-slider'));
  slider.addEventListener('input', () => {
    stop();
    setCursor(Number(slider.value));
  });
  $('tl-start').addEventListener('click', () => {
    stop();
    setCursor(0);
  });
  $('tl-back').addEventListener('click', () => {
    stop();
    setCursor(Math.max(0, position() - step()));
  });
  $('tl-fwd').addEventListener('click', () => {
    stop();
    setCursor(Math.min(source.endSeconds, position() + step()));
  });
  $('tl-play').addEventListener('click', play);
  $('tl-end').addEventListener('click', () => {
    stop();
    setCursor(null);
  });
  onCursor(() => {
    plot?.redraw(false, false);
    syncControls();
  });
  syncControls();
}

/** Fits the chart to its box (on resize). */
export function fitTimeline() {
  const box = $('timeline');
  if (plot !== null) {
    plot.setSize({ width: Math.max(240, box.clientWidth - 20), height: Math.round(HEIGHT * 0.8) });
    placeMarks();
  }
}
