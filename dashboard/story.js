// @ts-check
/**
 * The story panel: one task's attempts, what held it before each (tokens, concurrency, paused,
 * ...), each backoff with its formula's inputs, how it ended (`GET /pushq/queues/Q/tasks/T/story`,
 * as of the cursor), and its request as the worker receives it (method, URL, headers) with its
 * payload decoded: JSON pretty-printed, text, or a hex dump for binary. All of it is the task
 * creator's data, written as text.
 *
 * A story read on a live service is a pass over its log, so an open story is read again only when
 * the task list shows its task changed (a dispatch, a response, a new state, or it left the list:
 * it ended), not once it has ended; and when the cursor moves.
 */
import { call, storyPath } from './api.js';
import { atParam, instantText } from './cursor.js';
import { $, el, hideAlert, plural, secs, setText, showAlert, tbodyOf } from './dom.js';

/**
 * @typedef {import('./api.js').Attempt} Attempt
 * @typedef {import('./api.js').Backoff} Backoff
 * @typedef {import('./api.js').Story} Story
 * @typedef {import('./api.js').TaskList} TaskList
 * @typedef {import('./api.js').RequestView} RequestView
 * @typedef {import('./api.js').PayloadView} PayloadView
 * @typedef {{ queue: string, task: string, json: Story | null, key: string | null, loading: boolean, stale: boolean, version: string | null }} OpenStory
 */

/** @type {OpenStory | null} */
let story = null;


/**
 * What the task list says of a task, to see whether its story can have changed.
 * @param {TaskList | null} list
 * @param {string} queue
 * @param {string} name
 */
export function taskVersion(list, queue, name) {
  const t = list === null ? undefined : namedTask(list, queue, name);
  return t ? [t.state, t.dispatchCount, t.responseCount, t.lastStatus, t.lastError].join('/') : 'gone';
}

/**
 * The task a name stands for in a list, as the story reads it: the latest added with that name (a
 * freed name may have been taken again, and a list of ended tasks holds each that had it).
 * @param {TaskList} list
 * @param {string} queue
 * @param {string} name
 */
function namedTask(list, queue, name) {
  /** @type {import('./api.js').TaskItem | undefined} */
  let latest;
  for (const t of list.tasks) {
    if (t.name === name && t.queue === queue && (latest === undefined || Date.parse(t.addedAt) >= Date.parse(latest.addedAt))) latest = t;
  }
  return latest;
}

/** The task the panel shows, or null. @returns {import('./view.js').TaskRef | null} */
export function storyTask() {
  return story === null ? null : { queue: story.queue, name: story.task };
}

/**
 * Whether the panel shows this task.
 * @param {string} queue
 * @param {string} task
 */
export function isOpen(queue, task) {
  return story !== null && story.queue === queue && story.task === task;
}

/**
 * Opens the panel on a task; `list` is the task list shown now (its version of the task), if any.
 * @param {string} queue
 * @param {string} task
 * @param {TaskList | null} list
 */
export function openStory(queue, task, list) {
  const open = { queue, task, json: null, key: null, loading: false, stale: false, version: list !== null && (list.queue === queue || list.queue === '*') ? taskVersion(list, queue, task) : null };
  story = open;
  setText($('story-task'), task);
  clearStory(open);
  setText($('story-sub'), 'queue ' + queue + ' · reading the log…');
  hideAlert('story-error');
  $('story-panel').hidden = false;
  fetchStory();
}

/**
 * Empties the panel but for its title: the story shown is no longer known (a new task, or none at the cursor).
 * @param {OpenStory} open
 */
function clearStory(open) {
  open.json = null;
  open.key = null;
  setText($('story-sub'), 'queue ' + open.queue);
  $('story-head').replaceChildren();
  $('story-request').replaceChildren();
  $('story-payload').replaceChildren();
  tbodyOf('story-attempts').replaceChildren();
  setText($('story-end'), '');
  $('story-empty').hidden = true;
}

/** The cursor moved: the open story is told as of then. */
export function storyAtCursor() {
  if (story === null) return;
  story.stale = true;
  story.key = null;
  fetchStory();
}

export function closeStory() {
  story = null;
  hideAlert('story-error');
  $('story-panel').hidden = true;
}

/**
 * After each refresh of the task list: the open story is read again when its task changed,
 * until it has ended.
 * @param {TaskList} list
 */
export function followTaskList(list) {
  if (story === null || (story.queue !== list.queue && list.queue !== '*')) return;
  const version = taskVersion(list, story.queue, story.task);
  if (version !== story.version) {
    story.version = version;
    story.stale = true;
  }
  if (story.stale && (story.json === null || story.json.ended === null)) fetchStory();
}

function fetchStory() {
  const want = story;
  if (want === null || want.loading) return;
  want.loading = true;
  want.stale = false;
  const at = atParam();
  call('GET', storyPath(want.queue, want.task) + (at === null ? '' : '?at=' + encodeURIComponent(at))).then(
    (/** @type {Story} */ s) => {
      want.loading = false;
      if (story !== want) return;
      hideAlert('story-error');
      const key = JSON.stringify(s);
      if (key !== want.key) {
        want.key = key;
        want.json = s;
        renderStory(s);
      }
      if (want.stale) fetchStory(); // asked again while this read ran (the cursor moved)
    },
    (err) => {
      want.loading = false;
      if (story !== want) return;
      // The cursor moved while this read ran: its error is of an instant no longer shown.
      if (want.stale) return fetchStory();
      const message = err && err.message ? err.message : String(err);
      // No such task at this instant (a cursor before it was added): nothing of the story read at
      // another instant stays on the panel. (Another failure, a server gone for a moment, leaves it.)
      if (/^(NOT_FOUND|HTTP 404)\b/.test(message)) clearStory(want);
      showAlert('story-error', 'Story of ' + want.task + ': ' + message);
    },
  );
}

// ---- the request and its payload ----

/** @param {RequestView} r */
function renderRequest(r) {
  const lines = [el('div', 'line', r.method + ' ' + r.url + (r.target === null ? '' : '  (target ' + r.target + ')'))];
  for (const [name, value] of r.headers) lines.push(el('div', 'header', name + ': ' + value));
  $('story-request').replaceChildren(...lines);
}

const PAYLOAD_KINDS = { json: 'JSON, pretty-printed', text: 'text', binary: 'binary, as hex', none: '', modelled: '' };

/** @param {PayloadView} p */
function renderPayload(p) {
  const box = $('story-payload');
  box.dataset['kind'] = p.kind;
  if (p.kind === 'none') {
    box.replaceChildren(el('div', 'dim', 'no payload'));
    return;
  }
  if (p.kind === 'modelled') {
    box.replaceChildren(el('div', 'dim', 'payload: ' + plural(p.bytes, 'byte', 'bytes') + ', modelled by the simulation (no content)'));
    return;
  }
  const head = 'payload: ' + plural(p.bytes, 'byte', 'bytes') + ', ' + PAYLOAD_KINDS[p.kind] + (p.truncated ? ' (the first part)' : '');
  box.replaceChildren(el('div', 'dim', head), el('pre', 'payload', p.text));
}

// ---- the attempts and the end ----

/** @param {Attempt} a */
function outcomeText(a) {
  if (a.outcome === 'in_flight') return 'in flight';
  if (a.timedOut) return 'timed out (deadline)';
  const text = a.status !== null ? String(a.status) : 'no response (' + (a.reason || 'connection') + (a.error ? ': ' + a.error : '') + ')';
  return a.outcome === 'orphaned' ? text + ' (the task had been deleted)' : text;
}

/**
 * How long the attempt waited from when it could go, and what held its queue meanwhile.
 * @param {Attempt} a
 */
function waitedText(a) {
  if (!(a.waitedSeconds > 0)) return '—';
  // The server's words for each cause (src/projections/task-story.ts heldByParts): in dev-server
  // mode, what held a task was the app's one task at a time, not max_concurrent_requests.
  const held = a.heldBy.map((h) => h.text + ' ' + secs(h.seconds));
  return secs(a.waitedSeconds) + (held.length === 0 ? '' : ' (' + held.join(', ') + ')');
}

/** @param {Backoff} b */
function backoffText(b) {
  return (
    'backoff: retry n=' + b.retry + ', min_backoff ' + secs(b.minBackoffSeconds) + ', max_backoff ' + secs(b.maxBackoffSeconds) +
    ', max_doublings ' + b.maxDoublings + ' → doublings ' + b.doublings + ' → delay min(' + secs(b.maxBackoffSeconds) + ', ' +
    secs(b.minBackoffSeconds) + '·2^' + b.doublings + (b.linear === 1 ? '' : '·' + b.linear) + ') = ' + secs(b.delaySeconds) + '; next ETA ' + instantText(b.nextEta)
  );
}

/** @param {Story} s */
function endText(s) {
  const e = s.ended;
  if (e === null) return 'not ended: ' + s.state;
  if (e.reason === 'gave_up' && e.giveUp) {
    const g = e.giveUp;
    const limits = [
      g.taskRetryLimit === null ? 'task_retry_limit unlimited' : 'task_retry_limit ' + g.taskRetryLimit + ' exceeded (' + plural(g.attempts, 'attempt', 'attempts') + ' = ' + plural(g.retries, 'retry', 'retries') + ')',
      g.taskAgeLimitSeconds === null ? 'task_age_limit unlimited' : 'task_age_limit ' + secs(g.taskAgeLimitSeconds) + ' exceeded (age ' + secs(g.ageSeconds) + ' since the first attempt)',
    ];
    return 'gave up at ' + instantText(e.at) + ': ' + limits.join(' and ');
  }
  return e.reason.replace('_', ' ') + ' at ' + instantText(e.at) + (e.reason === 'succeeded' ? ' after ' + plural(s.attempts.length, 'attempt', 'attempts') : '');
}

/**
 * @param {HTMLTableRowElement} tr
 * @param {string} field
 * @param {string} cls
 * @param {unknown} text
 */
function storyCell(tr, field, cls, text) {
  const td = el('td', cls, text);
  td.dataset['field'] = field;
  tr.appendChild(td);
  return td;
}

/** @param {Story} s */
function renderStory(s) {
  setText($('story-task'), s.task);
  setText($('story-sub'), 'queue ' + s.queue + ' · ' + plural(s.attempts.length, 'attempt', 'attempts'));
  const head = $('story-head');
  const facts = [['state', s.state === 'failed' ? 'gave up' : s.state], ['added', instantText(s.addedAt)], ['ETA', instantText(s.eta)], ['retry options', s.ownRetryOptions ? 'its own' : 'the queue’s']];
  if (s.sameName > 1) facts.push(['name', 'the latest of ' + s.sameName + ' tasks with it']);
  head.replaceChildren();
  for (const [label, value] of facts) {
    const span = el('span', null, label + ' ');
    span.appendChild(el('b', null, value));
    head.appendChild(span);
  }
  const body = tbodyOf('story-attempts');
  body.replaceChildren();
  for (const a of s.attempts) {
    const tr = el('tr', 'attempt');
    tr.dataset['attempt'] = String(a.number);
    storyCell(tr, 'number', 'num', a.number + (a.forced ? ' (run)' : ''));
    storyCell(tr, 'dispatchedAt', 'l', instantText(a.dispatchedAt)).title = a.dispatchedAt;
    storyCell(tr, 'retryCount', 'num', a.retryCount);
    storyCell(tr, 'executionCount', 'num', a.executionCount);
    storyCell(tr, 'previousStatus', 'num', a.previousStatus === null ? '—' : a.previousStatus);
    const outcome = storyCell(tr, 'outcome', 'l', outcomeText(a));
    outcome.classList.toggle('bad', a.outcome === 'failed' || (a.status !== null && (a.status < 200 || a.status > 299)));
    storyCell(tr, 'latency', 'num', secs(a.latencySeconds));
    storyCell(tr, 'waited', 'l', waitedText(a));
    body.appendChild(tr);
    if (a.backoff) {
      tr.classList.add('has-backoff');
      const b = el('tr', 'backoff');
      b.dataset['attempt'] = String(a.number);
      const td = el('td', null, backoffText(a.backoff));
      td.colSpan = 8;
      b.appendChild(td);
      body.appendChild(b);
    }
  }
  renderRequest(s.request);
  renderPayload(s.payload);
  $('story-empty').hidden = s.attempts.length > 0;
  const end = $('story-end');
  setText(end, endText(s));
  end.className = 'story-end ' + (s.ended === null ? 'open' : s.ended.reason === 'succeeded' ? 'ok' : 'bad');
}
