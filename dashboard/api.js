// @ts-check
/**
 * The dashboard's calls of pushq: the shapes it reads (docs/serve.md, Dashboard) and one `call`.
 * Bodies are JSON sent as application/json, as the API requires; an answer of 401 (a server with
 * --auth-token whose session ended) reloads the page, which then shows the login form.
 */

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
 *   timedOut: boolean, latencySeconds: number | null, backoff: Backoff | null,
 *   waitedSeconds: number, heldBySeconds: Record<string, number> }} Attempt
 * @typedef {{ attempts: number, retries: number, taskRetryLimit: number | null, ageSeconds: number, taskAgeLimitSeconds: number | null }} GiveUp
 * @typedef {{ reason: string, at: string, giveUp: GiveUp | null }} Ended
 * @typedef {{ queue: string, task: string, state: string, addedAt: string, eta: string, ownRetryOptions: boolean,
 *   attempts: Attempt[], ended: Ended | null, sameName: number }} Story
 * @typedef {{ httpMethod?: string, relativeUri?: string, headers?: Record<string, string>, body?: string }} AppEngineHttpRequest
 */

/** The Cloud Tasks REST API's queues, any project and location. */
export const API = '/v2/projects/-/locations/-/queues';

/**
 * @param {number} status
 * @param {any} body
 */
function errorText(status, body) {
  if (body && body.error) return (body.error.status || 'HTTP ' + status) + ': ' + (body.error.message || '');
  return 'HTTP ' + status;
}

/**
 * A call of the API; JSON in, JSON out. A non-2xx answer rejects with "STATUS: message (CODE)".
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
      if (!res.ok) throw new Error(errorText(res.status, json));
      return json;
    }),
  );
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
