/**
 * What a caller asks for when adding a task, and the App Engine rules it must meet
 * (reference §3, S2, S18, S20–S24). `checkTaskSpec` is pure: it returns the normalised request
 * or throws a TaskValidationError naming the field; it never looks at engine state (names,
 * tombstones and storage are checked in decide.ts).
 */
import { RETRY_DEFAULTS, type RetryParameters } from './queue-config.js';
import { TaskValidationError } from './errors.js';
import { isValidTarget } from './names.js';
import type { TaskOptions } from './events.js';
import type { HttpMethod } from './task-table.js';
import { US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND, type Micros } from './time.js';

export interface TaskSpec {
  /** Default `default`. */
  queue?: string;
  /** `[A-Za-z0-9_-]{1,500}`; generated when absent. */
  name?: string;
  /** Relative URL; default `/_ah/queue/<queue>`. */
  url?: string;
  /** Default POST. */
  method?: HttpMethod;
  headers?: Record<string, string> | [string, string][];
  /** The payload (POST and PUT only). A string is sent as UTF-8. */
  body?: Uint8Array | string;
  /** A modelled payload of this many bytes (simulation), instead of `body`. */
  bodyBytes?: number;
  /** Delay from now; exclusive with `etaUs`. */
  countdownUs?: Micros;
  /** Absolute time in the engine's clock; may be in the past (runs at once). */
  etaUs?: Micros;
  /** Replaces the queue's retry parameters as a whole; unset fields take the system defaults (S15). */
  retry?: Partial<RetryParameters>;
  /** App Engine service (`service` or `version.service`). A queue's own target overrides it (S37). */
  target?: string;
  /**
   * The handler deadline of each attempt of this task (Cloud Tasks `dispatch_deadline`, Java
   * `TaskOptions.dispatchDeadline`). Unset: the target's scaling deadline (S34), or 10 minutes
   * for an HTTP target. See TASK_LIMITS for the range.
   */
  dispatchDeadlineUs?: Micros;
  /**
   * An HTTP target (Cloud Tasks `httpRequest.url`, `cloud-tasks` flavour only): the absolute
   * http(s) URL the task is sent to, instead of a path on an App Engine service. Exclusive with
   * `url` and `target`.
   */
  httpUrl?: string;
  /** An HTTP target's OIDC token (`oidcToken`): an ID token naming the service account; `aud` the audience, else the URL. */
  oidcToken?: { serviceAccountEmail: string; audience?: string };
  /** An HTTP target's OAuth token (`oauthToken`): an access token for the service account and scope. */
  oauthToken?: { serviceAccountEmail: string; scope?: string };
}

/**
 * Which client rules apply. The legacy Task Queue SDKs refuse a POST URL with a query string
 * (S24); Cloud Tasks accepts one, so the REST API checks with `cloud-tasks`. Cloud Tasks also
 * moves a past scheduleTime to now, where the Task Queue SDKs keep the past ETA.
 */
export type TaskApiFlavour = 'taskqueue' | 'cloud-tasks';

/** A request that passed the rules: what its TaskAdded carries. */
export interface CheckedTask {
  queue: string;
  eta: Micros;
  size: number;
  /** Everything that is not a default, as the event carries it; undefined when nothing is. */
  options: TaskOptions | undefined;
}

export const TASK_LIMITS = {
  name_pattern: /^[A-Za-z0-9_-]{1,500}$/,
  size_bytes_max: 102_400,
  eta_ahead_us_max: 30 * US_PER_DAY,
  batch_tasks_max: 100,
  url_length_max: 2083,
  // Per-task dispatch deadline. Java TaskOptions: [15 s, 24 h] (reference §3.2, [J-TO]); Cloud
  // Tasks: [15 s, 24 h 15 s] (reference §4 "Deadlines", [CT-T]). Each API flavour gets its own.
  dispatch_deadline_us_min: 15 * US_PER_SECOND,
  dispatch_deadline_us_max_taskqueue: 24 * US_PER_HOUR,
  dispatch_deadline_us_max_cloud_tasks: 24 * US_PER_HOUR + 15 * US_PER_SECOND,
  // HTTP targets: [15 s, 30 min] (Cloud Tasks Task.dispatch_deadline).
  dispatch_deadline_us_max_http: 30 * US_PER_MINUTE,
} as const;

/** The Task Queue API's methods (TaskQueueAddRequest, reference §3.1); Cloud Tasks adds PATCH and OPTIONS (§8). */
const METHODS: Readonly<Record<TaskApiFlavour, ReadonlySet<string>>> = {
  taskqueue: new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE']),
  'cloud-tasks': new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']),
};
/** Both APIs send a payload only with POST and PUT (reference §3.2, §4; Cloud Tasks `body`); an HTTP target also with PATCH. */
const METHODS_WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT']);
const HTTP_TARGET_METHODS_WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

const DEFAULT_URL_PREFIX = '/_ah/queue/';

// How a field is named in errors: an HTTP target's as such (`httpRequest.headers.X`). Two
// functions made once, not a closure per checked task.
const httpRequestField = (name: string): string => `httpRequest.${name}`;
const plainField = (name: string): string => name;

export function defaultTaskUrl(queue: string): string {
  return DEFAULT_URL_PREFIX + queue;
}

function invalid(field: string, message: string, index: number | undefined, code: 'INVALID_TASK' | 'INVALID_TASK_NAME' | 'INVALID_ETA' | 'INVALID_URL' | 'INVALID_HEADER' | 'TASK_TOO_LARGE' | 'INVALID_RETRY_OPTIONS' | 'INVALID_DISPATCH_DEADLINE' = 'INVALID_TASK'): never {
  throw new TaskValidationError(code, `${field}: ${message}`, index === undefined ? { field } : { field, index });
}

/**
 * A `..` segment in the path, spelt plainly or percent-encoded (`%2e%2e`, `.%2E`, ...): a worker or
 * proxy that normalises the path would resolve it above the target's base path.
 */
function hasDotDotSegment(url: string): boolean {
  // Checked on every add: most URLs have neither a dot nor a percent sign, and need no split.
  if (!url.includes('.') && !url.includes('%')) return false;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.split('/').some((segment) => segment.replace(/%2e/gi, '.') === '..');
}

/**
 * The X-AppEngine-* headers the Task Queue API's own client libraries put on a task (reference
 * §3.2, §4): the namespace it was added in, the app's default namespace, and FailFast. The
 * `taskqueue` flavour accepts and dispatches them; Cloud Tasks refuses every X-AppEngine-* header.
 */
const TASKQUEUE_CLIENT_HEADERS: ReadonlySet<string> = new Set(['x-appengine-current-namespace', 'x-appengine-default-namespace', 'x-appengine-failfast']);

/** Headers about the message's framing and the connection: the sender's, never a task's. */
const CONNECTION_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The name pattern as the refusal shows it: the regex without its anchors. */
const NAME_PATTERN_TEXT = TASK_LIMITS.name_pattern.source.slice(1, -1);

/** The refusal of a batch over `batch_tasks_max`, one text for the engine and the App Engine API. */
export function tooManyTasksMessage(count: number): string {
  return `a batch may hold at most ${TASK_LIMITS.batch_tasks_max} tasks; got ${count}`;
}

/** The queue a spec names: `default` when it names none. */
export function specQueue(spec: TaskSpec): string {
  return spec.queue ?? 'default';
}

export function checkTaskSpec(spec: TaskSpec, now: Micros, flavour: TaskApiFlavour = 'taskqueue', index?: number): CheckedTask {
  const queue = specQueue(spec);
  if (spec.name !== undefined && !TASK_LIMITS.name_pattern.test(spec.name)) {
    invalid('name', `"${truncate(spec.name)}" must match ${NAME_PATTERN_TEXT}`, index, 'INVALID_TASK_NAME');
  }
  const method = spec.method ?? 'POST';
  const methods = METHODS[flavour];
  // An HTTP target's fields are named as such (`httpRequest.headers.X`), so the API can say which request is at fault.
  const http = spec.httpUrl !== undefined;
  const f = http ? httpRequestField : plainField;
  if (!methods.has(method)) invalid(f('method'), `"${method}" is not one of ${[...methods].join(', ')}`, index);
  if (http) checkHttpTarget(spec, flavour, index);
  else if (spec.oidcToken !== undefined || spec.oauthToken !== undefined) invalid('httpRequest.url', 'an OIDC or OAuth token is for an HTTP target (httpUrl); an App Engine task has none', index, 'INVALID_URL');

  // ---- URL (reference §3.3; Cloud Tasks relativeUri) ----
  const url = spec.url;
  if (url !== undefined) {
    if (!url.startsWith('/')) invalid('url', `"${truncate(url)}" must be a path starting with "/"`, index, 'INVALID_URL');
    if (url.startsWith('//') || url.includes('\\')) invalid('url', `"${truncate(url)}" would leave the target (scheme-relative or backslash)`, index, 'INVALID_URL');
    if (url.includes('#')) invalid('url', 'must not contain a fragment (#)', index, 'INVALID_URL');
    if (hasDotDotSegment(url)) invalid('url', `"${truncate(url)}" would leave the target (a ".." path segment)`, index, 'INVALID_URL');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0020\u007f]/.test(url)) invalid('url', 'must not contain spaces or control characters', index, 'INVALID_URL');
    // A URI is ASCII (RFC 3986); an HTTP client refuses to send anything else.
    if (/[^\u0021-\u007e]/.test(url)) invalid('url', 'must be ASCII: percent-encode other characters (as UTF-8, e.g. %C3%A9 for é)', index, 'INVALID_URL');
    if (url.length > TASK_LIMITS.url_length_max) invalid('url', `is ${url.length} characters, above the limit of ${TASK_LIMITS.url_length_max}`, index, 'INVALID_URL');
    if (flavour === 'taskqueue' && method === 'POST' && url.includes('?')) {
      invalid('url', 'a POST task URL may not carry a query string (put the parameters in the payload)', index);
    }
  }

  // ---- headers ----
  let headers: [string, string][] | undefined;
  if (spec.headers !== undefined) {
    headers = Array.isArray(spec.headers) ? spec.headers.map(([k, v]) => [k, v]) : Object.entries(spec.headers);
    // Cloud Tasks' headers are a map: "repeated headers are not supported" (target.proto). Its keys
    // differ only in case when a name is given twice (content-type and Content-Type), which would
    // reach the worker as two headers of one name; the Task Queue API's list may repeat a name.
    const spelled = new Map<string, string>();
    for (const [k, v] of headers) {
      const lower = k.toLowerCase();
      const field = f(`headers.${k}`);
      const before = spelled.get(lower);
      if (flavour === 'cloud-tasks' && before !== undefined) {
        invalid(field, `is the header ${before} again, spelled differently (header names ignore case): give it once, joining values with commas`, index, 'INVALID_HEADER');
      }
      spelled.set(lower, k);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) invalid(field, 'is not a valid HTTP header name', index, 'INVALID_HEADER');
      if (/[\r\n\0]/.test(v)) invalid(field, 'value contains a line break or NUL', index, 'INVALID_HEADER');
      // HTTP field values: visible characters, spaces and tabs, bytes 0x80-0xFF as obs-text (RFC 9110 §5.5).
      // eslint-disable-next-line no-control-regex
      if (/[^\t\u0020-\u007e\u0080-\u00ff]/.test(v)) invalid(field, 'value has a control character or a character beyond Latin-1; encode it (percent- or base64-encoding)', index, 'INVALID_HEADER');
      if (CONNECTION_HEADERS.has(lower)) {
        invalid(field, 'is set by the HTTP client that sends the task, not by the task (framing and connection headers: Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, Expect, TE, Trailer, Proxy-Connection)', index, 'INVALID_HEADER');
      }
      const clientHeader = flavour === 'taskqueue' && TASKQUEUE_CLIENT_HEADERS.has(lower);
      if (lower === 'host' || (lower.startsWith('x-appengine-') && !clientHeader) || lower.startsWith('x-google-') || (http && lower.startsWith('x-cloudtasks-'))) {
        invalid(field, `is set by the queue, not by the task (Host, X-AppEngine-*, X-Google-*${http ? ', X-CloudTasks-*' : ''} are reserved)`, index, 'INVALID_HEADER');
      }
      if (lower === 'authorization' && (spec.oidcToken !== undefined || spec.oauthToken !== undefined)) {
        invalid(field, 'is set from the task\'s oidcToken or oauthToken; give one or the other', index, 'INVALID_HEADER');
      }
    }
    if (headers.length === 0) headers = undefined;
  }

  // ---- payload ----
  let body: string | undefined;
  let payloadBytes = 0;
  if (spec.body !== undefined && spec.bodyBytes !== undefined) invalid('body', 'give body or bodyBytes, not both', index);
  if (spec.body !== undefined) {
    const bytes = typeof spec.body === 'string' ? Buffer.from(spec.body, 'utf8') : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
    payloadBytes = bytes.length;
    body = bytes.toString('base64');
  }
  if (spec.bodyBytes !== undefined) {
    if (!Number.isInteger(spec.bodyBytes) || spec.bodyBytes < 0) invalid('bodyBytes', 'must be a whole number of bytes, 0 or more', index);
    payloadBytes = spec.bodyBytes;
  }
  if (payloadBytes > 0 && !(http ? HTTP_TARGET_METHODS_WITH_BODY : METHODS_WITH_BODY).has(method)) invalid(f('body'), `a ${method} task cannot carry a payload`, index);

  // ---- ETA ----
  if (spec.countdownUs !== undefined && spec.etaUs !== undefined) invalid('eta', 'countdown and eta are exclusive; give one', index);
  if (spec.countdownUs !== undefined && !(spec.countdownUs >= 0)) invalid('countdown', 'must be 0 or more', index);
  const given = Math.round(spec.etaUs ?? now + (spec.countdownUs ?? 0));
  if (!Number.isFinite(given)) invalid('eta', 'is not a finite time', index, 'INVALID_ETA');
  // Cloud Tasks sets a past scheduleTime to now; the Task Queue SDKs keep a past ETA as given.
  const eta = flavour === 'cloud-tasks' && given < now ? now : given;
  if (eta > now + TASK_LIMITS.eta_ahead_us_max) invalid('eta', 'is more than 30 days ahead', index, 'INVALID_ETA');

  // ---- target ----
  if (spec.target !== undefined && !isValidTarget(spec.target)) {
    invalid('target', `"${truncate(spec.target)}" is not "service" or "version.service"`, index);
  }

  // ---- dispatch deadline (reference §3.2 Java, §4 Deadlines Cloud Tasks) ----
  const deadline = spec.dispatchDeadlineUs;
  if (deadline !== undefined) {
    const min = TASK_LIMITS.dispatch_deadline_us_min;
    const max = http ? TASK_LIMITS.dispatch_deadline_us_max_http : flavour === 'cloud-tasks' ? TASK_LIMITS.dispatch_deadline_us_max_cloud_tasks : TASK_LIMITS.dispatch_deadline_us_max_taskqueue;
    if (typeof deadline !== 'number' || !Number.isSafeInteger(deadline)) invalid('dispatchDeadline', 'must be a whole number of microseconds', index, 'INVALID_DISPATCH_DEADLINE');
    if (deadline < min || deadline > max) {
      invalid('dispatchDeadline', `${deadline / US_PER_SECOND} s is outside [${min / US_PER_SECOND} s, ${max / US_PER_SECOND} s]`, index, 'INVALID_DISPATCH_DEADLINE');
    }
  }

  // ---- size (Python SDK formula, reference §3.2) ----
  // Queue names are ASCII ([A-Za-z0-9-]), so the default URL's length is its byte length.
  let size = method.length + payloadBytes + (spec.httpUrl !== undefined ? spec.httpUrl.length : url === undefined ? DEFAULT_URL_PREFIX.length + queue.length : utf8Length(url));
  // A header in the bytes sent: each character is one byte on the wire (names are tokens, values
  // were refused above beyond Latin-1), so its length, not its UTF-8 length, which counted a value's
  // bytes 0x80-0xFF twice (an App Engine app's UTF-8 "é", C3 A9, as 4).
  for (const [k, v] of headers ?? []) size += k.length + v.length + 4;
  if (size > TASK_LIMITS.size_bytes_max) invalid(f('body'), `the task is ${size} bytes, above the limit of ${TASK_LIMITS.size_bytes_max}`, index, 'TASK_TOO_LARGE');

  // Only what differs from the default is kept (in schema order), so most simulated tasks carry
  // no options at all, and allocate none.
  let o: TaskOptions | undefined;
  if (spec.name !== undefined) (o ??= {}).name = spec.name;
  if (url !== undefined) (o ??= {}).url = url;
  if (spec.method !== undefined && spec.method !== 'POST') (o ??= {}).method = method;
  if (headers !== undefined) (o ??= {}).headers = headers;
  if (body !== undefined) (o ??= {}).body = body;
  if (spec.bodyBytes !== undefined) (o ??= {}).bodyBytes = spec.bodyBytes;
  if (spec.target !== undefined) (o ??= {}).target = spec.target;
  if (spec.retry !== undefined) (o ??= {}).retry = checkRetryOptions(spec.retry, index);
  if (deadline !== undefined) (o ??= {}).dispatchDeadlineUs = deadline;
  if (spec.httpUrl !== undefined) (o ??= {}).httpUrl = spec.httpUrl;
  if (spec.oidcToken !== undefined) {
    (o ??= {}).oidcServiceAccount = spec.oidcToken.serviceAccountEmail;
    if (spec.oidcToken.audience !== undefined && spec.oidcToken.audience !== '') o.oidcAudience = spec.oidcToken.audience;
  }
  if (spec.oauthToken !== undefined) {
    (o ??= {}).oauthServiceAccount = spec.oauthToken.serviceAccountEmail;
    if (spec.oauthToken.scope !== undefined && spec.oauthToken.scope !== '') o.oauthScope = spec.oauthToken.scope;
  }
  return { queue, eta, size, options: o };
}

/**
 * An HTTP target's own rules (Cloud Tasks HttpRequest): an absolute http(s) URL that an HTTP
 * client can send as it is, no App Engine path or service beside it, and at most one token,
 * naming a service account. Which hosts the URL may name is the service's choice
 * (`--allow-http-target`), not a rule of the engine.
 */
function checkHttpTarget(spec: TaskSpec, flavour: TaskApiFlavour, index: number | undefined): void {
  const url = spec.httpUrl as string;
  if (flavour !== 'cloud-tasks') invalid('httpRequest.url', 'HTTP targets are a Cloud Tasks feature; the Task Queue API sends tasks to App Engine services', index, 'INVALID_URL');
  if (spec.url !== undefined || spec.target !== undefined) invalid('httpRequest.url', 'an HTTP target task has no App Engine path or service (url, target)', index, 'INVALID_URL');
  if (!/^https?:\/\//i.test(url)) invalid('httpRequest.url', `"${truncate(url)}" must be an absolute URL starting with http:// or https://`, index, 'INVALID_URL');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) invalid('httpRequest.url', 'must not contain spaces or control characters', index, 'INVALID_URL');
  if (/[^\u0021-\u007e]/.test(url)) invalid('httpRequest.url', 'must be ASCII: percent-encode other characters (as UTF-8, e.g. %C3%A9 for é)', index, 'INVALID_URL');
  if (url.length > TASK_LIMITS.url_length_max) invalid('httpRequest.url', `is ${url.length} characters, above the limit of ${TASK_LIMITS.url_length_max}`, index, 'INVALID_URL');
  if (url.includes('#')) invalid('httpRequest.url', 'must not contain a fragment (#)', index, 'INVALID_URL');
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.hostname === '') invalid('httpRequest.url', `"${truncate(url)}" is not a URL with a host`, index, 'INVALID_URL');
  if (parsed.username !== '' || parsed.password !== '') invalid('httpRequest.url', 'must not carry credentials (user:password@); use headers or a token', index, 'INVALID_URL');
  if (spec.oidcToken !== undefined && spec.oauthToken !== undefined) invalid('httpRequest.oidcToken', 'give oidcToken or oauthToken, not both', index);
  for (const [name, token] of [['oidcToken', spec.oidcToken], ['oauthToken', spec.oauthToken]] as const) {
    if (token === undefined) continue;
    const email = token.serviceAccountEmail;
    if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) invalid(`httpRequest.${name}`, `serviceAccountEmail ${JSON.stringify(String(email ?? '')).slice(0, 80)} is not a service account's email`, index);
  }
}

/** Per-task retry options: system defaults for unset fields, then the min/max fix-up (reference §1.2). */
export function checkRetryOptions(given: Partial<RetryParameters>, index?: number): RetryParameters {
  const nonNegative = (field: keyof RetryParameters, integer: boolean): void => {
    const v = given[field];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      invalid(`retry.${field}`, `must be ${integer ? 'a whole number' : 'a number'}, 0 or more`, index, 'INVALID_RETRY_OPTIONS');
    }
  };
  nonNegative('task_retry_limit', true);
  nonNegative('task_age_limit_seconds', false);
  nonNegative('min_backoff_seconds', false);
  nonNegative('max_backoff_seconds', false);
  nonNegative('max_doublings', true);
  const p: RetryParameters = { ...RETRY_DEFAULTS };
  if (given.task_retry_limit !== undefined) p.task_retry_limit = given.task_retry_limit;
  if (given.task_age_limit_seconds !== undefined && given.task_age_limit_seconds !== null) {
    if (given.task_age_limit_seconds === 0) invalid('retry.task_age_limit_seconds', 'must be greater than zero', index, 'INVALID_RETRY_OPTIONS');
    p.task_age_limit_seconds = Math.ceil(given.task_age_limit_seconds); // Python SDK rounds up
  }
  if (given.max_doublings !== undefined) p.max_doublings = given.max_doublings;
  const hasMin = given.min_backoff_seconds !== undefined;
  const hasMax = given.max_backoff_seconds !== undefined;
  if (hasMin) p.min_backoff_seconds = given.min_backoff_seconds as number;
  if (hasMax) p.max_backoff_seconds = given.max_backoff_seconds as number;
  if (hasMin && !hasMax && p.min_backoff_seconds > p.max_backoff_seconds) p.max_backoff_seconds = p.min_backoff_seconds;
  if (hasMax && !hasMin && p.max_backoff_seconds < p.min_backoff_seconds) p.min_backoff_seconds = p.max_backoff_seconds;
  if (p.min_backoff_seconds > p.max_backoff_seconds) {
    invalid('retry.min_backoff_seconds', `${p.min_backoff_seconds} is greater than max_backoff_seconds ${p.max_backoff_seconds}`, index, 'INVALID_RETRY_OPTIONS');
  }
  return p;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
