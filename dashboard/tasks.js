// @ts-check
/**
 * The task list: the tasks of one queue or of all, in a state (the live ones by default; the
 * ended ones too: succeeded, gave up, deleted), found by name or name prefix and by payload text,
 * ordered by creation, attempts or wait (`GET /pushq/queues/Q/tasks`, at the cursor). A row opens
 * the task's story; on a live service, following now, a live task can be run or deleted, unless no
 * cluster node owns its queue now (its commands go to the owner): then the row says why instead.
 *
 * Rows are keyed (queue and name) and updated in place, so a button under the pointer is not
 * replaced by a refresh between press and release.
 */
import { call, read, taskPath } from './api.js';
import { atParam, following, source, timeText } from './cursor.js';
import { $, cellOf, el, hideAlert, queueOptions, remember, setBadge, setText, showAlert, tbodyOf } from './dom.js';
import { closeStory, followTaskList, isOpen, openStory, storyTask } from './story.js';
import { ALL, DEFAULT_STATE } from './view.js';

/**
 * @typedef {import('./api.js').TaskList} TaskList
 * @typedef {import('./api.js').TaskItem} TaskItem
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, actions: HTMLTableCellElement, item: TaskItem | null }} TaskRow
 */

export const TASK_LIMIT = 200;
const FIELDS = ['name', 'queue', 'state', 'request', 'scheduleTime', 'dispatchCount', 'responseCount', 'waited', 'lastStatus'];
/** @type {Map<string, TaskRow>} */
const rows = new Map();
/** The list shown now. @type {TaskList | null} */
let shown = null;
let asked = 0;
/** @type {() => void} */
let afterAction = () => {};
/**
 * The queue the list shows (`*`: all), kept here rather than read from its picker: a queue named
 * by the URL is shown before the picker has its option (the queues come with the first figures),
 * and stays an option of the picker while the queue table does not have it (an instant before the
 * queue was configured).
 */
let listQueue = ALL;
/** The queues of the queue table, in order. @type {string[]} */
let knownQueues = [];
/** What the user changed: the URL keeps it (view.js). @type {(how: 'push' | 'replace') => void} */
let changed = () => {};
/** The queues no cluster node owns now (dashboard.json's rows with `owner` null); empty on one node. @type {Set<string>} */
let ownerless = new Set();

/**
 * A queue no cluster node owns now: its commands are carried out by its owner, and without one the
 * API refuses them (QUEUE_OWNER_UNKNOWN, _UNAVAILABLE), so neither its queue row nor its tasks'
 * rows offer them, and each says why in their place (the label and the first sentence of the
 * title are the same in both).
 */
export const NO_OWNER = {
  label: 'no owner to run commands',
  why: 'No node owns this queue right now (it is moving between nodes, or its node cannot be reached).',
};

/**
 * The queues without owner now, from the queue table's read: rows already shown lose (or get back)
 * their Run and Delete at once, since the list of such a queue cannot be read again meanwhile.
 * @param {string[]} names
 */
export function setOwnerless(names) {
  const next = new Set(names);
  if (next.size === ownerless.size && names.every((n) => ownerless.has(n))) return;
  ownerless = next;
  rows.forEach((row) => {
    if (row.item !== null) setActions(row, row.item);
  });
}

/** @param {() => void} fn */
export function onTaskAction(fn) {
  afterAction = fn;
}

const select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id));

/** The queue the list shows (`*` for all). */
export function taskQueue() {
  return listQueue;
}

/** The queues to choose from, in order. @param {string[]} names */
export function setQueues(names) {
  knownQueues = names;
  queueOptions(select('task-queue'), names, listQueue);
}

/** The list's filters: its queue, state, order and search. */
export function taskFilters() {
  return { queue: listQueue, state: select('task-state').value, sort: select('task-sort').value, q: /** @type {HTMLInputElement} */ ($('task-search')).value.trim() };
}

/**
 * Sets the list's filters (from the URL) without reading the list.
 * @param {{ queue: string, state: string, sort: string, q: string }} f
 */
export function setTaskFilters(f) {
  listQueue = f.queue;
  queueOptions(select('task-queue'), knownQueues, listQueue);
  select('task-state').value = f.state;
  select('task-sort').value = f.sort;
  const search = /** @type {HTMLInputElement} */ ($('task-search'));
  if (search.value.trim() !== f.q) search.value = f.q;
}

/**
 * Shows a queue's tasks in a state (the counts of the queue table call this).
 * @param {string} queue
 * @param {string} state
 */
export function showTasks(queue, state) {
  listQueue = queue;
  queueOptions(select('task-queue'), knownQueues, listQueue);
  select('task-state').value = state;
  refreshTasks();
  $('tasks-panel').scrollIntoView({ block: 'nearest' });
}

/**
 * @param {string} label
 * @param {string} method
 * @param {string} path
 */
function act(label, method, path) {
  return call(method, path, method === 'DELETE' ? undefined : {}).then(
    () => {
      hideAlert('action-error');
      afterAction();
    },
    (err) => {
      showAlert('action-error', label + ' failed: ' + err.message);
      afterAction();
    },
  );
}

/**
 * @param {string} text
 * @param {string} cls
 * @param {string} title
 * @param {() => unknown} onClick
 */
export function button(text, cls, title, onClick) {
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

/** @param {string} queue @param {string} name @returns {TaskRow} */
function taskRow(queue, name) {
  const tr = el('tr');
  tr.dataset['task'] = name;
  tr.dataset['queue'] = queue;
  /** @type {Record<string, HTMLTableCellElement>} */
  const cells = {};
  for (const f of FIELDS) {
    const td = el('td', f === 'name' || f === 'request' ? 'wrap' : f === 'dispatchCount' || f === 'responseCount' || f === 'waited' ? 'num' : 'l');
    td.dataset['field'] = f;
    if (f === 'queue' || f === 'request') td.classList.add('wide');
    tr.appendChild(td);
    cells[f] = td;
  }
  setText(cellOf(cells, 'name'), name);
  setText(cellOf(cells, 'queue'), queue);
  const actions = el('td', 'l actions');
  tr.appendChild(actions);
  tr.addEventListener('click', () => {
    open(queue, name);
    changed('push');
  });
  return { tr, cells, actions, item: null };
}

/** @param {TaskRow} row @param {TaskItem} t */
function setActions(row, t) {
  row.item = t;
  const live = following() && (t.state === 'pending' || t.state === 'dispatching' || t.state === 'backoff');
  const unowned = live && ownerless.has(t.queue);
  const want = !live ? 'story' : unowned ? 'story no-owner' : 'story run delete';
  if (row.actions.dataset['set'] === want) return;
  row.actions.dataset['set'] = want;
  row.actions.replaceChildren(button('Story', '', 'Why did this task run: every attempt, what held it, each backoff, how it ended', () => {
    open(t.queue, t.name);
    changed('push');
  }));
  if (unowned) {
    const hold = el('span', 'hold', NO_OWNER.label);
    hold.title = NO_OWNER.why + ' Run and Delete are carried out by its owner: none is offered until a node takes it.';
    row.actions.appendChild(hold);
  } else if (live) {
    row.actions.appendChild(button('Run', '', 'Dispatch now (ignores ETA, rate and pause)', () => act('Run ' + t.name, 'POST', taskPath(t.queue, t.name) + ':run')));
    row.actions.appendChild(button('Delete', 'danger', 'Delete this task', () => act('Delete ' + t.name, 'DELETE', taskPath(t.queue, t.name))));
  }
}

/** @param {string} queue @param {string} name */
function open(queue, name) {
  openStory(queue, name, shown);
  rows.forEach((row) => row.tr.classList.toggle('selected', row.tr.dataset['queue'] === queue && row.tr.dataset['task'] === name));
}

/**
 * Shows the story the URL names (null: none), unless it is shown already.
 * @param {import('./view.js').TaskRef | null} task
 */
export function showStory(task) {
  if (task === null) {
    if (storyTask() !== null) close();
  } else if (!isOpen(task.queue, task.name)) open(task.queue, task.name);
}

function close() {
  closeStory();
  rows.forEach((row) => row.tr.classList.remove('selected'));
}

/** Reads the list again (the cursor moved, a filter changed, or a refresh while following now). */
export function refreshTasks() {
  const ask = ++asked;
  const f = taskFilters();
  return read('/pushq/queues/' + encodeURIComponent(f.queue) + '/tasks', { state: f.state, q: f.q, sort: f.sort, limit: TASK_LIMIT, at: atParam() }).then(
    (/** @type {TaskList} */ list) => {
      if (ask !== asked) return; // a later read is on its way
      hideAlert('tasks-error');
      render(list);
    },
    (err) => {
      if (ask === asked) showAlert('tasks-error', 'Tasks: ' + (err && err.message ? err.message : String(err)));
    },
  );
}

/** @param {TaskList} list */
function render(list) {
  shown = list;
  setText($('tasks-queue'), list.queue === '*' ? 'all queues' : list.queue);
  const n = list.tasks.length;
  const what = list.search === '' ? '' : ' matching “' + list.search + '”';
  setText($('tasks-count'), (list.total === n ? n + (n === 1 ? ' task' : ' tasks') : 'first ' + n + ' of ' + list.total + ' tasks') + what);
  const body = tbodyOf('tasks');
  const seen = new Set();
  list.tasks.forEach((t, i) => {
    // A name is unique among a queue's live tasks only: a name freed (a reset, or its tombstone
    // expired) may be taken again, and then `all` or `ended` lists each task that had it.
    const key = t.queue + '\n' + t.name + '\n' + t.addedAt;
    seen.add(key);
    const row = rows.get(key) || remember(rows, key, taskRow(t.queue, t.name));
    if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    const c = (/** @type {string} */ field) => cellOf(row.cells, field);
    setBadge(c('state'), t.state);
    setText(c('request'), t.method + ' ' + t.url);
    const ended = t.endedAt !== null;
    setText(c('scheduleTime'), ended ? 'ended ' + timeText(t.endedAt) : timeText(t.scheduleTime));
    c('scheduleTime').title = ended ? 'ended ' + t.endedAt : 'scheduled ' + t.scheduleTime;
    setText(c('dispatchCount'), t.dispatchCount);
    setText(c('responseCount'), t.responseCount);
    setText(c('waited'), t.waitedSeconds > 0 ? Math.round(t.waitedSeconds * 1000) / 1000 + ' s' : '—');
    const status = t.lastStatus !== null ? String(t.lastStatus) : t.lastError !== null ? t.lastError : '–';
    setText(c('lastStatus'), status);
    c('lastStatus').classList.toggle('bad', (t.lastStatus !== null && (t.lastStatus < 200 || t.lastStatus > 299)) || t.lastError !== null);
    row.tr.classList.toggle('matched-payload', t.matched === 'payload');
    row.tr.title = t.matched === 'payload' ? 'its payload holds “' + list.search + '”' : '';
    row.tr.classList.toggle('selected', isOpen(t.queue, t.name));
    setActions(row, t);
  });
  rows.forEach((row, key) => {
    if (!seen.has(key)) {
      row.tr.remove();
      rows.delete(key);
    }
  });
  $('tasks-empty').hidden = n > 0;
  setText($('tasks-empty'), list.search !== '' ? 'No task matches.' : list.state === 'live' ? 'No live task' + (source.mode === 'live' ? '' : ' at this instant') + ' (ended ones: pick a state).' : 'No task in this state.');
  followTaskList(list);
}

/**
 * @param {(queue: string | null, state: string) => void} pick selects a queue (null: every queue)
 *   with the list in a state: the list's picker and Reset go through it, as a click on a queue does.
 * @param {(how: 'push' | 'replace') => void} onChange the user changed the view here (a filter, a
 *   story opened or closed): the URL keeps it.
 */
export function initTasks(pick, onChange) {
  changed = onChange;
  $('task-queue').addEventListener('change', () => pick(select('task-queue').value === ALL ? null : select('task-queue').value, select('task-state').value));
  for (const id of ['task-state', 'task-sort']) {
    $(id).addEventListener('change', () => {
      refreshTasks();
      changed('push');
    });
  }
  /** @type {ReturnType<typeof setTimeout> | null} */
  let typing = null;
  $('task-search').addEventListener('input', () => {
    if (typing !== null) clearTimeout(typing);
    typing = setTimeout(() => {
      refreshTasks();
      changed('replace'); // each pause in typing is not a step to go Back to
    }, 250);
  });
  $('close-story').addEventListener('click', () => {
    close();
    changed('push');
  });
  $('close-tasks').addEventListener('click', () => {
    /** @type {HTMLInputElement} */ ($('task-search')).value = '';
    pick(null, DEFAULT_STATE);
  });
}
