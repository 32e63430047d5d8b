// @ts-check
/**
 * The dashboard's entry script (a module; index.html loads it, and it imports api.js, dom.js and
 * story.js from /pushq/assets/). Plain JavaScript for the browser, no build step; type-checked
 * by tsc (dashboard/tsconfig.json).
 *
 * Every second it reads `GET /v2/.../queues` (state, rate limits), `GET /pushq/dashboard.json`
 * (live figures) and, for the selected queue, `GET /pushq/queues/Q/tasks`; its buttons send the
 * API's commands `:pause`, `:resume`, `:purge`, `DELETE .../tasks/T`, `POST .../tasks/T:run`.
 *
 * Invariants:
 * - Every text from the server reaches the DOM as text (dom.js); the scripts never assign
 *   `innerHTML` and never build markup from strings.
 * - Rows are keyed (queue name, task name) and updated in place, so a button under the pointer is
 *   not replaced by a refresh between press and release.
 */
import { API, call, queuePath, taskPath } from './api.js';
import { $, cellOf, el, fixed, hideAlert, num, remember, setBadge, setText, showAlert, tbodyOf, when } from './dom.js';
import { closeStory, followTaskList, isOpen, openStory } from './story.js';

/**
 * @typedef {import('./api.js').QueueResource} QueueResource
 * @typedef {import('./api.js').QueueList} QueueList
 * @typedef {import('./api.js').Figures} Figures
 * @typedef {import('./api.js').TaskList} TaskList
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, toggle: HTMLButtonElement }} QueueRow
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement> }} TaskRow
 */

const POLL_MS = 1000;
const TASK_LIMIT = 200;
/** @type {string | null} */
let selected = null;
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;
/** @type {Map<string, QueueRow>} */
const queueRows = new Map();
/** @type {Map<string, TaskRow>} */
const taskRows = new Map();
/** The task list shown now. @type {TaskList | null} */
let lastList = null;

// ---- actions ----

/**
 * @param {string} label
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
function act(label, method, path, body) {
  return call(method, path, body).then(
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

/**
 * @param {string} text
 * @param {string} cls
 * @param {string} title
 * @param {() => unknown} onClick
 */
function button(text, cls, title, onClick) {
  const b = el('button', 'act' + (cls ? ' ' + cls : ''), text);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', (ev) => {
    ev.stopPropagation();
    if (b.disabled) return;
    b.disabled = true;
    Promise.resolve(onClick()).then(() => {
      b.disabled = false;
    });
  });
  return b;
}

// ---- queues ----

const QUEUE_FIELDS = ['state', 'rate', 'tokens', 'inFlight', 'pending', 'dispatching', 'backoff', 'succeeded', 'gaveUp', 'attempts', 'retries', 'recentRate'];

/**
 * @param {string} name
 * @returns {QueueRow}
 */
function queueRow(name) {
  const tr = el('tr');
  tr.dataset['queue'] = name;
  /** @type {Record<string, HTMLTableCellElement>} */
  const cells = {};
  tr.appendChild(el('td', 'l name', name));
  for (const f of QUEUE_FIELDS) {
    const td = el('td', f === 'state' ? 'l' : 'num');
    td.dataset['field'] = f;
    tr.appendChild(td);
    cells[f] = td;
  }
  const actions = el('td', 'l');
  const toggle = button('Pause', '', '', () => {
    const verb = toggle.dataset['verb'];
    return act((verb === 'pause' ? 'Pause ' : 'Resume ') + name, 'POST', queuePath(name) + ':' + verb, {});
  });
  toggle.dataset['verb'] = 'pause';
  const purge = button('Purge', 'danger', 'Delete every task in this queue', () => {
    if (!window.confirm('Purge every task in queue "' + name + '"?')) return;
    return act('Purge ' + name, 'POST', queuePath(name) + ':purge', {});
  });
  actions.appendChild(toggle);
  actions.appendChild(purge);
  tr.appendChild(actions);
  tr.addEventListener('click', () => select(selected === name ? null : name));
  return { tr, cells, toggle };
}

/**
 * @param {QueueList} list
 * @param {Figures} figures
 */
function renderQueues(list, figures) {
  /** @type {Map<string, QueueResource>} */
  const meta = new Map();
  for (const q of list.queues || []) meta.set(q.name.slice(q.name.lastIndexOf('/') + 1), q);
  const body = tbodyOf('queues');
  const seen = new Set();
  figures.queues.forEach((f, i) => {
    seen.add(f.name);
    const row = queueRows.get(f.name) || remember(queueRows, f.name, queueRow(f.name));
    if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    const m = meta.get(f.name) || { name: f.name };
    const state = (m.state || f.state || '').toLowerCase();
    const c = (/** @type {string} */ field) => cellOf(row.cells, field);
    setBadge(c('state'), state);
    const limits = m.rateLimits || {};
    setText(c('rate'), fixed(limits.maxDispatchesPerSecond !== undefined ? limits.maxDispatchesPerSecond : f.ratePerSecond, 2).replace(/[.]?0+$/, '') + '/s');
    c('rate').title = 'max burst ' + num(limits.maxBurstSize);
    setTokens(c('tokens'), f.tokens, f.bucketSize);
    setText(c('inFlight'), f.inFlight + ' / ' + f.maxConcurrent);
    setText(c('pending'), f.tasks.pending);
    setText(c('dispatching'), f.tasks.dispatching);
    setText(c('backoff'), f.tasks.backoff);
    setText(c('succeeded'), f.tasks.succeeded);
    setText(c('gaveUp'), f.tasks.gaveUp);
    c('gaveUp').classList.toggle('bad', f.tasks.gaveUp > 0);
    setText(c('attempts'), f.attempts);
    setText(c('retries'), f.retries);
    setText(c('recentRate'), fixed(f.dispatchRatePerSecond, 1));
    c('recentRate').title = f.dispatchesRecent + ' dispatches in the last ' + figures.recentWindowSeconds + ' s';
    const verb = state === 'running' ? 'pause' : 'resume';
    row.toggle.dataset['verb'] = verb;
    setText(row.toggle, verb === 'pause' ? 'Pause' : 'Resume');
    row.tr.classList.toggle('selected', selected === f.name);
  });
  queueRows.forEach((row, name) => {
    if (!seen.has(name)) {
      row.tr.remove();
      queueRows.delete(name);
    }
  });
  setText($('queue-count'), figures.queues.length + (figures.queues.length === 1 ? ' queue' : ' queues'));
}

/**
 * @param {HTMLTableCellElement} td
 * @param {number | null} tokens
 * @param {number} size
 */
function setTokens(td, tokens, size) {
  if (tokens === null) {
    setText(td, '–');
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

// ---- tasks of the selected queue ----

/**
 * @param {string} queue
 * @param {string} name
 * @returns {TaskRow}
 */
function taskRow(queue, name) {
  const tr = el('tr');
  tr.dataset['task'] = name;
  /** @type {Record<string, HTMLTableCellElement>} */
  const cells = {};
  for (const f of ['name', 'state', 'request', 'scheduleTime', 'dispatchCount', 'responseCount', 'lastStatus']) {
    const td = el('td', f === 'name' || f === 'request' ? 'wrap' : f === 'state' || f === 'scheduleTime' || f === 'lastStatus' ? 'l' : 'num');
    td.dataset['field'] = f;
    tr.appendChild(td);
    cells[f] = td;
  }
  setText(cellOf(cells, 'name'), name);
  const actions = el('td', 'l');
  actions.appendChild(button('Story', '', 'Why did this task run: every attempt, each backoff and how it ended', () => showStory(queue, name)));
  actions.appendChild(button('Run', '', 'Dispatch now (ignores ETA, rate and pause)', () => act('Run ' + name, 'POST', taskPath(queue, name) + ':run', {})));
  actions.appendChild(button('Delete', 'danger', 'Delete this task', () => act('Delete ' + name, 'DELETE', taskPath(queue, name))));
  tr.appendChild(actions);
  tr.addEventListener('click', () => showStory(queue, name));
  return { tr, cells };
}

function clearTasks() {
  taskRows.forEach((row) => row.tr.remove());
  taskRows.clear();
}

/** @param {TaskList | null} list */
function renderTasks(list) {
  const panel = $('tasks-panel');
  if (selected === null || list === null) {
    panel.hidden = true;
    clearTasks();
    return;
  }
  panel.hidden = false;
  setText($('tasks-queue'), list.queue);
  const shown = list.tasks.length;
  setText($('tasks-count'), list.total === shown ? shown + (shown === 1 ? ' task' : ' tasks') : 'first ' + shown + ' of ' + list.total + ' tasks');
  const body = tbodyOf('tasks');
  const seen = new Set();
  list.tasks.forEach((t, i) => {
    seen.add(t.name);
    const row = taskRows.get(t.name) || remember(taskRows, t.name, taskRow(list.queue, t.name));
    if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    const c = (/** @type {string} */ field) => cellOf(row.cells, field);
    setBadge(c('state'), t.state);
    setText(c('request'), t.method + ' ' + t.url);
    setText(c('scheduleTime'), when(t.scheduleTime));
    c('scheduleTime').title = t.scheduleTime;
    setText(c('dispatchCount'), t.dispatchCount);
    setText(c('responseCount'), t.responseCount);
    const status = t.lastStatus !== null ? String(t.lastStatus) : t.lastError !== null ? t.lastError : '–';
    setText(c('lastStatus'), status);
    c('lastStatus').classList.toggle('bad', (t.lastStatus !== null && (t.lastStatus < 200 || t.lastStatus > 299)) || t.lastError !== null);
    row.tr.classList.toggle('selected', isOpen(list.queue, t.name));
  });
  lastList = list;
  followTaskList(list);
  taskRows.forEach((row, name) => {
    if (!seen.has(name)) {
      row.tr.remove();
      taskRows.delete(name);
    }
  });
  $('tasks-empty').hidden = shown > 0;
}

/** @param {string | null} name */
function select(name) {
  if (name !== selected) {
    clearTasks();
    hideStory();
  }
  selected = name;
  queueRows.forEach((row, n) => row.tr.classList.toggle('selected', n === selected));
  if (selected === null) renderTasks(null);
  refresh();
}

/**
 * @param {string} queue
 * @param {string} task
 */
function showStory(queue, task) {
  openStory(queue, task, lastList);
  taskRows.forEach((row, n) => row.tr.classList.toggle('selected', n === task));
}

function hideStory() {
  closeStory();
  taskRows.forEach((row) => row.tr.classList.remove('selected'));
}

// ---- polling ----

function refresh() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  const want = selected;
  const tasks = want === null ? Promise.resolve(null) : call('GET', '/pushq/queues/' + encodeURIComponent(want) + '/tasks?limit=' + TASK_LIMIT);
  return Promise.all([call('GET', API), call('GET', '/pushq/dashboard.json'), tasks])
    .then(
      ([list, figures, taskList]) => {
        renderQueues(list, figures);
        if (want === selected) renderTasks(taskList);
        setText($('updated'), 'updated ' + when(figures.now).replace(/ [(].*$/, ''));
        const pill = $('conn');
        pill.className = 'pill ok';
        setText(pill, 'live');
        hideAlert('poll-error');
      },
      (err) => {
        const pill = $('conn');
        pill.className = 'pill bad';
        setText(pill, 'offline');
        const message = err && err.message ? err.message : String(err);
        // The selected queue may be gone (reload): drop the selection, say why.
        if (want !== null && /NOT_FOUND/.test(message)) {
          showAlert('action-error', 'Queue ' + want + ': ' + message);
          selected = null;
          renderTasks(null);
        } else showAlert('poll-error', 'Refresh failed: ' + message);
      },
    )
    .then(schedule, schedule);
}

/** Whether the auto-refresh box is ticked. */
function autoRefresh() {
  const auto = $('auto');
  return auto instanceof HTMLInputElement && auto.checked;
}

function schedule() {
  if (timer !== null) clearTimeout(timer);
  timer = autoRefresh() ? setTimeout(refresh, POLL_MS) : null;
}

document.querySelectorAll('.alert button').forEach((b) => {
  b.addEventListener('click', () => b.parentElement?.classList.remove('shown'));
});
$('close-tasks').addEventListener('click', () => select(null));
$('close-story').addEventListener('click', hideStory);
$('auto').addEventListener('change', () => (autoRefresh() ? refresh() : schedule()));
setText($('origin'), location.host);
refresh();
