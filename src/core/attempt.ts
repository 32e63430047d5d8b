/**
 * An attempt as data: what the core asks to be sent (AttemptRequest, built from the state right
 * after the task's AttemptDispatched is applied), and what comes back (a modelled or an observed
 * outcome). The drivers carry requests to a modelled worker or over HTTP; the core never sends.
 */
import type { AttemptDispatched, FailureReason } from './events.js';
import { attemptDeadline, ScalingDeadlineMemo } from './handler-deadline.js';
import { retryReasonText, type RetryReasonCode } from './retry-reason.js';
import { taskName, type EngineState, type QueueRuntime } from './state.js';
import type { HttpMethod, TaskMeta } from './task-table.js';
import { defaultTaskUrl } from './task-spec.js';
import type { Micros } from './time.js';

/** The token an HTTP target's request carries (Cloud Tasks `oidcToken` / `oauthToken`). */
export type AttemptAuth = { kind: 'oidc'; serviceAccountEmail: string; audience: string } | { kind: 'oauth'; serviceAccountEmail: string; scope: string };

/** An OAuth token's scope when the task names none (Cloud Tasks' default). */
export const OAUTH_SCOPE_DEFAULT = 'https://www.googleapis.com/auth/cloud-platform';

export interface AttemptRequest {
  id: number;
  queue: string;
  /** Index of the queue in the state (for back-pressure bookkeeping). */
  queueIndex: number;
  name: string;
  method: HttpMethod;
  /** Relative URL; for an HTTP target, the absolute URL. */
  url: string;
  /** An HTTP target (Cloud Tasks `httpRequest`): `url` is absolute; the queue's headers are X-CloudTasks-*. */
  httpTarget: boolean;
  /** The token an HTTP target's request carries, if any. */
  auth: AttemptAuth | undefined;
  /** The task's own headers (the X-AppEngine-* ones are added by the HTTP dispatcher). */
  headers: readonly [string, string][];
  /** Base64 payload, if the task has a real one. */
  body: string | undefined;
  bodyBytes: number;
  /** The App Engine service the attempt goes to (queue target, else task target, else `default`); an HTTP target's URL. */
  target: string;
  /** X-AppEngine-TaskRetryCount: attempts before this one. */
  retryCount: number;
  /** X-AppEngine-TaskExecutionCount: earlier attempts that got a handler response. */
  executionCount: number;
  /** X-AppEngine-TaskPreviousResponse, null on the first attempt or when none came back. */
  previousStatus: number | null;
  /** X-AppEngine-TaskRetryReason: why the previous attempt failed; undefined on a first attempt. */
  retryReason: string | undefined;
  /** The task's ETA (its retry time after a failure), µs in the engine's clock. */
  etaUs: Micros;
  dispatchedAt: Micros;
  /** The handler deadline: the task's own dispatch deadline, capped by its target's (S34). */
  deadlineUs: Micros;
  /** A forced run (Cloud Tasks RunTask): it took no token and asked no transport for room. */
  forced: boolean;
}

/**
 * A modelled answer, known when the attempt starts (simulation). The virtual driver owns one of
 * these and passes it to the worker to fill in: a million attempts allocate no outcome objects.
 */
export interface ModelledOutcome {
  /** HTTP status, or NO_ANSWER: the attempt runs into its deadline. */
  status: number;
  /** Time until the answer, µs. Ignored for NO_ANSWER. */
  latencyUs: Micros;
}

/** `ModelledOutcome.status` when the worker never answers. */
export const NO_ANSWER = -1;

/** A real answer, known when it arrives (HTTP). */
export interface ObservedOutcome {
  status: number | null;
  reason?: FailureReason;
  error?: string;
}

/** The error text of the attempts a restart ends (`abandon-in-flight`, src/engine/restart.ts). */
export const RESTART_ERROR = 'pushq restarted while this attempt was in flight';

/** The error text of the attempts a test reset aborts (`reset-queues`, `POST /pushq/reset`). */
export const RESET_ERROR = 'a test reset (POST /pushq/reset) aborted this attempt';

/**
 * How long an ended attempt ran, µs, from its event; null for one a restart ended (it ran as long
 * as the crash let it, which no event says) or a test reset aborted (cut short, never answered):
 * their `latencyUs` (0) is a placeholder, not a duration. Stories and statistics read durations
 * through this, so none of them counts it as 0.
 */
export function attemptDurationUs(e: { latencyUs: Micros; error?: string }): Micros | null {
  return e.error === RESTART_ERROR || e.error === RESET_ERROR ? null : e.latencyUs;
}

/**
 * An AttemptRequest read off the state. One instance can be refilled for every attempt (a
 * simulation of a million attempts builds no request objects); a consumer that keeps a request
 * past the call copies it (`copyAttemptRequest`). The name and retry-reason strings are only built
 * if read.
 */
export class StateAttemptRequest implements AttemptRequest {
  id = 0;
  queue = '';
  queueIndex = 0;
  method: HttpMethod = 'POST';
  url = '';
  httpTarget = false;
  auth: AttemptAuth | undefined = undefined;
  headers: readonly [string, string][] = NO_HEADERS;
  body: string | undefined = undefined;
  bodyBytes = 0;
  target = '';
  retryCount = 0;
  executionCount = 0;
  previousStatus: number | null = null;
  etaUs: Micros = 0;
  dispatchedAt: Micros = 0;
  deadlineUs: Micros = 0;
  forced = false;
  private cachedName: string | undefined = undefined;
  private reasonCode: RetryReasonCode = 0;
  private failedStatus = 0;
  private readonly scalingDeadlines = new ScalingDeadlineMemo();

  constructor(private readonly state: EngineState) {}

  fill(e: AttemptDispatched): this {
    const state = this.state;
    const tasks = state.tasks;
    const id = e.id;
    const r = tasks.row(id);
    const q = state.queues[tasks.queue[r] as number] as QueueRuntime;
    const meta = tasks.meta[r];
    const lastStatus = tasks.lastStatus[r] as number;
    this.id = id;
    this.queue = q.name;
    this.queueIndex = q.index;
    this.method = meta?.method ?? 'POST';
    const httpUrl = meta?.httpUrl;
    this.url = httpUrl ?? meta?.url ?? defaultUrlOf(q);
    this.httpTarget = httpUrl !== undefined;
    this.auth = httpUrl === undefined ? undefined : authOf(meta as TaskMeta, httpUrl);
    this.headers = meta?.headers ?? NO_HEADERS;
    this.body = meta?.body;
    this.bodyBytes = meta?.bodyBytes ?? 0;
    this.target = attemptTarget(state, q, id);
    this.retryCount = (tasks.dispatchCount[r] as number) - 1;
    this.executionCount = tasks.executionCount[r] as number;
    this.previousStatus = lastStatus === 0 ? null : lastStatus;
    this.etaUs = tasks.eta[r] as number;
    this.dispatchedAt = e.t;
    this.deadlineUs = attemptDeadline(state.settings, this.target, meta?.dispatchDeadlineUs, this.httpTarget, this.scalingDeadlines);
    this.forced = e.forced === true;
    this.cachedName = undefined;
    this.reasonCode = tasks.retryReason[r] as RetryReasonCode;
    this.failedStatus = lastStatus;
    return this;
  }

  get name(): string {
    return (this.cachedName ??= taskName(this.state, this.id));
  }

  get retryReason(): string | undefined {
    return this.retryCount > 0 ? retryReasonText(this.reasonCode, this.failedStatus) : undefined;
  }
}

/** A plain copy of `request` that stays valid after the state moves on. */
export function copyAttemptRequest(request: AttemptRequest): AttemptRequest {
  return {
    id: request.id,
    queue: request.queue,
    queueIndex: request.queueIndex,
    name: request.name,
    method: request.method,
    url: request.url,
    httpTarget: request.httpTarget,
    auth: request.auth,
    headers: request.headers,
    body: request.body,
    bodyBytes: request.bodyBytes,
    target: request.target,
    retryCount: request.retryCount,
    executionCount: request.executionCount,
    previousStatus: request.previousStatus,
    retryReason: request.retryReason,
    etaUs: request.etaUs,
    dispatchedAt: request.dispatchedAt,
    deadlineUs: request.deadlineUs,
    forced: request.forced,
  };
}

/**
 * Where an attempt of task `id` goes: an HTTP target's URL, else the App Engine service, where the
 * queue's target wins (S37; Cloud Tasks' appEngineRoutingOverride applies to App Engine tasks only).
 */
export function attemptTarget(state: EngineState, q: QueueRuntime, id: number): string {
  const meta = state.tasks.meta[state.tasks.row(id)];
  return meta?.httpUrl ?? q.config.target ?? meta?.target ?? 'default';
}

/** An HTTP target task's token, if it has one: the audience defaults to its URL, the scope to cloud-platform. */
function authOf(meta: TaskMeta, url: string): AttemptAuth | undefined {
  if (meta.oidcServiceAccount !== undefined) return { kind: 'oidc', serviceAccountEmail: meta.oidcServiceAccount, audience: meta.oidcAudience ?? url };
  if (meta.oauthServiceAccount !== undefined) return { kind: 'oauth', serviceAccountEmail: meta.oauthServiceAccount, scope: meta.oauthScope ?? OAUTH_SCOPE_DEFAULT };
  return undefined;
}

const defaultUrls = new WeakMap<QueueRuntime, string>();

/** A queue's default task URL, built once per queue rather than once per attempt. */
function defaultUrlOf(q: QueueRuntime): string {
  let url = defaultUrls.get(q);
  if (url === undefined) {
    url = defaultTaskUrl(q.name);
    defaultUrls.set(q, url);
  }
  return url;
}

const NO_HEADERS: readonly [string, string][] = Object.freeze([]) as unknown as readonly [string, string][];
