/**
 * The Cloud Tasks v2 resource shapes (Queue, Task) as views of the engine state, and a
 * CreateTask request as a TaskSpec. Pure mapping: no IO, no commands.
 *
 * - Queue: reference §8 / S38 (maxAttempts = task_retry_limit + 1 or -1, maxBurstSize =
 *   bucket_size, maxConcurrentDispatches = the concurrency cap the engine dispatches under, which
 *   the config loader has clamped to [1, 5000]: normalise.ts, the one place that rule lives);
 *   state RUNNING | PAUSED | DISABLED.
 * - Task: dispatchCount = attempts dispatched, responseCount = attempts that got a response;
 *   scheduleTime is the task's current ETA (its retry time while in backoff). CreateTask answers
 *   the task as created (createdTaskResource), not as it is by the time the answer is durable.
 * - Enums may arrive as numbers (`$alt=json;enum-encoding=int`); they are always sent as names,
 *   which the official client reads either way.
 */
import type { QueueRuntime, EngineState } from '../core/state.js';
import { queueStateName, taskName } from '../core/state.js';
import type { HttpMethod } from '../core/task-table.js';
import { TASK_LIMITS, type TaskSpec } from '../core/task-spec.js';
import type { TaskAdded } from '../core/events.js';
import { isFinal, type TaskState } from '../core/task-machine.js';
import { DEADLINE_HTTP_TARGET_US, deadlineFor } from '../core/handler-deadline.js';
import { OAUTH_SCOPE_DEFAULT } from '../core/attempt.js';
import { isValidServiceId, isValidVersionId, serviceOf, versionOf } from '../core/names.js';
import { QUEUE_LIMITS } from '../config/types.js';
import { US_PER_SECOND } from '../core/time.js';
import type { AttemptHistory } from '../projections/attempt-history.js';
import { ApiError, showSent } from './errors.js';
import { HttpTargetPolicy, httpTaskSpec } from './http-target.js';
import { durationSecondsBeyondRead, formatDuration, formatDurationUs, formatTimestamp, parseDuration, parseTimestamp } from './timestamps.js';

export interface Location {
  project: string;
  location: string;
}

export function queuePath(loc: Location, queue: string): string {
  return `projects/${loc.project}/locations/${loc.location}/queues/${queue}`;
}

export function taskPath(loc: Location, queue: string, task: string): string {
  return `${queuePath(loc, queue)}/tasks/${task}`;
}

// ---- Queue ----------------------------------------------------------------------------------------

function routingOf(target: string | null | undefined): { service?: string; version?: string } | undefined {
  if (!target) return undefined;
  const version = versionOf(target);
  return version === undefined ? { service: target } : { version, service: serviceOf(target) };
}

export function queueResource(loc: Location, q: QueueRuntime, purgedAtUs: number | undefined): Record<string, unknown> {
  const c = q.config;
  const r = c.retry_parameters;
  const out: Record<string, unknown> = { name: queuePath(loc, q.name) };
  const routing = routingOf(c.target);
  if (routing) out['appEngineRoutingOverride'] = routing;
  if (c.mode === 'push') {
    out['rateLimits'] = {
      // Per second rounded to 9 decimal places, as gcloud writes a queue.yaml rate into Cloud
      // Tasks (reference §8): 1/m is 0.016666667. The engine dispatches at the exact rate.
      maxDispatchesPerSecond: Math.round((c.rate_per_second ?? 0) * 1e9) / 1e9,
      maxBurstSize: c.bucket_size ?? QUEUE_LIMITS.bucket_size_default,
      // Not clamped again here: queues come only from the loader, which clamped it, and a config
      // built in code skips the loader but is then dispatched with its own value, which is the truth.
      maxConcurrentDispatches: q.maxConcurrent,
    };
    out['retryConfig'] = {
      maxAttempts: r.task_retry_limit === null ? -1 : r.task_retry_limit + 1,
      maxRetryDuration: formatDuration(r.task_age_limit_seconds ?? 0),
      minBackoff: formatDuration(r.min_backoff_seconds),
      maxBackoff: formatDuration(r.max_backoff_seconds),
      maxDoublings: r.max_doublings,
    };
  }
  out['state'] = { running: 'RUNNING', paused: 'PAUSED', disabled: 'DISABLED' }[queueStateName(q)];
  if (purgedAtUs !== undefined) out['purgeTime'] = formatTimestamp(purgedAtUs);
  return out;
}

// ---- Task -----------------------------------------------------------------------------------------

export type TaskView = 'BASIC' | 'FULL';

/** `responseView`: "BASIC" | "FULL" | 1 | 2; default BASIC. */
export function parseView(value: unknown): TaskView {
  if (value === 'FULL' || value === 2 || value === '2') return 'FULL';
  if (value === undefined || value === null || value === 'BASIC' || value === 1 || value === '1' || value === 'VIEW_UNSPECIFIED' || value === 0 || value === '0') return 'BASIC';
  throw new ApiError('INVALID_FIELD', `responseView: ${showSent(value)} is not BASIC or FULL`, 'response_view');
}

/** A RunTask body (`{ responseView }`; none is `{}`) → the view of the answer. */
export function runTaskView(body: unknown): TaskView {
  if (!isRecord(body)) throw new ApiError('INVALID_FIELD', 'the request body must be a JSON object');
  return parseView(body['responseView']);
}

/** gRPC code for an attempt's outcome (google.rpc.Code), as Cloud Tasks reports responseStatus. */
function rpcCodeOfHttp(status: number): number {
  if (status >= 200 && status < 300) return 0;
  switch (status) {
    case 400: return 3;
    case 401: return 16;
    case 403: return 7;
    case 404: return 5;
    case 409: return 10;
    case 429: return 8;
    case 499: return 1;
    case 501: return 12;
    case 503: return 14;
    case 504: return 4;
    default: return status >= 500 ? 13 : 2;
  }
}

export function taskResource(loc: Location, state: EngineState, history: AttemptHistory, id: number, view: TaskView): Record<string, unknown> {
  const tasks = state.tasks;
  const out = taskFields(loc, state, id, view, tasks.eta[id] as number, tasks.addedAt[id] as number, tasks.dispatchCount[id] as number, tasks.executionCount[id] as number);
  const first = tasks.firstAttemptAt[id] as number;
  if (!Number.isNaN(first)) out['firstAttempt'] = { dispatchTime: formatTimestamp(first) };
  const last = history.lastAttempt(id);
  if (last) {
    const attempt: Record<string, unknown> = { scheduleTime: formatTimestamp(last.scheduleTimeUs), dispatchTime: formatTimestamp(last.dispatchTimeUs) };
    if (!Number.isNaN(last.responseTimeUs)) {
      attempt['responseTime'] = formatTimestamp(last.responseTimeUs);
      attempt['responseStatus'] =
        last.status !== null
          ? { code: rpcCodeOfHttp(last.status), message: `HTTP status ${last.status}` }
          : { code: last.reason === 'deadline' ? 4 : 14, message: last.error ?? (last.reason === 'deadline' ? 'deadline-exceeded' : 'no response') };
    }
    out['lastAttempt'] = attempt;
  }
  out['view'] = view;
  return out;
}

/**
 * The task as its create left it: CreateTask's answer, as Cloud Tasks gives it (dispatchCount and
 * responseCount 0, no firstAttempt or lastAttempt, scheduleTime the ETA it was created with).
 * Read right after the add, in the same step, and sent only once the log is durable: on a running
 * queue that step has already dispatched the task, and by the time the fsync is done a fast
 * worker has often answered, none of which the create did. `added` is the create's own event.
 */
export function createdTaskResource(loc: Location, state: EngineState, added: TaskAdded, view: TaskView): Record<string, unknown> {
  const out = taskFields(loc, state, added.id, view, added.eta, added.t, 0, 0);
  out['view'] = view;
  return out;
}

/**
 * A task's headers as Cloud Tasks' map: a name the task gave more than once (the Task Queue API
 * takes a list) holds its values joined with ", ", as the worker reads the lines it receives.
 */
function headerMap(headers: readonly (readonly [string, string])[]): Record<string, string> {
  const byName = new Map<string, string>();
  for (const [k, v] of headers) {
    const before = byName.get(k);
    byName.set(k, before === undefined ? v : `${before}, ${v}`);
  }
  return Object.fromEntries(byName);
}

/** What a Task resource says of a task but its attempts and view, in the resource's field order. */
function taskFields(loc: Location, state: EngineState, id: number, view: TaskView, etaUs: number, addedAtUs: number, dispatchCount: number, responseCount: number): Record<string, unknown> {
  const tasks = state.tasks;
  const q = state.queues[tasks.queue[id] as number] as QueueRuntime;
  const meta = tasks.meta[id];
  const request: Record<string, unknown> = { httpMethod: meta?.method ?? 'POST' };
  const target = q.config.target ?? meta?.target;
  const http = meta?.httpUrl !== undefined;
  if (http) {
    request['url'] = meta.httpUrl;
    if (meta.oidcServiceAccount !== undefined) request['oidcToken'] = { serviceAccountEmail: meta.oidcServiceAccount, audience: meta.oidcAudience ?? meta.httpUrl };
    if (meta.oauthServiceAccount !== undefined) request['oauthToken'] = { serviceAccountEmail: meta.oauthServiceAccount, scope: meta.oauthScope ?? OAUTH_SCOPE_DEFAULT };
  } else {
    const routing = routingOf(meta?.target ?? null);
    if (routing) request['appEngineRouting'] = routing;
    request['relativeUri'] = meta?.url ?? `/_ah/queue/${q.name}`;
  }
  if (meta?.headers) request['headers'] = headerMap(meta.headers);
  if (view === 'FULL' && meta?.body !== undefined) request['body'] = meta.body;
  return {
    name: taskPath(loc, q.name, taskName(state, id)),
    [http ? 'httpRequest' : 'appEngineHttpRequest']: request,
    scheduleTime: formatTimestamp(etaUs),
    // Cloud Tasks: "create_time will be truncated to the nearest second" (scheduleTime keeps its µs).
    createTime: formatTimestamp(Math.floor(addedAtUs / US_PER_SECOND) * US_PER_SECOND),
    // The task's own deadline as given (Cloud Tasks echoes it), else its target's default.
    dispatchDeadline: formatDurationUs(meta?.dispatchDeadlineUs ?? (http ? DEADLINE_HTTP_TARGET_US : deadlineFor(state.settings, target ?? 'default'))),
    dispatchCount,
    responseCount,
  };
}

export function isLive(state: EngineState, id: number): boolean {
  return !isFinal(state.tasks.state[id] as TaskState);
}

// ---- CreateTask -----------------------------------------------------------------------------------

const LOOPBACK_ONLY = HttpTargetPolicy.create();

const METHOD_NUMBERS: readonly (HttpMethod | undefined)[] = [undefined, 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMethod(value: unknown, field = 'task.app_engine_http_request.http_method'): HttpMethod | undefined {
  if (value === undefined || value === null || value === 'HTTP_METHOD_UNSPECIFIED' || value === 0) return undefined;
  if (typeof value === 'number') {
    const m = METHOD_NUMBERS[value];
    if (m) return m;
  } else if (typeof value === 'string' && METHOD_NUMBERS.includes(value as HttpMethod)) {
    return value as HttpMethod;
  }
  throw new ApiError('INVALID_TASK', `httpMethod: ${showSent(value)} is not an HTTP method Cloud Tasks accepts`, field);
}

/**
 * A CreateTask body (`{ task, responseView }`) for `queue` → the TaskSpec the kernel checks.
 * Shape errors are reported here; the App Engine rules (name pattern, size, ETA, headers, URL)
 * are the engine's (checkTaskSpec), so both the simulation and the service apply the same ones.
 */
export function createTaskSpec(loc: Location, queue: string, body: unknown, httpTargets: HttpTargetPolicy = LOOPBACK_ONLY): { spec: TaskSpec; view: TaskView } {
  if (!isRecord(body)) throw new ApiError('INVALID_FIELD', 'the request body must be a JSON object', 'task');
  const view = parseView(body['responseView']);
  const task = body['task'];
  if (!isRecord(task)) throw new ApiError('INVALID_FIELD', 'task is required', 'task');
  const spec: TaskSpec = { queue };
  const httpRequest = task['httpRequest'];
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  // Task.message_type is required (cloudtasks v2 task.proto): Cloud Tasks refuses a task with
  // neither, INVALID_ARGUMENT. App Engine's Task Queue API posts such a task to /_ah/queue/<queue>
  // (S18, kept for /rpc_http), but taken here it would run locally and fail in production.
  if (!given(httpRequest) && !given(task['appEngineHttpRequest'])) {
    throw new ApiError('INVALID_FIELD', 'a task needs appEngineHttpRequest (for your App Engine app; {} is a POST to /) or httpRequest (an HTTP target): Cloud Tasks requires one (Task.message_type), and has no default handler', 'task.message_type');
  }
  if (given(httpRequest)) {
    if (given(task['appEngineHttpRequest'])) throw new ApiError('INVALID_FIELD', 'a task has appEngineHttpRequest or httpRequest, not both', 'task');
    Object.assign(spec, httpTaskSpec(httpRequest, httpTargets, parseMethod));
  }
  const name = task['name'];
  if (name !== undefined && name !== '') {
    if (typeof name !== 'string') throw new ApiError('INVALID_TASK_NAME', 'task.name must be a string', 'task.name');
    const prefix = `${queuePath(loc, queue)}/tasks/`;
    if (!name.startsWith(prefix)) throw new ApiError('INVALID_TASK_NAME', `task.name must be "${prefix}TASK_ID"`, 'task.name');
    spec.name = name.slice(prefix.length);
  }
  if (task['scheduleTime'] !== undefined && task['scheduleTime'] !== null) spec.etaUs = parseTimestamp(task['scheduleTime'], 'task.schedule_time', 'INVALID_ETA');
  const deadline = task['dispatchDeadline'];
  if (deadline !== undefined && deadline !== null) {
    const us = parseDuration(deadline);
    if (us === null) {
      // A Duration of whole seconds too many to read is well formed but out of range: most likely
      // nanoseconds in Seconds (Go's int64(30*time.Second)). Said so, not "not a duration", which
      // pointed away from the mistake; over REST ("30000000000s") as over gRPC.
      const seconds = durationSecondsBeyondRead(deadline);
      if (seconds !== null) {
        const most = (us: number): string => `${us / US_PER_SECOND} s`;
        throw new ApiError('INVALID_DISPATCH_DEADLINE', `task.dispatch_deadline: ${seconds} seconds is above every deadline a task may have (at most ${most(TASK_LIMITS.dispatch_deadline_us_max_cloud_tasks)}, ${most(TASK_LIMITS.dispatch_deadline_us_max_http)} for an HTTP target; nanoseconds given as seconds?)`, 'task.dispatch_deadline');
      }
      throw new ApiError('INVALID_DISPATCH_DEADLINE', `task.dispatchDeadline: ${JSON.stringify(deadline).slice(0, 40)} is not a duration such as "30s" or "1.5s"`, 'task.dispatch_deadline');
    }
    // Cloud Tasks: 0 means the default deadline (Task.dispatch_deadline, v2); only a value that
    // is exactly zero, not one below a microsecond. The range, [15 s, 24 h 15 s], is checked by
    // the engine (checkTaskSpec, cloud-tasks flavour).
    if (us !== 0 || !isExactlyZeroDuration(deadline)) spec.dispatchDeadlineUs = us;
  }
  const r = task['appEngineHttpRequest'];
  if (r !== undefined && r !== null) {
    if (!isRecord(r)) throw new ApiError('INVALID_FIELD', 'appEngineHttpRequest must be an object', 'task.app_engine_http_request');
    const method = parseMethod(r['httpMethod']);
    if (method !== undefined) spec.method = method;
    const uri = r['relativeUri'];
    if (uri !== undefined && uri !== null) {
      if (typeof uri !== 'string') throw new ApiError('INVALID_URL', 'relativeUri must be a string', 'task.app_engine_http_request.relative_uri');
      spec.url = uri === '' ? '/' : uri;
    } else {
      spec.url = '/'; // Cloud Tasks: an empty relative URI is the root path
    }
    const headers = r['headers'];
    if (headers !== undefined && headers !== null) {
      if (!isRecord(headers)) throw new ApiError('INVALID_HEADER', 'headers must be an object of strings', 'task.app_engine_http_request.headers');
      const list: [string, string][] = [];
      for (const [k, v] of Object.entries(headers)) {
        if (typeof v !== 'string') throw new ApiError('INVALID_HEADER', `header ${k} must be a string`, `task.app_engine_http_request.headers[${k}]`);
        list.push([k, v]);
      }
      spec.headers = list;
    }
    const b = r['body'];
    if (b !== undefined && b !== null && b !== '') {
      if (typeof b !== 'string' || !BASE64.test(b)) throw new ApiError('INVALID_FIELD', 'body must be base64', 'task.app_engine_http_request.body');
      spec.body = Buffer.from(b, 'base64');
    }
    const routing = r['appEngineRouting'];
    if (routing !== undefined && routing !== null) {
      const field = 'task.app_engine_http_request.app_engine_routing';
      if (!isRecord(routing)) throw new ApiError('INVALID_TASK', 'appEngineRouting must be an object such as {"service": "worker"}', field);
      // Each field is one id: joined as `version.service` below, a dot inside either would make
      // another target (service "v2.worker" became version v2 of service worker).
      const ids = { service: { valid: isValidServiceId, most: 63 }, version: { valid: isValidVersionId, most: 100 } } as const;
      const text = (key: 'service' | 'version'): string => {
        const v = routing[key];
        if (v === undefined || v === null || v === '') return '';
        if (typeof v !== 'string') throw new ApiError('INVALID_TASK', `appEngineRouting.${key} must be a string`, `${field}.${key}`);
        if (!ids[key].valid(v)) {
          const dot = key === 'service' && v.includes('.') ? ' (a version goes in appEngineRouting.version)' : '';
          throw new ApiError('INVALID_TASK', `appEngineRouting.${key} ${JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}...` : v)} is not a ${key} id: lower-case letters, digits and hyphens, at most ${ids[key].most}, not starting with a hyphen${dot}`, `${field}.${key}`);
        }
        return v;
      };
      const service = text('service');
      const version = text('version');
      if (service !== '' || version !== '') spec.target = version !== '' ? `${version}.${service || 'default'}` : service;
    }
  }
  return { spec, view };
}

/** A Duration that is exactly zero (`"0s"`, `"0.000s"`, `{}`, `{ seconds: 0, nanos: 0 }`). */
function isExactlyZeroDuration(value: unknown): boolean {
  if (typeof value === 'string') return /^0+(\.0+)?s$/.test(value);
  if (!isRecord(value)) return false;
  return Number(value['seconds'] ?? 0) === 0 && Number(value['nanos'] ?? 0) === 0;
}
