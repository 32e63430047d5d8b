// @ts-check
/**
 * The dashboard's calls of pushq: the shapes it reads (docs/dashboard.md) and one `call`. The same
 * read API answers for a live service (`pushq serve`) and a recorded log (`pushq replay LOG --ui`);
 * the commands (pause, resume, purge, run, delete) exist on a live service only.
 * Bodies are JSON sent as application/json, as the API requires; an answer of 401 (a server with
 * --auth-token whose session ended) reloads the page, which then shows the login form.
 */

/**
 * @typedef {{ pending: number, dispatching: number, backoff: number, succeeded: number, gaveUp: number, deleted: number }} TaskCounts
 * @typedef {{ name: string, state: string, tokens: number | null, bucketSize: number | null, configHold: 'rate-zero' | null, ratePerSecond: number, inFlight: number,
 *   maxConcurrent: number, tasks: TaskCounts, attempts: number, retries: number, dispatchesRecent: number, dispatchRatePerSecond: number,
 *   owner?: string | null }} QueueFigures
 * @typedef {{ wait_by_cause_task_seconds: Record<string, number>, wait_seconds: Record<string, number | null>,
 *   attempts: number, retries: number, backlog_max: number }} SummaryStats
 * @typedef {{ state: string, tasks_total: number, tasks: Record<string, number>, oldest_eta: number | string | null, stats: SummaryStats | null }} QueueSummary
 * @typedef {{ now: string, recentWindowSeconds: number, devServer: boolean, holdCauses: string[], mode: 'live' | 'recorded', clock: 'virtual' | 'wall', log: string | null,
 *   at: number | null, atSeconds: number | null, events: number, queues: QueueFigures[], summary: Record<string, QueueSummary> }} Figures
 * @typedef {{ atSeconds: number, kind: string, queue: string | null }} Marker
 * @typedef {{ mode: 'live' | 'recorded', clock: 'virtual' | 'wall', log: string | null, first: string | number | null,
 *   endSeconds: number, events: number, markers: Marker[], timeTravel?: boolean, node?: string }} Timeline
 * @typedef {{ t_seconds: number[], added: number[], dispatched: number[], succeeded: number[], failed_attempts: number[], gave_up: number[],
 *   ready: number[], delayed: number[], backoff: number[], in_flight: number[], tokens: (number | null)[] }} Columns
 * @typedef {{ ratePerSecond: number | null, bucketSize: number | null, maxConcurrent: number | null }} Limits
 * @typedef {{ queue: string, columns: Columns, failures: Record<string, number[]>, limits: Limits }} ChartSeries
 * @typedef {{ resolutionSeconds: number, endSeconds: number, series: ChartSeries[] }} SeriesPayload
 * @typedef {{ name: string, queue: string, state: string, method: string, url: string, scheduleTime: string, dispatchCount: number,
 *   responseCount: number, lastStatus: number | null, lastError: string | null, addedAt: string, endedAt: string | null,
 *   waitedSeconds: number, matched: string | null }} TaskItem
 * @typedef {{ queue: string, state: string, search: string, total: number, tasks: TaskItem[] }} TaskList
 * @typedef {{ retry: number, minBackoffSeconds: number, maxBackoffSeconds: number, maxDoublings: number, doublings: number,
 *   linear: number, delaySeconds: number, nextEta: string }} Backoff
 * @typedef {{ number: number, dispatchedAt: string, forced: boolean, retryCount: number, executionCount: number,
 *   previousStatus: number | null, outcome: string, status: number | null, reason: string | null, error: string | null,
 *   timedOut: boolean, latencySeconds: number | null, backoff: Backoff | null,
 *   waitedSeconds: number, heldBySeconds: Record<string, number>, heldBy: { cause: string, text: string, seconds: number }[] }} Attempt
 * @typedef {{ attempts: number, retries: number, taskRetryLimit: number | null, ageSeconds: number, taskAgeLimitSeconds: number | null }} GiveUp
 * @typedef {{ reason: string, at: string, giveUp: GiveUp | null }} Ended
 * @typedef {{ method: string, url: string, headers: [string, string][], target: string | null }} RequestView
 * @typedef {{ kind: 'none' | 'json' | 'text' | 'binary' | 'modelled', bytes: number, text: string, truncated: boolean }} PayloadView
 * @typedef {{ queue: string, task: string, state: string, addedAt: string, eta: string, ownRetryOptions: boolean,
 *   attempts: Attempt[], ended: Ended | null, sameName: number, request: RequestView, payload: PayloadView }} Story
 */

/** The Cloud Tasks REST API's queues, any project and location (commands of a live service). */
export const API = '/v2/projects/-/locations/-/queues';

/**
 * @param {number} status
 * @param {any} body
 */
function errorText(status, body) {
  if (body && body.error) return (body.error.status || 'HTTP ' + status) + ': ' + (body.error.message || '');
  return 'HTTP ' + status;
}

/** A non-2xx answer of the API: "STATUS: message" (errorText), the HTTP status, and the server's message alone. */
export class CallError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   */
  constructor(status, body) {
    super(errorText(status, body));
    this.status = status;
    /** The server's message (e.g. `at: "x" is neither ...`), or the HTTP status when it gave none. */
    this.reason = body && body.error && body.error.message ? String(body.error.message) : 'HTTP ' + status;
  }
}

/**
 * A call of the API; JSON in, JSON out. A non-2xx answer rejects with a CallError, "STATUS: message".
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export function call(method, path, body) {
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
      if (!res.ok) throw new CallError(res.status, json);
      return json;
    }),
  );
}

/**
 * A read of the dashboard's API with its query; empty values are left out.
 * @param {string} path
 * @param {Record<string, string | number | null | undefined>} params
 * @returns {Promise<any>}
 */
export function read(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return call('GET', text === '' ? path : path + '?' + text);
}

/** @param {string} q */
export function queuePath(q) {
  return API + '/' + encodeURIComponent(q);
}

/**
 * @param {string} q
 * @param {string} t
 */
export function taskPath(q, t) {
  return queuePath(q) + '/tasks/' + encodeURIComponent(t);
}

/**
 * The dashboard's own path of a task (its story).
 * @param {string} q
 * @param {string} t
 */
export function storyPath(q, t) {
  return '/pushq/queues/' + encodeURIComponent(q) + '/tasks/' + encodeURIComponent(t) + '/story';
}
