// @ts-check
/**
 * What the page shows besides the cursor, carried by its URL beside the cursor's `?at=`
 * (cursor.js), so that a reload, or a link sent to someone, opens the same view (a queue's tasks
 * that gave up, most attempts first, one task's story at an instant), and Back returns to the view
 * before:
 *
 *   queue=Q             the task list's queue, and the charts' unless `charts` names another (none: every queue)
 *   charts=Q            the charted queue when it is not the list's (`*`: every queue)
 *   state=S, sort=O     the list's state and order (left out at their defaults, live and id)
 *   q=TEXT              the list's search (left out when empty)
 *   task=Q/NAME         the open story: task NAME of queue Q (a queue name holds no `/`)
 *
 * A value the page does not offer (a state or order it has no option for, a name that is no queue
 * name) is left out: its default is shown. A step the user may want to go Back from (a queue
 * selected, a filter, a story opened or closed) is a new history entry; typing in the search box
 * and moving the cursor replace the current one.
 */

/**
 * @typedef {{ queue: string, name: string }} TaskRef
 * @typedef {{ queue: string, charts: string, state: string, sort: string, q: string, task: TaskRef | null }} View
 */

export const ALL = '*';
export const DEFAULT_STATE = 'live';
export const DEFAULT_SORT = 'id';
/** The parameters this module owns (cursor.js owns `at`). */
const KEYS = ['queue', 'charts', 'state', 'sort', 'q', 'task'];
/** A queue name, as queue.yaml takes it (src/config/types.ts, queue_name_pattern; test/server/dashboard-assets.test.ts checks the copy). */
const QUEUE_NAME = /^[A-Za-z0-9-]{1,100}$/;
/** The longest search the read API takes (docs/dashboard.md, `q`; TASK_SEARCH_LENGTH_MAX, checked as QUEUE_NAME is). */
const SEARCH_MAX = 200;

/** @param {string | null} raw */
function queueName(raw) {
  return raw !== null && QUEUE_NAME.test(raw) ? raw : null;
}

/**
 * The view the URL names.
 * @param {string[]} states the list's states the page offers
 * @param {string[]} sorts the orders it offers
 * @returns {View}
 */
export function viewFromUrl(states, sorts) {
  const p = new URLSearchParams(location.search);
  const queue = queueName(p.get('queue')) ?? ALL;
  const charts = p.get('charts');
  const state = p.get('state');
  const sort = p.get('sort');
  const task = p.get('task');
  const slash = task === null ? -1 : task.indexOf('/');
  const taskQueue = task === null || slash < 0 ? null : queueName(task.slice(0, slash));
  const taskName = task === null ? '' : task.slice(slash + 1);
  return {
    queue,
    charts: charts === ALL ? ALL : queueName(charts) ?? queue,
    state: state !== null && states.includes(state) ? state : DEFAULT_STATE,
    sort: sort !== null && sorts.includes(sort) ? sort : DEFAULT_SORT,
    q: (p.get('q') ?? '').trim().slice(0, SEARCH_MAX),
    task: taskQueue === null || taskName === '' ? null : { queue: taskQueue, name: taskName },
  };
}

/**
 * Writes the view into the URL, keeping `at` and anything else in it: a new history entry
 * (`push`) or the current one replaced (`replace`); nothing when the URL already says it.
 * @param {View} view
 * @param {'push' | 'replace'} how
 */
export function saveView(view, how) {
  const url = new URL(location.href);
  for (const k of KEYS) url.searchParams.delete(k);
  if (view.queue !== ALL) url.searchParams.set('queue', view.queue);
  if (view.charts !== view.queue) url.searchParams.set('charts', view.charts);
  if (view.state !== DEFAULT_STATE) url.searchParams.set('state', view.state);
  if (view.sort !== DEFAULT_SORT) url.searchParams.set('sort', view.sort);
  if (view.q !== '') url.searchParams.set('q', view.q);
  if (view.task !== null) url.searchParams.set('task', view.task.queue + '/' + view.task.name);
  const next = url.pathname + url.search + url.hash;
  if (next === location.pathname + location.search + location.hash) return;
  if (how === 'push') history.pushState(null, '', next);
  else history.replaceState(null, '', next);
}
