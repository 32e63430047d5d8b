// @ts-check
/**
 * The dashboard's script (served as /pushq/assets/dashboard.js; index.html loads it). Plain
 * JavaScript for the browser, no build step; type-checked by tsc (dashboard/tsconfig.json).
 *
 * What it calls: `GET /v2/.../queues` (state, rate limits), `GET /pushq/dashboard.json` (live
 * figures), `GET /pushq/queues/Q/tasks` (the selected queue's tasks), `GET /pushq/queues/Q/tasks/T/story`
 * (the story panel of a clicked task: read again when the task list shows it changed, until it
 * has ended, as each read is a pass over the log), and the commands `:pause`, `:resume`, `:purge`,
 * `DELETE .../tasks/T`, `POST .../tasks/T:run` (JSON bodies, as the API requires).
 *
 * Invariants:
 * - Every text from the server reaches the DOM through `textContent` (task names, URLs, headers
 *   and error messages carry user input); the script never assigns `innerHTML` and never builds
 *   markup from strings.
 * - Rows are keyed (queue name, task name) and updated in place, so a button under the pointer is
 *   not replaced by a refresh between press and release.
 * - The story panel shows the task's request as the worker receives it (method, URL, headers,
 *   payload), read once from the Cloud Tasks API (`GET .../tasks/T?responseView=FULL`) when the
 *   panel opens; these are the task creator's bytes, so they are text nodes only.
 * - An answer of 401 (a server with --auth-token whose session ended) reloads the page, which
 *   then shows the login form.
 */
'use strict';

/**
 * @typedef {{ name: string, state?: string, rateLimits?: { maxDispatchesPerSecond?: number, maxBurstSize?: number } }} QueueResource
 * @typedef {{ queues?: QueueResource[] }} QueueList
 * @typedef {{ pending: number, dispatching: number, backoff: number, succeeded: number, gaveUp: number, deleted: number }} TaskCounts
 * @typedef {{ name: string, state: string, tokens: number | null, bucketSize: number, ratePerSecond: number, inFlight: number,
 *   maxConcurrent: number, tasks: TaskCounts, attempts: number, retries: number, dispatchesRecent: number, dispatchRatePerSecond: number }} QueueFigures
 * @typedef {{ now: string, recentWindowSeconds: number, queues: QueueFigures[] }} Figures
 * @typedef {{ name: string, state: string, method: string, url: string, scheduleTime: string, dispatchCount: number,
 *   responseCount: number, lastStatus: number | null, lastError: string | null }} TaskItem
 * @typedef {{ queue: string, total: number, tasks: TaskItem[] }} TaskList
 * @typedef {{ retry: number, minBackoffSeconds: number, maxBackoffSeconds: number, maxDoublings: number, doublings: number,
 *   linear: number, delaySeconds: number, nextEta: string }} Backoff
 * @typedef {{ number: number, dispatchedAt: string, forced: boolean, retryCount: number, executionCount: number,
 *   previousStatus: number | null, outcome: string, status: number | null, reason: string | null, error: string | null,
 *   timedOut: boolean, latencySeconds: number | null, backoff: Backoff | null }} Attempt
 * @typedef {{ attempts: number, retries: number, taskRetryLimit: number | null, ageSeconds: number, taskAgeLimitSeconds: number | null }} GiveUp
 * @typedef {{ reason: string, at: string, giveUp: GiveUp | null }} Ended
 * @typedef {{ queue: string, task: string, state: string, addedAt: string, eta: string, ownRetryOptions: boolean,
 *   attempts: Attempt[], ended: Ended | null, sameName: number }} Story
 * @typedef {{ httpMethod?: string, relativeUri?: string, headers?: Record<string, string>, body?: string }} AppEngineHttpRequest
 * @typedef {{ queue: string, task: string, json: Story | null, key: string | null, loading: boolean, stale: boolean, version: string | null }} OpenStory
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement>, toggle: HTMLButtonElement }} QueueRow
 * @typedef {{ tr: HTMLTableRowElement, cells: Record<string, HTMLTableCellElement> }} TaskRow
 */

(function () {
  const API = '/v2/projects/-/locations/-/queues';
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

  /**
   * The element with this id (the page has each one; a missing one is a bug of the page).
   * @param {string} id
   * @returns {HTMLElement}
   */
  function $(id) {
    const e = document.getElementById(id);
    if (e === null) throw new Error(`the page has no #${id}`);
    return e;
  }

  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {string | null} [cls]
   * @param {unknown} [text]
   * @returns {HTMLElementTagNameMap[K]}
   */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /**
   * @param {Node} e
   * @param {unknown} text
   */
  function setText(e, text) {
    const t = text === undefined || text === null ? '' : String(text);
    if (e.textContent !== t) e.textContent = t;
  }

  /**
   * @param {string} id
   * @param {string} message
   */
  function showAlert(id, message) {
    const box = $(id);
    const text = box.querySelector('.text');
    if (text !== null) setText(text, message);
    box.classList.add('shown');
  }

  /** @param {string} id */
  function hideAlert(id) {
    $(id).classList.remove('shown');
  }

  /**
   * @param {number} status
   * @param {any} body
   */
  function errorText(status, body) {
    if (body && body.error) return (body.error.status || 'HTTP ' + status) + ': ' + (body.error.message || '');
    return 'HTTP ' + status;
  }

  /**
   * A call of the API; JSON in, JSON out.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  function call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json' };
    /** @type {RequestInit} */
    const init = { method, headers };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    return fetch(path, init).then((res) =>
      res.text().then((text) => {
        let json = null;
        try {
          json = text === '' ? null : JSON.parse(text);
        } catch (e) {
          json = null;
        }
        if (res.status === 401) location.reload(); // the session ended: the page asks for the token
        if (!res.ok) throw new Error(errorText(res.status, json));
        return json;
      }),
    );
  }

  /** @param {string} full */
  function shortName(full) {
    const i = full.lastIndexOf('/');
    return i < 0 ? full : full.slice(i + 1);
  }
  /** @param {string} q */
  function queuePath(q) {
    return API + '/' + encodeURIComponent(q);
  }
  /**
   * @param {string} q
   * @param {string} t
   */
  function taskPath(q, t) {
    return queuePath(q) + '/tasks/' + encodeURIComponent(t);
  }
  /** @param {number | null | undefined} x */
  function num(x) {
    return x === null || x === undefined ? '–' : String(x);
  }
  /**
   * @param {number | null | undefined} x
   * @param {number} d
   */
  function fixed(x, d) {
    return x === null || x === undefined ? '–' : (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d);
  }

  /** @param {Date} d */
  function clock(d) {
    /**
     * @param {number} n
     * @param {number} [w]
     */
    const pad = (n, w) => String(n).padStart(w || 2, '0');
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }

  /**
   * An absolute time, to the millisecond; the date too when it is not today.
   * @param {string | null | undefined} iso
   */
  function stamp(iso) {
    const ms = iso === null || iso === undefined ? NaN : Date.parse(iso);
    if (isNaN(ms)) return iso === null || iso === undefined ? '–' : String(iso);
    const d = new Date(ms);
    return (d.toDateString() === new Date().toDateString() ? '' : d.toLocaleDateString() + ' ') + clock(d);
  }

  /** @param {string} iso */
  function when(iso) {
    const ms = Date.parse(iso);
    if (isNaN(ms)) return iso;
    const d = new Date(ms);
    let text = clock(d);
    const delta = (ms - Date.now()) / 1000;
    if (Math.abs(delta) < 0.5) return text + ' (now)';
    const rel = Math.abs(delta) < 90 ? Math.round(Math.abs(delta)) + ' s' : Math.abs(delta) < 5400 ? Math.round(Math.abs(delta) / 60) + ' min' : Math.round(Math.abs(delta) / 3600) + ' h';
    if (Math.abs(delta) >= 86400) text = d.toLocaleDateString() + ' ' + text;
    return text + (delta > 0 ? ' (in ' + rel + ')' : ' (' + rel + ' ago)');
  }

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
   * @param {Record<string, HTMLTableCellElement>} cells
   * @param {string} field
   * @returns {HTMLTableCellElement}
   */
  function cellOf(cells, field) {
    const c = cells[field];
    if (c === undefined) throw new Error(`no cell ${field}`);
    return c;
  }

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
    for (const q of list.queues || []) meta.set(shortName(q.name), q);
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
   * Keeps `value` under `key` in `map` and returns it.
   * @template T
   * @param {Map<string, T>} map
   * @param {string} key
   * @param {T} value
   */
  function remember(map, key, value) {
    map.set(key, value);
    return value;
  }

  /**
   * @param {string} tableId
   * @returns {HTMLTableSectionElement}
   */
  function tbodyOf(tableId) {
    const body = $(tableId).querySelector('tbody');
    if (body === null) throw new Error(`#${tableId} has no tbody`);
    return body;
  }

  /**
   * A state as a badge in `td` (made on first use).
   * @param {HTMLTableCellElement} td
   * @param {string} state
   */
  function setBadge(td, state) {
    let badge = td.firstElementChild;
    if (!badge) {
      badge = el('span');
      td.appendChild(badge);
    }
    badge.className = 'badge s-' + state;
    setText(badge, state);
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
    actions.appendChild(button('Story', '', 'Why did this task run: every attempt, each backoff and how it ended', () => openStory(queue, name)));
    actions.appendChild(button('Run', '', 'Dispatch now (ignores ETA, rate and pause)', () => act('Run ' + name, 'POST', taskPath(queue, name) + ':run', {})));
    actions.appendChild(button('Delete', 'danger', 'Delete this task', () => act('Delete ' + name, 'DELETE', taskPath(queue, name))));
    tr.appendChild(actions);
    tr.addEventListener('click', () => openStory(queue, name));
    return { tr, cells };
  }

  function clearTasks() {
    taskRows.forEach((row) => row.tr.remove());
    taskRows.clear();
  }

  /**
   * What the task list says of a task, to see whether its story can have changed.
   * @param {TaskList | null} list
   * @param {string} name
   */
  function taskVersion(list, name) {
    const t = list === null ? undefined : list.tasks.find((x) => x.name === name);
    return t ? [t.state, t.dispatchCount, t.responseCount, t.lastStatus, t.lastError].join('/') : 'gone';
  }

  /** @type {TaskList | null} */
  let lastList = null;

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
      row.tr.classList.toggle('selected', story !== null && story.queue === list.queue && story.task === t.name);
    });
    // The open story is read again only when its task changed (or left the live list: it ended),
    // not at every refresh: each read is one pass over the log.
    lastList = list;
    if (story !== null && story.queue === list.queue) {
      const version = taskVersion(list, story.task);
      if (version !== story.version) {
        story.version = version;
        story.stale = true;
      }
    }
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
      closeStory();
    }
    selected = name;
    queueRows.forEach((row, n) => row.tr.classList.toggle('selected', n === selected));
    if (selected === null) renderTasks(null);
    refresh();
  }

  // ---- a task's story: every attempt, each backoff, the end (GET /pushq/queues/Q/tasks/T/story) ----

  /** @type {OpenStory | null} */
  let story = null;

  /** @param {number | null | undefined} x */
  function secs(x) {
    return x === null || x === undefined ? '–' : String(Math.round(x * 1e6) / 1e6) + ' s';
  }
  /**
   * @param {number} n
   * @param {string} one
   * @param {string} many
   */
  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  /** @param {Attempt} a */
  function outcomeText(a) {
    if (a.outcome === 'in_flight') return 'in flight';
    if (a.timedOut) return 'timed out (deadline)';
    const text = a.status !== null ? String(a.status) : 'no response (' + (a.reason || 'connection') + (a.error ? ': ' + a.error : '') + ')';
    return a.outcome === 'orphaned' ? text + ' (the task had been deleted)' : text;
  }

  /** @param {Backoff} b */
  function backoffText(b) {
    return (
      'backoff: retry n=' + b.retry + ', min_backoff ' + secs(b.minBackoffSeconds) + ', max_backoff ' + secs(b.maxBackoffSeconds) +
      ', max_doublings ' + b.maxDoublings + ' → doublings ' + b.doublings + ' → delay min(' + secs(b.maxBackoffSeconds) + ', ' +
      secs(b.minBackoffSeconds) + '·2^' + b.doublings + (b.linear === 1 ? '' : '·' + b.linear) + ') = ' + secs(b.delaySeconds) + '; next ETA ' + stamp(b.nextEta)
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
      return 'gave up at ' + stamp(e.at) + ': ' + limits.join(' and ');
    }
    return e.reason.replace('_', ' ') + ' at ' + stamp(e.at) + (e.reason === 'succeeded' ? ' after ' + plural(s.attempts.length, 'attempt', 'attempts') : '');
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
    const facts = [['state', s.state], ['added', stamp(s.addedAt)], ['ETA', stamp(s.eta)], ['retry options', s.ownRetryOptions ? 'its own' : 'the queue’s']];
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
      storyCell(tr, 'dispatchedAt', 'l', stamp(a.dispatchedAt)).title = a.dispatchedAt;
      storyCell(tr, 'retryCount', 'num', a.retryCount);
      storyCell(tr, 'executionCount', 'num', a.executionCount);
      storyCell(tr, 'previousStatus', 'num', a.previousStatus === null ? '—' : a.previousStatus);
      const outcome = storyCell(tr, 'outcome', 'l', outcomeText(a));
      outcome.classList.toggle('bad', a.outcome === 'failed' || (a.status !== null && (a.status < 200 || a.status > 299)));
      storyCell(tr, 'latency', 'num', secs(a.latencySeconds));
      body.appendChild(tr);
      if (a.backoff) {
        tr.classList.add('has-backoff');
        const b = el('tr', 'backoff');
        b.dataset['attempt'] = String(a.number);
        const td = el('td', null, backoffText(a.backoff));
        td.colSpan = 7;
        b.appendChild(td);
        body.appendChild(b);
      }
    }
    $('story-empty').hidden = s.attempts.length > 0;
    const end = $('story-end');
    setText(end, endText(s));
    end.className = 'story-end ' + (s.ended === null ? 'open' : s.ended.reason === 'succeeded' ? 'ok' : 'bad');
  }

  const PAYLOAD_SHOWN_MAX = 4000;

  /**
   * A payload (base64, as the API gives it) as text when it is UTF-8, else its size.
   * @param {string | undefined} base64
   */
  function payloadText(base64) {
    if (base64 === undefined || base64 === '') return 'no payload';
    const bytes = Uint8Array.from(atob(base64.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return text.length > PAYLOAD_SHOWN_MAX ? text.slice(0, PAYLOAD_SHOWN_MAX) + '… (' + bytes.length + ' bytes)' : text;
    } catch (e) {
      return plural(bytes.length, 'byte', 'bytes') + ', not UTF-8 text';
    }
  }

  /** @param {AppEngineHttpRequest | null} r */
  function renderRequest(r) {
    const box = $('story-request');
    if (r === null) {
      box.replaceChildren(el('div', 'dim', 'request: no longer kept (the task has ended)'));
      return;
    }
    const lines = [el('div', 'line', (r.httpMethod || 'POST') + ' ' + (r.relativeUri || '/'))];
    for (const [name, value] of Object.entries(r.headers || {})) lines.push(el('div', 'header', name + ': ' + value));
    lines.push(el('div', 'payload', payloadText(r.body)));
    box.replaceChildren(...lines);
  }

  /** @param {OpenStory} want */
  function fetchRequest(want) {
    call('GET', taskPath(want.queue, want.task) + '?responseView=FULL').then(
      (/** @type {{ appEngineHttpRequest?: AppEngineHttpRequest }} */ t) => {
        if (story === want) renderRequest(t.appEngineHttpRequest || {});
      },
      () => {
        if (story === want) renderRequest(null);
      },
    );
  }

  function fetchStory() {
    const want = story;
    if (want === null || want.loading) return;
    want.loading = true;
    want.stale = false;
    call('GET', '/pushq/queues/' + encodeURIComponent(want.queue) + '/tasks/' + encodeURIComponent(want.task) + '/story').then(
      (/** @type {Story} */ s) => {
        want.loading = false;
        if (story !== want) return;
        hideAlert('story-error');
        const key = JSON.stringify(s);
        if (key === want.key) return;
        want.key = key;
        want.json = s;
        renderStory(s);
      },
      (err) => {
        want.loading = false;
        if (story === want) showAlert('story-error', 'Story of ' + want.task + ': ' + (err && err.message ? err.message : String(err)));
      },
    );
  }

  /**
   * @param {string} queue
   * @param {string} task
   */
  function openStory(queue, task) {
    story = { queue, task, json: null, key: null, loading: false, stale: false, version: lastList !== null && lastList.queue === queue ? taskVersion(lastList, task) : null };
    taskRows.forEach((row, n) => row.tr.classList.toggle('selected', n === task));
    setText($('story-task'), task);
    setText($('story-sub'), 'queue ' + queue + ' · reading the log…');
    $('story-head').replaceChildren();
    $('story-request').replaceChildren();
    tbodyOf('story-attempts').replaceChildren();
    setText($('story-end'), '');
    $('story-empty').hidden = true;
    hideAlert('story-error');
    $('story-panel').hidden = false;
    fetchStory();
    fetchRequest(story);
  }

  function closeStory() {
    story = null;
    hideAlert('story-error');
    $('story-panel').hidden = true;
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
          // An open story of a task that has not ended is read again when its task changed.
          if (story !== null && story.stale && (story.json === null || story.json.ended === null)) fetchStory();
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

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    const auto = $('auto');
    timer = auto instanceof HTMLInputElement && auto.checked ? setTimeout(refresh, POLL_MS) : null;
  }

  document.querySelectorAll('.alert button').forEach((b) => {
    b.addEventListener('click', () => b.parentElement?.classList.remove('shown'));
  });
  $('close-tasks').addEventListener('click', () => select(null));
  $('close-story').addEventListener('click', closeStory);
  $('auto').addEventListener('change', () => {
    const auto = $('auto');
    if (auto instanceof HTMLInputElement && auto.checked) refresh();
    else schedule();
  });
  setText($('origin'), location.host);
  refresh();
})();
