/**
 * An attempt on the wire: the headers a worker receives, and the one function that turns what the
 * HTTP client gave back (a status, or an error) into an attempt's outcome.
 *
 * - An App Engine task carries App Engine's X-AppEngine-* headers (docs/serve.md); an HTTP target
 *   task carries Cloud Tasks' X-CloudTasks-* ones with the same values, User-Agent
 *   `Google-Cloud-Tasks`, and its token as `Authorization: Bearer` (made at send time, so a retry
 *   carries a fresh one).
 * - A transport failure's text starts with its retry-reason code (`connection-refused`, ...),
 *   which the engine keeps per task; after it, what happened and where: the error code and the
 *   address it was trying (`connection-refused: ECONNREFUSED 127.0.0.1:8080`), so the attempt and
 *   the dashboard say which address refused, not only that one did.
 */
import type { AttemptAuth, AttemptRequest, ObservedOutcome } from '../core/attempt.js';
import { RETRY_REASONS } from '../core/retry-reason.js';
import { US_PER_SECOND, type Micros } from '../core/time.js';

export const APP_ENGINE_USER_AGENT = 'AppEngine-Google; (+http://code.google.com/appengine)';
/** What Cloud Tasks sends to an HTTP target. */
const CLOUD_TASKS_USER_AGENT = 'Google-Cloud-Tasks';
const DEFAULT_BODY_CONTENT_TYPE = 'application/octet-stream';

/** Makes the bearer tokens of HTTP target tasks (src/dispatch/id-tokens.ts). */
export interface TokenMinter {
  /** An RS256 ID token naming `email`, for `audience`. */
  idToken(email: string, audience: string): string;
  /** An access token for `email` and `scope`. */
  accessToken(email: string, scope: string): string;
}

/** `X-AppEngine-TaskETA`: epoch seconds with six decimals, from integer µs (no float rounding). */
export function formatEtaSeconds(etaUs: Micros): string {
  const us = Math.round(etaUs);
  const whole = Math.floor(us / US_PER_SECOND);
  const frac = us - whole * US_PER_SECOND;
  return `${whole}.${String(frac).padStart(6, '0')}`;
}

/** The queue's headers, by target kind: the same facts under App Engine's or Cloud Tasks' names. */
const QUEUE_HEADERS = {
  appEngine: { prefix: 'x-appengine-', userAgent: APP_ENGINE_USER_AGENT },
  http: { prefix: 'x-cloudtasks-', userAgent: CLOUD_TASKS_USER_AGENT },
} as const;

function bearer(auth: AttemptAuth, tokens: TokenMinter | undefined): string {
  if (tokens === undefined) throw new Error('an HTTP target task with a token, and no token minter');
  return `Bearer ${auth.kind === 'oidc' ? tokens.idToken(auth.serviceAccountEmail, auth.audience) : tokens.accessToken(auth.serviceAccountEmail, auth.scope)}`;
}

/**
 * The headers of one attempt: the task's own, then the queue's (which a task cannot set). A name
 * the task gives more than once (the Task Queue API's headers are a list: Go's `http.Header` with
 * two values, Python's and Java's repeated entries) is sent once per value, as App Engine's
 * dispatchers send them, not only with its last value.
 */
export function attemptHeaders(req: AttemptRequest, tokens?: TokenMinter): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  let hasContentType = false;
  let hasUserAgent = false;
  for (const [k, v] of req.headers) {
    const before = Object.hasOwn(headers, k) ? headers[k] : undefined;
    headers[k] = before === undefined ? v : typeof before === 'string' ? [before, v] : [...before, v];
    const lower = k.toLowerCase();
    if (lower === 'content-type') hasContentType = true;
    else if (lower === 'user-agent') hasUserAgent = true;
  }
  const kind = req.httpTarget ? QUEUE_HEADERS.http : QUEUE_HEADERS.appEngine;
  const p = kind.prefix;
  if (!hasUserAgent) headers['user-agent'] = kind.userAgent;
  if (req.body !== undefined && !hasContentType) headers['content-type'] = DEFAULT_BODY_CONTENT_TYPE;
  headers[`${p}queuename`] = req.queue;
  headers[`${p}taskname`] = req.name;
  headers[`${p}taskretrycount`] = String(req.retryCount);
  headers[`${p}taskexecutioncount`] = String(req.executionCount);
  headers[`${p}tasketa`] = formatEtaSeconds(req.etaUs);
  if (req.previousStatus !== null) headers[`${p}taskpreviousresponse`] = String(req.previousStatus);
  if (req.retryCount > 0 && req.retryReason !== undefined) headers[`${p}taskretryreason`] = req.retryReason;
  if (req.auth !== undefined) headers['authorization'] = bearer(req.auth, tokens);
  return headers;
}

interface TransportError {
  name?: string;
  code?: string;
  message?: string;
  address?: string;
  port?: number;
  hostname?: string;
  /** undici's socket errors say which connection. */
  socket?: { remoteAddress?: string; remotePort?: number };
  cause?: TransportError;
  errors?: TransportError[];
}

/**
 * `ECONNREFUSED 127.0.0.1:8080`: the error's code and the address it concerns, as far as the error
 * tells; else `target`, the host and port the request was sent to (a reset of an open connection,
 * ECONNRESET or EPIPE from the socket, names no address).
 */
function whereItFailed(err: TransportError, code: string, target: string | undefined): string {
  const seen: TransportError[] = [];
  const walk = (e: TransportError | undefined): void => {
    if (e === undefined || seen.includes(e)) return;
    seen.push(e);
    for (const inner of e.errors ?? []) walk(inner);
    walk(e.cause);
  };
  walk(err);
  const hostPort = (address: string, port: number | undefined): string => `${address.includes(':') ? `[${address}]` : address}${port !== undefined ? `:${port}` : ''}`;
  const addresses: string[] = [];
  for (const e of seen) {
    if (e.address !== undefined) addresses.push(hostPort(e.address, e.port));
    else if (e.socket?.remoteAddress !== undefined) addresses.push(hostPort(e.socket.remoteAddress, e.socket.remotePort));
  }
  const host = seen.find((e) => e.hostname !== undefined)?.hostname;
  const where = addresses.length > 0 ? [...new Set(addresses)].join(', ') : (host ?? target);
  return where === undefined ? code : `${code} ${where}`;
}

/**
 * undici's SocketError messages for an answer it refuses while a request runs (client-h1.js), and
 * what the worker did. `bad response` is an interim `100 Continue`, which undici does not take
 * (pushq never sends `Expect: 100-continue`; other 1xx answers are skipped); `bad upgrade`, a
 * `101 Switching Protocols` pushq never asked for.
 */
const UNTAKEN_ANSWERS: Readonly<Record<string, string>> = {
  'bad response': 'the worker sent 100 Continue unasked (pushq sends no Expect: 100-continue)',
  'bad upgrade': 'the worker switched protocols (101) unasked',
};

/**
 * Maps what undici gave (a status, or an error) to an attempt outcome. `target` is the host and
 * port the request went to (`127.0.0.1:8080`), named when the error names no address.
 */
export function observedOutcome(result: { status: number } | { error: unknown }, target?: string): ObservedOutcome {
  if ('status' in result) return { status: result.status };
  const err = result.error as TransportError | undefined;
  if (err?.name === 'TimeoutError') return { status: null, reason: 'deadline', error: RETRY_REASONS.deadline };
  const code = err?.code ?? err?.cause?.code ?? err?.errors?.[0]?.code;
  // undici ends a request with these SocketErrors when the worker's answer is one it does not
  // take, and closes the connection itself: a protocol failure of the worker, not a reset.
  if (code === 'UND_ERR_SOCKET' && err?.message !== undefined && Object.hasOwn(UNTAKEN_ANSWERS, err.message)) {
    return { status: null, reason: 'connection', error: `${RETRY_REASONS.other}: ${whereItFailed(err as TransportError, code, target)}: ${UNTAKEN_ANSWERS[err.message]}` };
  }
  if (code === 'ECONNREFUSED') return { status: null, reason: 'connection', error: `${RETRY_REASONS.refused}: ${whereItFailed(err as TransportError, code, target)}` };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { status: null, reason: 'connection', error: `${RETRY_REASONS.reset}: ${whereItFailed(err as TransportError, code, target)}` };
  const text = code === undefined ? (err?.message ?? String(err)) : whereItFailed(err as TransportError, code, target);
  return { status: null, reason: 'connection', error: `${RETRY_REASONS.other}: ${text}` };
}
