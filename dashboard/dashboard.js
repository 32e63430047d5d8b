// @ts-check
/**
 * The dashboard's entry script (a module; index.html loads it after uPlot's browser build). Plain
 * JavaScript for the browser, no build step; type-checked by tsc (dashboard/tsconfig.json).
 *
 * One page for a live service (`pushq serve`) and a recorded log (`pushq replay LOG --ui`), told
 * apart by `GET /pushq/timeline.json`. Everything on it shows the instant of the cursor
 * (cursor.js): the queue table (`GET /pushq/dashboard.json?at=`), the task list and the story;
 * the charts and the timeline run over the whole log (pushed live by a live service).
 * Following a live service's now, it reads again every second; at an instant of the past, only
 * when the cursor moves. Commands (pause, resume, purge; run and delete in tasks.js) are offered
 * on a live service following now. The URL carries the cursor (cursor.js) and the rest of the view
 * (view.js: the queue selected, the list's filters, the open story), restored on load and on Back.
 *
 * Invariants:
 * - Every text from the server reaches the DOM as text (dom.js); the scripts never assign
 *   `innerHTML` and never build markup from strings.
 * - Rows are keyed and updated in place, so a button under the pointer is not replaced by a
 *   refresh between press and release.
 */
import { CallError, call, queuePath, read } from './api.js';
import { askedAt, atParam, cursor, keepCursorInUrl, settleAsked, duration, following, onCursor, setCursor, source } from './cursor.js';
import { chartFigures, chartQueue, chartedQueue, fitCharts, onSeries, redrawCursor, setChartQueues, start as startCharts } from './charts.js';
import { $, cellOf, el, fixed, hideAlert, num, remember, setBadge, setText, showAlert, tbodyOf, when } from './dom.js';
import { storyAtCursor, storyTask } from './story.js';
import { drawTimeline, fitTimeline, initTimeline, setMarks } from './timeline.js';
import { NO_OWNER, button, initTasks, onTaskAction, refreshTasks, setOwnerless, setQueues, setTaskFilters, showStory, showTasks, taskFilters, taskQueue } from './tasks.js';
import { saveView, viewFromUrl } from './view.js';

/**
 * @typedef {import('./api.js').Figures} Figures
 * @typedef {import('./api.js').QueueFigures} QueueFigures
 * @typedef {import('./api.js').Timeline} Timeline
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, toggle: HTMLButtonElement, purge: HTMLButtonElement, hold: HTMLElement, owner: HTMLElement, pick: HTMLButtonElement }} QueueRow
 */

const POLL_MS = 1000;
/** Markers and the span are read again every this many polls of a live service. */
const TIMELINE_EVERY = 5;
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;
let polls = 0;
let running = false;
let again = false;
/** @type {Map<string, QueueRow>} */
const queueRows = new Map();

// ---- actions ----

/**
 * @param {string} label
 * @param {string} method
 * @param {string} path
 */
function act(label, method, path) {
  return call(method, path, {}).then(
    () => {
      hideAlert('action-error');
      refresh();
    },
    (err) => {
      showAlert('action-error', label + ' failed: ' + err.message);
      refresh();
    },
  );
}

// ---- queues ----

const QUEUE_FIELDS = ['state', 'rate', 'tokens', 'inFlight', 'pending', 'dispatching', 'backoff', 'succeeded', 'gaveUp', 'deleted', 'attempts', 'retries', 'recentRate'];
/**
 * A queue its configuration keeps from running (dashboard.json's `configHold`): Resume cannot start
 * it (the API refuses it, QUEUE_NOT_RESUMABLE), so the row says why instead of offering Resume.
 */
const HOLD_TEXT = {
  'rate-zero': { label: 'rate 0 in queue.yaml', title: 'Paused by its configuration: queue.yaml gives it rate 0. Resume cannot start it: give it a rate above 0 and reload.' },
};
/** A queue no cluster node owns now (dashboard.json's `owner` null): no command, and why (tasks.js, NO_OWNER). */
const NO_OWNER_TEXT = {
  label: NO_OWNER.label,
  title: NO_OWNER.why + ' Pause, Resume and Purge are carried out by its owner: none is offered until a node takes it.',
};
/** Count columns, and the task list state each opens. */
const COUNT_STATES = { pending: 'pending', dispatching: 'dispatching', backoff: 'backoff', succeeded: 'succeeded', gaveUp: 'failed', deleted: 'deleted' };

/**
 * @param {string} name
 * @returns {QueueRow}
 */
function queueRow(name) {
  const tr = el('tr');
  tr.dataset['queue'] = name;
  /** @type {Record<string, HTMLTableCellElement>} */
  const cells = {};
  const nameCell = el('td', 'l name');
  // The name is a button so that a keyboard reaches what a click on the row does (select the
  // queue: its charts and its tasks); its click bubbles to the row's handler below.
  const pick = el('button', 'pick', name);
  pick.type = 'button';
  pick.title = 'Show the charts and tasks of ' + name + ' (again: every queue)';
  pick.setAttribute('aria-pressed', 'false');
  nameCell.appendChild(pick);
  // On a cluster node: which node owns the queue (empty on one node).
  const owner = el('span', 'owner');
  nameCell.appendChild(owner);
  tr.appendChild(nameCell);
  const actions = el('td', 'l actions now-only');
  tr.appendChild(actions);
  for (const f of QUEUE_FIELDS) {
    const td = el('td', f === 'state' ? 'l' : 'num');
    td.dataset['field'] = f;
    if (f === 'attempts' || f === 'retries' || f === 'recentRate' || f === 'dispatching') td.classList.add('wide');
    const state = /** @type {Record<string, string>} */ (COUNT_STATES)[f];
    if (state !== undefined) {
      // A count opens the list of those tasks.
      const b = el('button', 'count');
      b.type = 'button';
      b.title = 'List the ' + (f === 'gaveUp' ? 'tasks that gave up' : f + ' tasks') + ' of ' + name;
      b.addEventListener('click', (ev) => {
        ev.stopPropagation();
        select(name, state);
      });
      td.appendChild(b);
    }
    tr.appendChild(td);
    cells[f] = td;
  }
  const toggle = button('Pause', '', '', () => {
    const verb = toggle.dataset['verb'];
    return act((verb === 'pause' ? 'Pause ' : 'Resume ') + name, 'POST', queuePath(name) + ':' + verb);
  });
  toggle.dataset['verb'] = 'pause';
  const hold = el('span', 'hold');
  const purge = button('Purge', 'danger', 'Delete every task in this queue', () => {
    if (!window.confirm('Purge every task in queue "' + name + '"?')) return;
    return act('Purge ' + name, 'POST', queuePath(name) + ':purge');
  });
  // A recorded log is read-only: no command at all.
  if (source.mode === 'live') {
    actions.appendChild(hold);
    actions.appendChild(toggle);
    actions.appendChild(purge);
  }
  tr.addEventListener('click', () => select(selectedQueue() === name ? null : name, 'live'));
  return { tr, cells, toggle, purge, hold, owner, pick };
}

/**
 * @param {HTMLTableCellElement} td
 * @param {unknown} value
 */
function setCount(td, value) {
  const b = td.firstElementChild;
  setText(b === null ? td : b, value);
}

/** @param {Figures} figures */
function renderQueues(figures) {
  const body = tbodyOf('queues');
  const seen = new Set();
  figures.queues.forEach((f, i) => {
    seen.add(f.name);
    const row = queueRows.get(f.name) || remember(queueRows, f.name, queueRow(f.name));
    if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    const c = (/** @type {string} */ field) => cellOf(row.cells, field);
    // Dev-server mode records a pause and reads it (the API's PAUSED), but does not apply it.
    const pauseIgnored = figures.devServer && f.state === 'paused';
    setBadge(c('state'), f.state, pauseIgnored ? DEV_SERVER_PAUSE.badge : undefined);
    c('state').title = pauseIgnored ? DEV_SERVER_PAUSE.badgeTitle : '';
    setRate(c('rate'), f, figures.devServer);
    setTokens(c('tokens'), figures.devServer ? DEV_SERVER_TOKENS : f.tokens, f.bucketSize);
    setInFlight(c('inFlight'), f, figures.devServer);
    for (const k of Object.keys(COUNT_STATES)) setCount(c(k), f.tasks[/** @type {keyof import('./api.js').TaskCounts} */ (k)]);
    c('gaveUp').classList.toggle('bad', f.tasks.gaveUp > 0);
    setText(c('attempts'), f.attempts);
    setText(c('retries'), f.retries);
    setText(c('recentRate'), fixed(f.dispatchRatePerSecond, 1));
    c('recentRate').title = f.dispatchesRecent + ' dispatches in the ' + figures.recentWindowSeconds + ' s before the instant shown';
    const verb = f.state === 'running' ? 'pause' : 'resume';
    row.toggle.dataset['verb'] = verb;
    setText(row.toggle, verb === 'pause' ? 'Pause' : 'Resume');
    row.toggle.title = pauseIgnored ? DEV_SERVER_PAUSE.resumeTitle : '';
    const unowned = f.owner === null;
    const hold = unowned ? NO_OWNER_TEXT : f.configHold !== null ? HOLD_TEXT[f.configHold] : figures.devServer && verb === 'pause' ? DEV_SERVER_PAUSE.hold : null;
    row.toggle.hidden = hold !== null;
    row.purge.hidden = unowned;
    setText(row.hold, hold === null ? '' : hold.label);
    row.hold.title = hold === null ? '' : hold.title;
    markSelected(row, f.name, selectedQueue());
    if (f.owner !== undefined) {
      setText(row.owner, f.owner === null ? 'no owner now' : 'on ' + f.owner);
      row.owner.title = f.owner === null ? NO_OWNER.why : 'Owned by cluster node ' + f.owner;
      row.tr.classList.toggle('unowned', f.owner === null);
    }
  });
  queueRows.forEach((row, name) => {
    if (!seen.has(name)) {
      row.tr.remove();
      queueRows.delete(name);
    }
  });
  setText($('queue-count'), figures.queues.length + (figures.queues.length === 1 ? ' queue' : ' queues'));
  const names = figures.queues.map((q) => q.name);
  setQueues(names);
  setOwnerless(figures.queues.filter((q) => q.owner === null).map((q) => q.name));
  setChartQueues(names);
}

/**
 * What dev-server mode leaves out of a queue's figures (docs/serve.md, Dev-server mode): one task at
 * a time for the whole app, in ETA order, whatever each queue's rate, bucket_size and
 * max_concurrent_requests say. The queue table shows "—" for them, the configured values in the
 * title; the charts say so too (charts.js DEV_SERVER_CHARTS).
 */
const DEV_SERVER_TITLES = {
  rate: (/** @type {string} */ rate, /** @type {string} */ burst) => 'Dev-server mode: rate is not applied (queue.yaml: ' + rate + ', max burst ' + burst + '); one task at a time for the whole app',
  inFlight: (/** @type {number} */ cap) => 'Dev-server mode: max_concurrent_requests (' + cap + ') is not applied; one task at a time for the whole app',
};

/**
 * A pause in dev-server mode (docs/serve.md, Dev-server mode): as dev_appserver did, the mode records
 * it (the API answers it, and the queue reads PAUSED until a resume) and dispatches the queue all
 * the same. So the row offers no Pause, whose click would seem to work and hold nothing, but says
 * why; a queue that reads paused (through the API, or from before a restart with --dev-server)
 * says the pause is not applied, and offers Resume to clear it.
 */
const DEV_SERVER_PAUSE = {
  hold: {
    label: 'pause not applied',
    title: 'Dev-server mode ignores a pause, as dev_appserver did: a paused queue is dispatched as any other (one task at a time for the whole app). ' +
      'The API still records a pause (the queue then reads PAUSED); it holds tasks only if this data directory is started again without --dev-server.',
  },
  badge: 'paused (not applied)',
  badgeTitle: 'Paused by a command, but dev-server mode does not apply a pause: this queue is dispatched as any other. Resume clears the pause.',
  resumeTitle: 'Clear the pause (not applied in dev-server mode: the queue is dispatched either way)',
};

/** The configured rate, or in dev-server mode "—" (not applied). @param {HTMLTableCellElement} td @param {QueueFigures} f @param {boolean} devServer */
function setRate(td, f, devServer) {
  const rate = fixed(f.ratePerSecond, 2).replace(/[.]?0+$/, '') + '/s';
  setText(td, devServer ? '—' : rate);
  td.title = devServer ? DEV_SERVER_TITLES.rate(rate, num(f.bucketSize)) : 'max burst ' + num(f.bucketSize);
}

/** Attempts in flight against max_concurrent_requests, or in dev-server mode alone (no cap of the queue's applies). @param {HTMLTableCellElement} td @param {QueueFigures} f @param {boolean} devServer */
function setInFlight(td, f, devServer) {
  setText(td, devServer ? f.inFlight + ' / —' : f.inFlight + ' / ' + f.maxConcurrent);
  td.title = devServer ? DEV_SERVER_TITLES.inFlight(f.maxConcurrent) : '';
}

/** The tokens of a queue in dev-server mode: none apply (docs/serve.md, Dev-server mode). */
const DEV_SERVER_TOKENS = 'dev-server';

/**
 * @param {HTMLTableCellElement} td
 * @param {number | null | 'dev-server'} tokens
 * @param {number | null} size
 */
function setTokens(td, tokens, size) {
  td.title = tokens === DEV_SERVER_TOKENS ? 'Dev-server mode: rate and bucket_size are not applied (one task at a time for the whole app), so tokens do not apply' : '';
  if (tokens === DEV_SERVER_TOKENS) {
    setText(td, '—');
    return;
  }
  // Rate 0 fills no bucket: no tokens, against the configured size.
  if (tokens === null || size === null) {
    setText(td, size === null ? '–' : '– / ' + size);
    return;
  }
  if (td.children.length !== 2) {
    td.replaceChildren(el('span'), el('span', 'bar'));
    td.children[1]?.appendChild(el('span'));
  }
  const [text, bar] = td.children;
  if (text) setText(text, fixed(tokens, 1) + ' / ' + size);
  const fill = bar?.firstElementChild;
  if (fill instanceof HTMLElement) fill.style.width = (size > 0 ? Math.min(100, (100 * tokens) / size) : 0) + '%';
}

/**
 * The queue selected: the one whose tasks are listed and whose charts are drawn, or null (every
 * queue, or the list and the charts on different queues). Derived from the two, never kept apart
 * from them, so that whatever moves either (a row, a count, the list's picker or Reset, the charts'
 * picker) leaves no row pressed for a queue the page no longer shows.
 * @returns {string | null}
 */
function selectedQueue() {
  const q = taskQueue();
  return q !== '*' && chartedQueue() === q ? q : null;
}

/**
 * @param {QueueRow} row
 * @param {string} name
 * @param {string | null} selected
 */
function markSelected(row, name, selected) {
  row.tr.classList.toggle('selected', name === selected);
  row.pick.setAttribute('aria-pressed', String(name === selected));
}

/** Every row pressed or not, as the selection now is. */
function markRows() {
  const selected = selectedQueue();
  queueRows.forEach((row, n) => markSelected(row, n, selected));
}

/**
 * Selects a queue (its tasks in `state`, its charts), or none (every queue).
 * @param {string | null} name
 * @param {string} state
 */
function select(name, state) {
  showTasks(name ?? '*', state);
  chartQueue(name ?? '*');
  markRows();
  keepView('push');
}

// ---- the view in the URL (view.js) ----

/** What the page shows now, as the URL carries it. @returns {import('./view.js').View} */
function currentView() {
  return { ...taskFilters(), charts: chartedQueue(), task: storyTask() };
}

/** The user changed the view: the URL keeps it (a new history entry, or the current one replaced). @param {'push' | 'replace'} how */
function keepView(how) {
  saveView(currentView(), how);
}

/** The values a picker offers. @param {string} id */
function optionsOf(id) {
  return Array.from(/** @type {HTMLSelectElement} */ ($(id)).options).map((o) => o.value);
}

/** The view the URL names, shown (on load, and after Back or Forward); the task list is not read here. */
function showUrlView() {
  const v = viewFromUrl(optionsOf('task-state'), optionsOf('task-sort'));
  setTaskFilters(v);
  chartQueue(v.charts);
  markRows();
  showStory(v.task);
}

// ---- reading ----

/** @param {Timeline} t */
function sourceFrom(t) {
  source.mode = t.mode;
  source.clock = t.clock;
  source.log = t.log;
  source.endSeconds = t.endSeconds;
  source.timeTravel = t.timeTravel !== false;
  document.body.dataset['mode'] = t.mode;
  document.body.dataset['timeTravel'] = source.timeTravel ? 'on' : 'off';
  markFollowing();
  setText($('origin'), t.mode === 'recorded' ? 'recorded log ' + (t.log ?? '') : location.host + (t.node === undefined ? '' : ' · cluster node ' + t.node));
  first = t.first;
  spanText(t.events);
  setMarks(t);
}

/** Queue commands (.now-only) show only while the page follows a live service's now: at an instant of the past a row's Pause or Resume would follow that instant's state, not the queue's. */
function markFollowing() {
  document.body.dataset['following'] = following() ? 'yes' : 'no';
}

/** The log's first event, as the timeline gives it. @type {string | number | null} */
let first = null;

/** @param {number} events */
function spanText(events) {
  const from = first === null ? '' : ' from ' + (typeof first === 'number' ? first + ' s' : first);
  setText($('span'), (events === 1 ? '1 event' : events + ' events') + ' over ' + duration(source.endSeconds) + from);
}

function refresh() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (running) {
    again = true;
    return Promise.resolve();
  }
  running = true;
  const timeline = source.mode === 'live' && polls++ % TIMELINE_EVERY === 0 ? read('/pushq/timeline.json', {}).then(sourceFrom) : Promise.resolve();
  return Promise.all([read('/pushq/dashboard.json', { at: atParam() }), timeline, refreshTasks()])
    .then(
      ([figures]) => {
        renderQueues(figures);
        chartFigures(figures);
        $('queues').dataset['at'] = figures.atSeconds === null ? '' : String(figures.atSeconds);
        if (following()) {
          if (figures.atSeconds !== null) source.endSeconds = Math.max(source.endSeconds, figures.atSeconds);
          spanText(figures.events);
        }
        setText($('updated'), source.mode === 'recorded' || !following() ? 'at ' + duration(figures.atSeconds ?? 0) : 'updated ' + when(figures.now).replace(/ [(].*$/, ''));
        const pill = $('conn');
        pill.className = 'pill ok';
        setText(pill, source.mode === 'recorded' ? 'recorded' : following() ? 'live' : 'past');
        hideAlert('poll-error');
      },
      (err) => {
        const pill = $('conn');
        pill.className = 'pill bad';
        setText(pill, 'offline');
        showAlert('poll-error', 'Refresh failed: ' + (err && err.message ? err.message : String(err)));
      },
    )
    .then(done, done);
}

function done() {
  running = false;
  if (again) {
    again = false;
    refresh();
    return;
  }
  schedule();
}

/** Whether the auto-refresh box is ticked. */
function autoRefresh() {
  const auto = $('auto');
  return auto instanceof HTMLInputElement && auto.checked;
}

function schedule() {
  if (timer !== null) clearTimeout(timer);
  timer = following() && autoRefresh() ? setTimeout(refresh, POLL_MS) : null;
}

document.querySelectorAll('.alert button').forEach((b) => {
  b.addEventListener('click', () => b.parentElement?.classList.remove('shown'));
});
$('auto').addEventListener('change', () => (autoRefresh() ? refresh() : schedule()));
$('chart-queue').addEventListener('change', () => {
  chartQueue(/** @type {HTMLSelectElement} */ ($('chart-queue')).value);
  markRows();
  keepView('push');
});
for (const id of ['charts-interval', 'charts-paused']) $(id).addEventListener('change', () => startCharts());
onTaskAction(() => refresh());
onSeries((payload) => drawTimeline(payload));
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    fitCharts();
    fitTimeline();
  }, 100);
});

/** The first read of the source, tried again after a failure: this long first, doubled up to the longest. */
const BOOT_RETRY_MS = 1000;
const BOOT_RETRY_MAX_MS = 10_000;
let bootTries = 0;

/**
 * Reads the source (timeline.json), has the server read a link's `at` that is not plain seconds
 * (settleLinkAt), and starts the page on it. A failure (the server restarting, a
 * proxy's error) is said and the read tried again until it answers: the page cannot show anything
 * before it knows its source, and a user who opened it would otherwise have to reload it by hand.
 */
function boot() {
  read('/pushq/timeline.json', {})
    .then((/** @type {Timeline} */ t) => {
      sourceFrom(t);
      return settleLinkAt().then(() => t);
    })
    .then(started, (err) => {
      const wait = Math.min(BOOT_RETRY_MAX_MS, BOOT_RETRY_MS * 2 ** bootTries++);
      const pill = $('conn');
      pill.className = 'pill bad';
      setText(pill, 'offline');
      showAlert('poll-error', 'The dashboard cannot read its source: ' + (err && err.message ? err.message : String(err)) + ' (trying again in ' + wait / 1000 + ' s)');
      setTimeout(boot, wait);
    });
}

/**
 * A link's `at` that is not plain seconds (an RFC 3339 instant as the API and the logs show times,
 * or a value to refuse), or plain seconds past the source's end: the server reads it, as it reads every `?at=` (one parser), and its
 * answer's `atSeconds` is the cursor, the URL rewritten in seconds. A refusal (400) is said,
 * naming `at` and what it takes, and the page shows now (or the log's end) with `at` left out of
 * the URL. So is a past the server cannot read (500: its log damaged or gone under it, DATA_LOSS):
 * asking again does not mend it, and a page that waited for it would never show even now, which
 * the server still serves. Any other failure (no answer, a proxy's or a node's 502-504) is the
 * source's (boot tries again).
 * @returns {Promise<void>}
 */
function settleLinkAt() {
  const asked = askedAt();
  if (asked === null || !source.timeTravel) return Promise.resolve(); // (now only: started says so)
  return read('/pushq/dashboard.json', { at: asked }).then(
    (/** @type {Figures} */ figures) => settleAsked(figures.atSeconds),
    (err) => {
      if (!(err instanceof CallError) || (err.status !== 400 && err.status !== 500)) throw err;
      settleAsked(null);
      const instead = source.mode === 'recorded' ? "the log's end" : 'now';
      if (err.status === 500) {
        showAlert('at-error', 'The link\'s at=' + JSON.stringify(asked.slice(0, 60)) + ' cannot be shown: the server cannot read its past (' + err.reason + '). Showing ' + instead + '.');
        return;
      }
      const takes =
        source.clock === 'wall'
          ? "seconds since the log's first event (at=12.5) or an ISO 8601 instant with its zone (at=2026-11-23T12:00:00Z)"
          : "seconds since the log's first event (at=12.5)";
      showAlert('at-error', 'The link\'s at=' + JSON.stringify(asked.slice(0, 60)) + ' names no instant of this log (' + err.reason + '). at takes ' + takes + '. Showing ' + instead + '.');
    },
  );
}

/** @param {Timeline} t */
function started(t) {
  hideAlert('poll-error');
  polls = 1;
  // A source that shows now only (timeline.json's timeTravel false): a shared URL's instant is
  // dropped, and the page says why. (Every pushq source travels in time today, cluster nodes too.)
  if (!source.timeTravel && (cursor() !== null || askedAt() !== null)) {
    settleAsked(null);
    // (Not the poll's alert, which the next successful read hides.)
    showAlert('at-error', 'This server shows now only, not an instant of the past (?at= is not served).');
  }
  // A live source's now as timeline.json gave it is the cursor's bound (an instant the server took
  // a moment later may lie a little past it). Plain seconds past the span were the server's to
  // read, as any link's `at` (settleLinkAt, askedAt).
  const at = cursor();
  if (at !== null && at > source.endSeconds) setCursor(at);
  // The URL says the instant shown, as the cursor writes it (`?at=12.50` is `?at=12.5`, `?at=0.0000001` is `?at=0`).
  keepCursorInUrl();
  // The cursor as the link left it (an instant read by the server, settled after sourceFrom said whether the page follows now).
  markFollowing();
  initTimeline();
  // The list's own picker and Reset select as a row does: its charts with it, its row pressed.
  initTasks(select, keepView);
  // A reload or a shared link: the queue, the list's filters, the story it names (the cursor is
  // cursor.js's, already read).
  showUrlView();
  onCursor(() => {
    markFollowing();
    redrawCursor();
    storyAtCursor();
    refresh();
  });
  startCharts();
  refresh();
  // Back and Forward: the view of the entry, at the instant shown now (cursor.js, keepCursorInUrl).
  window.addEventListener('popstate', () => {
    keepCursorInUrl();
    showUrlView();
    refreshTasks();
  });
}

boot();
