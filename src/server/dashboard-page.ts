/**
 * The dashboard page (`GET /`, `GET /dashboard`): one self-contained HTML document, inline CSS and
 * vanilla JS, no build step and nothing fetched from elsewhere. It is a TS string module so `tsc`
 * puts it in dist/ with the rest.
 *
 * What it calls: `GET /v2/.../queues` (state, rate limits), `GET /pushq/dashboard.json` (live
 * figures), `GET /pushq/queues/Q/tasks` (the selected queue's tasks), `GET /pushq/queues/Q/tasks/T/story`
 * (the story panel of a clicked task: read again when the task list shows it changed, until it has ended, as each
 * read is a pass over the log), and the existing commands `:pause`, `:resume`, `:purge`,
 * `DELETE .../tasks/T`, `POST .../tasks/T:run`.
 *
 * Invariants:
 * - Every text from the server reaches the DOM through `textContent` (task names, URLs and error
 *   messages carry user input); the script never assigns `innerHTML`.
 * - Rows are keyed (queue name, task name) and updated in place, so a button under the pointer is
 *   not replaced by a refresh between press and release.
 * - The Content-Security-Policy allows exactly this script and this style (by hash), and
 *   connections to this origin only.
 */
import { createHash } from 'node:crypto';

const STYLE = String.raw`
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #667085; --line: #e3e6eb;
  --accent: #2f6fde; --ok: #178a4b; --warn: #b76e00; --bad: #c8323c; --sel: #eaf1fd; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --card: #1c2027; --fg: #e6e8ec; --muted: #9aa3b2; --line: #2d333d;
  --accent: #6d9cf0; --ok: #45c07a; --warn: #e0a440; --bad: #f06a72; --sel: #22304a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header .meta { color: var(--muted); font-size: 12px; }
header .spacer { flex: 1; }
.pill { font-size: 12px; padding: 2px 10px; border-radius: 999px; border: 1px solid var(--line); }
.pill.ok { color: var(--ok); border-color: var(--ok); }
.pill.bad { color: var(--bad); border-color: var(--bad); }
main { padding: 16px 20px; max-width: 1500px; }
.alert { display: none; align-items: flex-start; gap: 10px; margin: 0 0 12px; padding: 10px 12px; border-radius: 6px;
  border: 1px solid var(--bad); color: var(--bad); background: var(--card); white-space: pre-wrap; word-break: break-word; }
.alert.shown { display: flex; }
.alert .text { flex: 1; }
.alert button { border: none; background: none; color: inherit; font-size: 16px; cursor: pointer; padding: 0 4px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 16px; overflow-x: auto; }
section h2 { font-size: 14px; margin: 0; padding: 10px 14px; border-bottom: 1px solid var(--line); display: flex; gap: 12px; align-items: baseline; }
section h2 .sub { color: var(--muted); font-weight: normal; font-size: 12px; }
section h2 .spacer { flex: 1; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 6px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
th.l, td.l { text-align: left; }
tbody tr:last-child td { border-bottom: none; }
#queues tbody tr { cursor: pointer; }
#queues tbody tr:hover { background: var(--sel); }
#queues tbody tr.selected { background: var(--sel); box-shadow: inset 3px 0 0 var(--accent); }
td.num { font-variant-numeric: tabular-nums; }
td.name { font-weight: 600; }
td.wrap { white-space: normal; word-break: break-all; max-width: 420px; text-align: left; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 999px; border: 1px solid currentColor; text-transform: lowercase; }
.s-running, .s-dispatching { color: var(--ok); }
.s-paused, .s-backoff { color: var(--warn); }
.s-disabled { color: var(--muted); }
.s-pending { color: var(--accent); }
.bad { color: var(--bad); }
.dim { color: var(--muted); }
.bar { display: inline-block; width: 48px; height: 6px; border-radius: 3px; background: var(--line); vertical-align: middle; margin-left: 6px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--accent); }
button.act { font: inherit; font-size: 12px; padding: 3px 10px; margin-left: 4px; border-radius: 5px; border: 1px solid var(--line);
  background: var(--card); color: var(--fg); cursor: pointer; }
button.act:hover { border-color: var(--accent); }
button.act.danger { color: var(--bad); }
button.act:disabled { opacity: .5; cursor: default; }
.empty { padding: 14px; color: var(--muted); }
#tasks tbody tr { cursor: pointer; }
#tasks tbody tr:hover { background: var(--sel); }
#tasks tbody tr.selected { background: var(--sel); box-shadow: inset 3px 0 0 var(--accent); }
.story-head { display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 8px 14px; border-bottom: 1px solid var(--line); color: var(--muted); font-size: 12px; }
.story-head b { color: var(--fg); font-weight: 600; }
#story-attempts tr.has-backoff td { border-bottom: none; }
#story-attempts tr.backoff td { text-align: left; white-space: normal; color: var(--muted); font-size: 12px; padding: 0 8px 6px 36px; font-variant-numeric: tabular-nums; }
#story-error { margin: 8px 14px; }
.story-end { padding: 10px 14px; font-weight: 600; border-top: 1px solid var(--line); }
.story-end.ok { color: var(--ok); }
.story-end.open { color: var(--accent); font-weight: normal; }
label.toggle { font-size: 12px; color: var(--muted); display: flex; gap: 4px; align-items: center; }
`;

const SCRIPT = String.raw`
'use strict';
(function () {
  var API = '/v2/projects/-/locations/-/queues';
  var POLL_MS = 1000;
  var TASK_LIMIT = 200;
  var selected = null;
  var timer = null;
  var queueRows = new Map();
  var taskRows = new Map();
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function setText(e, text) {
    var t = text === undefined || text === null ? '' : String(text);
    if (e.textContent !== t) e.textContent = t;
  }

  function showAlert(id, message) {
    var box = $(id);
    setText(box.querySelector('.text'), message);
    box.classList.add('shown');
  }
  function hideAlert(id) { $(id).classList.remove('shown'); }

  function errorText(status, body) {
    if (body && body.error) return (body.error.status || ('HTTP ' + status)) + ': ' + (body.error.message || '');
    return 'HTTP ' + status;
  }

  function call(method, path, body) {
    var init = { method: method, headers: { accept: 'application/json' } };
    if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text === '' ? null : JSON.parse(text); } catch (e) { json = null; }
        if (!res.ok) throw new Error(errorText(res.status, json));
        return json;
      });
    });
  }

  function shortName(full) { var i = full.lastIndexOf('/'); return i < 0 ? full : full.slice(i + 1); }
  function queuePath(q) { return API + '/' + encodeURIComponent(q); }
  function taskPath(q, t) { return queuePath(q) + '/tasks/' + encodeURIComponent(t); }
  function num(x) { return x === null || x === undefined ? '–' : String(x); }
  function fixed(x, d) { return x === null || x === undefined ? '–' : (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d); }

  function clock(d) {
    var pad = function (n, w) { n = String(n); while (n.length < (w || 2)) n = '0' + n; return n; };
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }

  // An absolute time, to the millisecond; the date too when it is not today.
  function stamp(iso) {
    var ms = iso === null || iso === undefined ? NaN : Date.parse(iso);
    if (isNaN(ms)) return iso === null || iso === undefined ? '–' : String(iso);
    var d = new Date(ms);
    return (d.toDateString() === new Date().toDateString() ? '' : d.toLocaleDateString() + ' ') + clock(d);
  }

  function when(iso) {
    var ms = Date.parse(iso);
    if (isNaN(ms)) return iso;
    var d = new Date(ms);
    var text = clock(d);
    var delta = (ms - Date.now()) / 1000;
    if (Math.abs(delta) < 0.5) return text + ' (now)';
    var rel = Math.abs(delta) < 90 ? Math.round(Math.abs(delta)) + ' s' : Math.abs(delta) < 5400 ? Math.round(Math.abs(delta) / 60) + ' min' : Math.round(Math.abs(delta) / 3600) + ' h';
    if (Math.abs(delta) >= 86400) text = d.toLocaleDateString() + ' ' + text;
    return text + (delta > 0 ? ' (in ' + rel + ')' : ' (' + rel + ' ago)');
  }

  // ---- actions ----

  function act(label, method, path, body) {
    return call(method, path, body).then(function () {
      hideAlert('action-error');
      refresh();
    }, function (err) {
      showAlert('action-error', label + ' failed: ' + err.message);
      refresh();
    });
  }

  function button(text, cls, title, onClick) {
    var b = el('button', 'act' + (cls ? ' ' + cls : ''), text);
    b.type = 'button';
    if (title) b.title = title;
    b.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (b.disabled) return;
      b.disabled = true;
      Promise.resolve(onClick()).then(function () { b.disabled = false; });
    });
    return b;
  }

  // ---- queues ----

  var QUEUE_FIELDS = ['state', 'rate', 'tokens', 'inFlight', 'pending', 'dispatching', 'backoff', 'succeeded', 'gaveUp', 'attempts', 'retries', 'recentRate'];

  function queueRow(name) {
    var tr = el('tr');
    tr.dataset.queue = name;
    var cells = {};
    var nameCell = el('td', 'l name', name);
    tr.appendChild(nameCell);
    QUEUE_FIELDS.forEach(function (f) {
      var td = el('td', f === 'state' ? 'l' : 'num');
      td.dataset.field = f;
      tr.appendChild(td);
      cells[f] = td;
    });
    var actions = el('td', 'l');
    var toggle = button('Pause', '', '', function () {
      var verb = toggle.dataset.verb;
      return act((verb === 'pause' ? 'Pause ' : 'Resume ') + name, 'POST', queuePath(name) + ':' + verb, {});
    });
    toggle.dataset.verb = 'pause';
    var purge = button('Purge', 'danger', 'Delete every task in this queue', function () {
      if (!window.confirm('Purge every task in queue "' + name + '"?')) return;
      return act('Purge ' + name, 'POST', queuePath(name) + ':purge', {});
    });
    actions.appendChild(toggle);
    actions.appendChild(purge);
    tr.appendChild(actions);
    tr.addEventListener('click', function () { select(selected === name ? null : name); });
    return { tr: tr, cells: cells, toggle: toggle };
  }

  function renderQueues(list, figures) {
    var meta = new Map();
    (list.queues || []).forEach(function (q) { meta.set(shortName(q.name), q); });
    var body = $('queues').querySelector('tbody');
    var seen = new Set();
    figures.queues.forEach(function (f, i) {
      seen.add(f.name);
      var row = queueRows.get(f.name);
      if (!row) { row = queueRow(f.name); queueRows.set(f.name, row); }
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
      var m = meta.get(f.name) || {};
      var state = (m.state || f.state || '').toLowerCase();
      var c = row.cells;
      var badge = c.state.firstChild;
      if (!badge) { badge = el('span'); c.state.appendChild(badge); }
      badge.className = 'badge s-' + state;
      setText(badge, state);
      var limits = m.rateLimits || {};
      setText(c.rate, fixed(limits.maxDispatchesPerSecond !== undefined ? limits.maxDispatchesPerSecond : f.ratePerSecond, 2).replace(/[.]?0+$/, '') + '/s');
      c.rate.title = 'max burst ' + num(limits.maxBurstSize);
      setTokens(c.tokens, f.tokens, f.bucketSize);
      setText(c.inFlight, f.inFlight + ' / ' + f.maxConcurrent);
      setText(c.pending, f.tasks.pending);
      setText(c.dispatching, f.tasks.dispatching);
      setText(c.backoff, f.tasks.backoff);
      setText(c.succeeded, f.tasks.succeeded);
      setText(c.gaveUp, f.tasks.gaveUp);
      c.gaveUp.classList.toggle('bad', f.tasks.gaveUp > 0);
      setText(c.attempts, f.attempts);
      setText(c.retries, f.retries);
      setText(c.recentRate, fixed(f.dispatchRatePerSecond, 1));
      c.recentRate.title = f.dispatchesRecent + ' dispatches in the last ' + figures.recentWindowSeconds + ' s';
      var verb = state === 'running' ? 'pause' : 'resume';
      row.toggle.dataset.verb = verb;
      setText(row.toggle, verb === 'pause' ? 'Pause' : 'Resume');
      row.tr.classList.toggle('selected', selected === f.name);
    });
    queueRows.forEach(function (row, name) {
      if (!seen.has(name)) { row.tr.remove(); queueRows.delete(name); }
    });
    setText($('queue-count'), figures.queues.length + (figures.queues.length === 1 ? ' queue' : ' queues'));
  }

  function setTokens(td, tokens, size) {
    if (tokens === null) { setText(td, '–'); return; }
    if (!td.firstChild) { td.appendChild(el('span')); var bar = el('span', 'bar'); bar.appendChild(el('span')); td.appendChild(bar); }
    setText(td.firstChild, fixed(tokens, 1) + ' / ' + size);
    td.lastChild.firstChild.style.width = (size > 0 ? Math.min(100, 100 * tokens / size) : 0) + '%';
  }

  // ---- tasks of the selected queue ----

  function taskRow(queue, name) {
    var tr = el('tr');
    tr.dataset.task = name;
    var cells = {};
    ['name', 'state', 'request', 'scheduleTime', 'dispatchCount', 'responseCount', 'lastStatus'].forEach(function (f) {
      var td = el('td', f === 'name' || f === 'request' ? 'wrap' : f === 'state' || f === 'scheduleTime' || f === 'lastStatus' ? 'l' : 'num');
      td.dataset.field = f;
      tr.appendChild(td);
      cells[f] = td;
    });
    setText(cells.name, name);
    var actions = el('td', 'l');
    actions.appendChild(button('Story', '', 'Why did this task run: every attempt, each backoff and how it ended', function () { openStory(queue, name); }));
    actions.appendChild(button('Run', '', 'Dispatch now (ignores ETA, rate and pause)', function () {
      return act('Run ' + name, 'POST', taskPath(queue, name) + ':run', {});
    }));
    actions.appendChild(button('Delete', 'danger', 'Delete this task', function () {
      return act('Delete ' + name, 'DELETE', taskPath(queue, name));
    }));
    tr.appendChild(actions);
    tr.addEventListener('click', function () { openStory(queue, name); });
    return { tr: tr, cells: cells };
  }

  function clearTasks() {
    taskRows.forEach(function (row) { row.tr.remove(); });
    taskRows.clear();
  }

  /** What the task list says of a task, to see whether its story can have changed. */
  function taskVersion(list, name) {
    var t = list === null ? undefined : list.tasks.find(function (x) { return x.name === name; });
    return t ? [t.state, t.dispatchCount, t.responseCount, t.lastStatus, t.lastError].join('/') : 'gone';
  }

  var lastList = null;

  function renderTasks(list) {
    var panel = $('tasks-panel');
    if (selected === null || list === null) { panel.hidden = true; clearTasks(); return; }
    panel.hidden = false;
    setText($('tasks-queue'), list.queue);
    var shown = list.tasks.length;
    setText($('tasks-count'), list.total === shown ? shown + (shown === 1 ? ' task' : ' tasks') : 'first ' + shown + ' of ' + list.total + ' tasks');
    var body = $('tasks').querySelector('tbody');
    var seen = new Set();
    list.tasks.forEach(function (t, i) {
      seen.add(t.name);
      var row = taskRows.get(t.name);
      if (!row) { row = taskRow(list.queue, t.name); taskRows.set(t.name, row); }
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
      var c = row.cells;
      var badge = c.state.firstChild;
      if (!badge) { badge = el('span'); c.state.appendChild(badge); }
      badge.className = 'badge s-' + t.state;
      setText(badge, t.state);
      setText(c.request, t.method + ' ' + t.url);
      setText(c.scheduleTime, when(t.scheduleTime));
      c.scheduleTime.title = t.scheduleTime;
      setText(c.dispatchCount, t.dispatchCount);
      setText(c.responseCount, t.responseCount);
      var status = t.lastStatus !== null ? String(t.lastStatus) : t.lastError !== null ? t.lastError : '–';
      setText(c.lastStatus, status);
      c.lastStatus.classList.toggle('bad', (t.lastStatus !== null && (t.lastStatus < 200 || t.lastStatus > 299)) || t.lastError !== null);
      row.tr.classList.toggle('selected', story !== null && story.queue === list.queue && story.task === t.name);
    });
    // The open story is read again only when its task changed (or left the live list: it ended),
    // not at every refresh: each read is one pass over the log.
    lastList = list;
    if (story !== null && story.queue === list.queue) {
      var version = taskVersion(list, story.task);
      if (version !== story.version) { story.version = version; story.stale = true; }
    }
    taskRows.forEach(function (row, name) {
      if (!seen.has(name)) { row.tr.remove(); taskRows.delete(name); }
    });
    $('tasks-empty').hidden = shown > 0;
  }

  function select(name) {
    if (name !== selected) { clearTasks(); closeStory(); }
    selected = name;
    queueRows.forEach(function (row, n) { row.tr.classList.toggle('selected', n === selected); });
    if (selected === null) renderTasks(null);
    refresh();
  }

  // ---- a task's story: every attempt, each backoff, the end (GET /pushq/queues/Q/tasks/T/story) ----

  var story = null; // { queue, task, json, loading }

  function secs(x) { return x === null || x === undefined ? '–' : String(Math.round(x * 1e6) / 1e6) + ' s'; }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function outcomeText(a) {
    if (a.outcome === 'in_flight') return 'in flight';
    if (a.timedOut) return 'timed out (deadline)';
    var text = a.status !== null ? String(a.status) : 'no response (' + (a.reason || 'connection') + (a.error ? ': ' + a.error : '') + ')';
    return a.outcome === 'orphaned' ? text + ' (the task had been deleted)' : text;
  }

  function backoffText(b) {
    return 'backoff: retry n=' + b.retry + ', min_backoff ' + secs(b.minBackoffSeconds) + ', max_backoff ' + secs(b.maxBackoffSeconds) +
      ', max_doublings ' + b.maxDoublings + ' → doublings ' + b.doublings + ' → delay min(' + secs(b.maxBackoffSeconds) + ', ' +
      secs(b.minBackoffSeconds) + '·2^' + b.doublings + (b.linear === 1 ? '' : '·' + b.linear) + ') = ' + secs(b.delaySeconds) + '; next ETA ' + stamp(b.nextEta);
  }

  function endText(s) {
    var e = s.ended;
    if (e === null) return 'not ended: ' + s.state;
    if (e.reason === 'gave_up' && e.giveUp) {
      var g = e.giveUp;
      var limits = [
        g.taskRetryLimit === null ? 'task_retry_limit unlimited' : 'task_retry_limit ' + g.taskRetryLimit + ' exceeded (' + plural(g.attempts, 'attempt', 'attempts') + ' = ' + plural(g.retries, 'retry', 'retries') + ')',
        g.taskAgeLimitSeconds === null ? 'task_age_limit unlimited' : 'task_age_limit ' + secs(g.taskAgeLimitSeconds) + ' exceeded (age ' + secs(g.ageSeconds) + ' since the first attempt)',
      ];
      return 'gave up at ' + stamp(e.at) + ': ' + limits.join(' and ');
    }
    return e.reason.replace('_', ' ') + ' at ' + stamp(e.at) + (e.reason === 'succeeded' ? ' after ' + plural(s.attempts.length, 'attempt', 'attempts') : '');
  }

  function storyCell(tr, field, cls, text) {
    var td = el('td', cls, text);
    td.dataset.field = field;
    tr.appendChild(td);
    return td;
  }

  function renderStory(s) {
    setText($('story-task'), s.task);
    setText($('story-sub'), 'queue ' + s.queue + ' · ' + plural(s.attempts.length, 'attempt', 'attempts'));
    var head = $('story-head');
    var facts = [['state', s.state], ['added', stamp(s.addedAt)], ['ETA', stamp(s.eta)], ['retry options', s.ownRetryOptions ? 'its own' : 'the queue’s']];
    if (s.sameName > 1) facts.push(['name', 'the latest of ' + s.sameName + ' tasks with it']);
    head.replaceChildren();
    facts.forEach(function (f) {
      var span = el('span', null, f[0] + ' ');
      span.appendChild(el('b', null, f[1]));
      head.appendChild(span);
    });
    var body = $('story-attempts').querySelector('tbody');
    body.replaceChildren();
    s.attempts.forEach(function (a) {
      var tr = el('tr', 'attempt');
      tr.dataset.attempt = String(a.number);
      storyCell(tr, 'number', 'num', a.number + (a.forced ? ' (run)' : ''));
      storyCell(tr, 'dispatchedAt', 'l', stamp(a.dispatchedAt)).title = a.dispatchedAt;
      storyCell(tr, 'retryCount', 'num', a.retryCount);
      storyCell(tr, 'executionCount', 'num', a.executionCount);
      storyCell(tr, 'previousStatus', 'num', a.previousStatus === null ? '—' : a.previousStatus);
      var outcome = storyCell(tr, 'outcome', 'l', outcomeText(a));
      outcome.classList.toggle('bad', a.outcome === 'failed' || (a.status !== null && (a.status < 200 || a.status > 299)));
      storyCell(tr, 'latency', 'num', secs(a.latencySeconds));
      body.appendChild(tr);
      if (a.backoff) {
        tr.classList.add('has-backoff');
        var b = el('tr', 'backoff');
        b.dataset.attempt = String(a.number);
        var td = el('td', null, backoffText(a.backoff));
        td.colSpan = 7;
        b.appendChild(td);
        body.appendChild(b);
      }
    });
    $('story-empty').hidden = s.attempts.length > 0;
    var end = $('story-end');
    setText(end, endText(s));
    end.className = 'story-end ' + (s.ended === null ? 'open' : s.ended.reason === 'succeeded' ? 'ok' : 'bad');
  }

  function fetchStory() {
    var want = story;
    if (want === null || want.loading) return;
    want.loading = true;
    want.stale = false;
    call('GET', '/pushq/queues/' + encodeURIComponent(want.queue) + '/tasks/' + encodeURIComponent(want.task) + '/story').then(function (s) {
      want.loading = false;
      if (story !== want) return;
      hideAlert('story-error');
      var key = JSON.stringify(s);
      if (key === want.key) return;
      want.key = key;
      want.json = s;
      renderStory(s);
    }, function (err) {
      want.loading = false;
      if (story === want) showAlert('story-error', 'Story of ' + want.task + ': ' + (err && err.message ? err.message : String(err)));
    });
  }

  function openStory(queue, task) {
    story = { queue: queue, task: task, json: null, key: null, loading: false, stale: false, version: lastList !== null && lastList.queue === queue ? taskVersion(lastList, task) : null };
    taskRows.forEach(function (row, n) { row.tr.classList.toggle('selected', n === task); });
    setText($('story-task'), task);
    setText($('story-sub'), 'queue ' + queue + ' · reading the log…');
    $('story-head').replaceChildren();
    $('story-attempts').querySelector('tbody').replaceChildren();
    setText($('story-end'), '');
    $('story-empty').hidden = true;
    hideAlert('story-error');
    $('story-panel').hidden = false;
    fetchStory();
  }

  function closeStory() {
    story = null;
    hideAlert('story-error');
    $('story-panel').hidden = true;
    taskRows.forEach(function (row) { row.tr.classList.remove('selected'); });
  }

  // ---- polling ----

  function refresh() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    var want = selected;
    var tasks = want === null ? Promise.resolve(null) : call('GET', '/pushq/queues/' + encodeURIComponent(want) + '/tasks?limit=' + TASK_LIMIT);
    return Promise.all([call('GET', API), call('GET', '/pushq/dashboard.json'), tasks]).then(function (r) {
      renderQueues(r[0], r[1]);
      if (want === selected) renderTasks(r[2]);
      // An open story of a task that has not ended is read again when its task changed.
      if (story !== null && story.stale && (story.json === null || story.json.ended === null)) fetchStory();
      setText($('updated'), 'updated ' + when(r[1].now).replace(/ [(].*$/, ''));
      var pill = $('conn');
      pill.className = 'pill ok';
      setText(pill, 'live');
      hideAlert('poll-error');
    }, function (err) {
      var pill = $('conn');
      pill.className = 'pill bad';
      setText(pill, 'offline');
      var message = err && err.message ? err.message : String(err);
      // The selected queue may be gone (reload): drop the selection, say why.
      if (want !== null && /NOT_FOUND/.test(message)) { showAlert('action-error', 'Queue ' + want + ': ' + message); selected = null; renderTasks(null); }
      else showAlert('poll-error', 'Refresh failed: ' + message);
    }).then(schedule, schedule);
  }

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = $('auto').checked ? setTimeout(refresh, POLL_MS) : null;
  }

  document.querySelectorAll('.alert button').forEach(function (b) {
    b.addEventListener('click', function () { b.parentElement.classList.remove('shown'); });
  });
  $('close-tasks').addEventListener('click', function () { select(null); });
  $('close-story').addEventListener('click', closeStory);
  $('auto').addEventListener('change', function () { if ($('auto').checked) refresh(); else schedule(); });
  setText($('origin'), location.host);
  refresh();
})();
`;

const BODY = String.raw`
<header>
  <h1>pushq</h1>
  <span class="meta" id="origin"></span>
  <span class="meta" id="queue-count"></span>
  <span class="spacer"></span>
  <span class="meta" id="updated"></span>
  <label class="toggle"><input type="checkbox" id="auto" checked> auto-refresh</label>
  <span class="pill" id="conn">connecting</span>
</header>
<main>
  <div class="alert" id="action-error" role="alert"><span class="text"></span><button type="button" title="Dismiss" aria-label="Dismiss">×</button></div>
  <div class="alert" id="poll-error" role="alert"><span class="text"></span><button type="button" title="Dismiss" aria-label="Dismiss">×</button></div>
  <section>
    <h2>Queues <span class="sub">click a queue to see its tasks</span></h2>
    <table id="queues">
      <thead><tr>
        <th class="l">queue</th><th class="l">state</th><th>rate</th><th>tokens / bucket</th><th title="attempts in flight / max_concurrent_requests">in flight</th>
        <th>pending</th><th>dispatching</th><th>backoff</th><th>succeeded</th><th>gave up</th><th>attempts</th><th>retries</th>
        <th title="dispatches per second over the last 10 s">recent /s</th><th class="l">actions</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="tasks-panel" hidden>
    <h2>Tasks in <span id="tasks-queue"></span> <span class="sub" id="tasks-count"></span><span class="spacer"></span>
      <button type="button" class="act" id="close-tasks">Close</button></h2>
    <table id="tasks">
      <thead><tr>
        <th class="l">name</th><th class="l">state</th><th class="l">request</th><th class="l">schedule time</th><th>dispatches</th><th>responses</th>
        <th class="l">last status</th><th class="l">actions</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <div class="empty" id="tasks-empty">No live tasks in this queue (finished tasks are counted in the queue table).</div>
  </section>
  <section id="story-panel" hidden>
    <h2>Story of <span id="story-task"></span> <span class="sub" id="story-sub"></span><span class="spacer"></span>
      <button type="button" class="act" id="close-story">Close</button></h2>
    <div class="alert" id="story-error" role="alert"><span class="text"></span><button type="button" title="Dismiss" aria-label="Dismiss">×</button></div>
    <div class="story-head" id="story-head"></div>
    <table id="story-attempts">
      <thead><tr>
        <th>#</th><th class="l">dispatched at</th><th title="X-AppEngine-TaskRetryCount the worker saw">retry count</th>
        <th title="X-AppEngine-TaskExecutionCount the worker saw">execution count</th>
        <th title="X-AppEngine-TaskPreviousResponse the worker saw">previous response</th><th class="l">outcome</th><th>latency</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <div class="empty" id="story-empty" hidden>No attempt yet.</div>
    <div class="story-end" id="story-end"></div>
  </section>
</main>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page and the headers it is served with. */
export const DASHBOARD_PAGE: { readonly html: string; readonly headers: Readonly<Record<string, string>> } = Object.freeze({
  html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushq dashboard</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`,
  headers: Object.freeze({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  }),
});
