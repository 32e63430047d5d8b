/**
 * Real dispatch: each attempt is one HTTP request, through one undici Pool per origin, to the
 * base URL of the attempt's target (reference §4, S16–S18, S34, S37), or, for an HTTP target
 * task, to its own absolute URL. What the request carries (headers, token) and how an outcome
 * is read are attempt-wire.ts.
 *
 * Invariants:
 * - undici does transport only. It does not retry (no retry interceptor) and does not follow
 *   redirects (Pool.dispatch never does): a 3xx is a failed attempt, as in App Engine. Retries are
 *   the kernel's, as events in the log.
 * - The handler deadline is enforced to the millisecond by deadlines.ts (one timer per deadline
 *   duration, not per request; it replaced AbortSignal.timeout, which cost ~8% of the CPU at
 *   10k attempts/s); undici's own header/body timeouts are switched off (they fire with ~1 s
 *   granularity and default to 5 minutes, below App Engine's 10-minute deadline).
 * - The AttemptRequest is kept until the request is handed to undici: the kernel builds a new one
 *   per attempt and reads it again itself when the attempt settles.
 * - `send` never rejects: every outcome (status, refused connection, reset, deadline) is mapped
 *   by `observedOutcome`, the one function that turns an undici result into an attempt result.
 * - Backpressure (class Origin, origin-window.ts): at most 2 × connections requests are handed to an origin's pool;
 *   a queue asking `hasRoom` when that is full is remembered and offered room later, in turn.
 */
import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { AttemptRequest, ObservedOutcome } from '../core/attempt.js';
import type { TargetSettings } from '../core/events.js';
import { serviceOf } from '../core/names.js';
import { lookUpTarget } from '../core/target-lookup.js';
import { RESET_ERROR } from '../core/attempt.js';
import { RETRY_REASONS } from '../core/retry-reason.js';
import type { RealTransport } from '../engine/wall-driver.js';
import { attemptHeaders, observedOutcome, type TokenMinter } from './attempt-wire.js';
import { Deadlines, type DeadlineEntry } from './deadlines.js';
import { CONNECTIONS_PER_ORIGIN, OriginPools } from './origin-pools.js';
import { Origin } from './origin-window.js';

export { APP_ENGINE_USER_AGENT, attemptHeaders, formatEtaSeconds, observedOutcome } from './attempt-wire.js';

export interface HttpDispatcherOptions {
  /** Service name → settings with `url`; `default` serves tasks with no target or an unknown one. */
  targets: Record<string, TargetSettings>;
  /** Connections per origin (ignored when `pools` is given: theirs). */
  connections?: number;
  /**
   * Connections shared with other dispatchers (origin-pools.ts: a cluster node's queue services).
   * Then `close` waits only for this dispatcher's requests and `destroy` aborts only them; the
   * pools' owner closes the connections.
   */
  pools?: OriginPools;
  /** Makes the OIDC and OAuth tokens of HTTP target tasks. */
  tokens?: TokenMinter;
}

export interface HttpDispatcher extends RealTransport {
  hasRoom(target: string, queueIndex: number, pinned?: boolean): boolean;
  setRoomListener(listener: (queueIndex: number) => void): void;
  abort(id: number): void;
  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void>;
  /** Aborts requests in flight and closes the connections now (a shutdown past its grace time). */
  destroy(): Promise<void>;
}

interface ResolvedTarget {
  origin: string;
  /** Base path without a trailing slash ('' for the root). */
  basePath: string;
}

/**
 * The error of an attempt whose target has no URL: the retry reason's code first (retry-reason.ts
 * reads it), then which service had none, in the order looked up, and which ones have one.
 */
export function noTargetError(target: string, targets: Readonly<Record<string, TargetSettings>>): string {
  const looked = [...new Set([target, serviceOf(target), 'default'])].map((n) => JSON.stringify(n)).join(', then ');
  const given = Object.keys(targets).filter((n) => targets[n]?.url !== undefined);
  return `${RETRY_REASONS.noTarget}: no URL for service ${looked} (URLs are given for ${given.length === 0 ? 'none' : given.join(', ')})`;
}

/** The base URL for `target` (`service` or `version.service`): exact name, then service, then `default`. */
export function resolveTarget(targets: Record<string, TargetSettings>, target: string): ResolvedTarget | null {
  const url = lookUpTarget(targets, target, (t) => t.url);
  if (url === undefined) return null;
  const u = new URL(url);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

/** What a deadline abort carries into undici (and what observedOutcome recognises). */
class DeadlineExceededError extends Error {
  override name = 'TimeoutError';
}

/**
 * One request through undici's handler API: the status is all pushq needs, so the response body
 * is discarded as it arrives (no stream, no buffering). The promise settles once: at the end of
 * the response, at a transport error, or at the deadline, whichever is first.
 *
 * The deadline runs twice: from the dispatch while the request waits for a connection (one that
 * never gets one fails then, never sent), and afresh when undici starts it on a connection
 * (onRequestStart) if the wait took more than 1% of it. A request that waited for a free
 * connection (the worker's others all busy) so still gets the handler's whole deadline (to within
 * 1%), instead of reaching the handler with a few milliseconds left and being cut off mid-run (a
 * near-certain duplicate execution).
 *
 * One object per attempt is its handler, its deadline callback and its submission: a burst of
 * tens of thousands of attempts allocates as little as it can.
 */
class Attempt implements UndiciDispatcher.DispatchHandler {
  private done = false;
  private started = false;
  private status = 0;
  private controller: UndiciDispatcher.DispatchController | undefined;
  /** Waiting for a connection, then (from onRequestStart) the handler's own. */
  private deadline: DeadlineEntry;
  private sending = false;

  constructor(
    private readonly origin: Origin,
    private readonly req: AttemptRequest,
    private readonly path: string,
    private readonly deadlines: Deadlines,
    private readonly deadlineMs: number,
    private readonly resolve: (outcome: ObservedOutcome) => void,
    private readonly tokens: TokenMinter | undefined,
    /** The dispatcher's open attempts by task id, this one among them until it ends (`abort`). */
    private readonly open: Map<number, Attempt>,
  ) {
    this.deadline = deadlines.add(deadlineMs, this.expire);
    open.set(req.id, this);
  }

  /**
   * Hands the request to undici, unless its deadline passed while it waited; says whether it did. The
   * headers and body are built here, not at dispatch: an attempt waiting for a connection holds
   * only this object, and what undici needs is short-lived (young-generation garbage).
   */
  submit(): boolean {
    if (this.done) return false;
    this.started = true;
    this.origin.live?.add(this);
    const req = this.req;
    const body = req.body === undefined ? null : Buffer.from(req.body, 'base64');
    this.origin.pool.dispatch({ path: this.path, method: req.method, headers: attemptHeaders(req, this.tokens), body }, this);
    return true;
  }

  private readonly expire = (): void => {
    const reason = new DeadlineExceededError(`no response within the ${this.deadlineMs} ms handler deadline`);
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(reason);
    this.finish(observedOutcome({ error: reason }));
  };

  /** Ends the attempt now with `error` (a dispatcher destroyed while its pools live on); undici drops it when it starts it. */
  abort(error: Error): void {
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(error);
    this.finish(observedOutcome({ error }));
  }

  private finish(outcome: ObservedOutcome): void {
    if (this.done) return;
    this.done = true;
    this.origin.live?.delete(this);
    if (this.open.get(this.req.id) === this) this.open.delete(this.req.id);
    this.deadlines.end(this.deadline, this.deadlineMs);
    if (this.started) this.origin.ended();
    this.resolve(outcome);
  }

  onRequestStart(controller: UndiciDispatcher.DispatchController): void {
    this.controller = controller;
    if (this.done) {
      controller.abort(new DeadlineExceededError('the deadline passed before the request started'));
      return;
    }
    if (this.sending) return;
    this.sending = true;
    // Most requests start at once: re-arming only after a wait of more than 1% of the deadline
    // keeps the common case at one timer entry, and the handler's deadline whole to within 1%.
    const left = this.deadline.expiresAtMs - this.deadlines.now();
    if (left < this.deadlineMs * 0.99) {
      this.deadlines.end(this.deadline, this.deadlineMs);
      this.deadline = this.deadlines.add(this.deadlineMs, this.expire);
    }
  }

  onResponseStart(_controller: UndiciDispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.finish({ status: this.status });
  }

  onResponseError(_controller: UndiciDispatcher.DispatchController, error: Error): void {
    this.finish(observedOutcome({ error }, this.origin.address));
  }
}


/** `http://127.0.0.1:8080` → `127.0.0.1:8080`; `https://api.internal` → `api.internal:443`. */
function originAddress(origin: string): string {
  const u = new URL(origin);
  return `${u.hostname}:${u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80'}`;
}

/**
 * HTTP-target origins kept before idle ones are let go. Tasks may name any URL (a webhook per
 * customer), so their origins are not bounded by the configuration as the targets' are: once
 * this many are held, those with nothing in flight are released, and the next release waits
 * until twice as many as remain (amortised: each sweep frees at least half of what it scans, or
 * the bar rises).
 */
export const HTTP_ORIGINS_KEPT = 256;

/** An HTTP target's URL, as attemptTarget gives it in place of a service name. */
function isHttpUrl(target: string): boolean {
  return target.startsWith('http://') || target.startsWith('https://') || /^https?:\/\//i.test(target);
}

export function createHttpDispatcher(options: HttpDispatcherOptions): HttpDispatcher {
  const pools = new Map<string, Origin>();
  // Its own pools unless given shared ones: then it closes only what is its own (its requests).
  const shared = options.pools !== undefined;
  const poolsOf = options.pools ?? new OriginPools(options.connections ?? CONNECTIONS_PER_ORIGIN);
  /** Target name → its base path and its origin's pool, resolved once (null: no URL for it). */
  const routes = new Map<string, { basePath: string; origin: Origin } | null>();
  const deadlines = new Deadlines();
  /** Attempts from `send` until they end, by task id: what `abort` finds (a task has one attempt at a time). */
  const open = new Map<number, Attempt>();
  const room: { listener: ((queueIndex: number) => void) | null } = { listener: null };
  const poolFor = (origin: string): Origin => {
    let o = pools.get(origin);
    if (o === undefined) {
      o = new Origin(poolsOf.get(origin), originAddress(origin), poolsOf.connections * 2, room, shared);
      pools.set(origin, o);
    }
    return o;
  };
  /** Origins used only by HTTP target tasks so far: they may be released when idle (HTTP_ORIGINS_KEPT). */
  const httpOnly = new Set<string>();
  let sweepAt = HTTP_ORIGINS_KEPT;
  const releaseIdleHttpOrigins = (): void => {
    for (const origin of httpOnly) {
      const o = pools.get(origin) as Origin;
      if (!o.isIdle()) continue;
      pools.delete(origin);
      httpOnly.delete(origin);
      poolsOf.release(origin);
    }
    sweepAt = Math.max(HTTP_ORIGINS_KEPT, httpOnly.size * 2);
  };
  /**
   * A dispatcher on shared pools that stops is no longer a user of any (a cluster node's queue
   * moved away, its service closed): each pool goes with its last user, so the origins of services
   * long gone (a webhook URL per task) are not kept for the node's life.
   */
  let released = false;
  const releaseAll = (): void => {
    released = true;
    for (const origin of pools.keys()) poolsOf.release(origin);
    pools.clear();
    httpOnly.clear();
    routes.clear();
  };
  const origins = new Set<string>();
  for (const t of Object.values(options.targets)) if (t.url !== undefined) origins.add(new URL(t.url).origin);
  const multipleOrigins = origins.size > 1;
  const routeOf = (name: string): { basePath: string; origin: Origin } | null => {
    let route = routes.get(name);
    if (route === undefined) {
      const target = resolveTarget(options.targets, name);
      // A target's origin is kept for good, even if HTTP target tasks used it first.
      if (target !== null) httpOnly.delete(target.origin);
      route = target === null ? null : { basePath: target.basePath, origin: poolFor(target.origin) };
      routes.set(name, route);
    }
    return route;
  };
  /**
   * An HTTP target task's origin and path. Its origin gets a pool like a worker's; HTTP targets
   * get no backpressure (any task may go anywhere): past the window they wait here, in order.
   */
  const httpRoute = (url: string): { origin: Origin; path: string } => {
    const u = new URL(url);
    if (!pools.has(u.origin)) {
      if (httpOnly.size >= sweepAt) releaseIdleHttpOrigins();
      httpOnly.add(u.origin);
    }
    return { origin: poolFor(u.origin), path: `${u.pathname}${u.search}` };
  };
  return {
    hasRoom(targetName: string, queueIndex: number, pinned = true): boolean {
      if (released) return true; // send answers at once: shut down
      if (isHttpUrl(targetName)) {
        httpRoute(targetName).origin.claim(queueIndex);
        return true;
      }
      const route = routeOf(targetName);
      if (route === null) return true; // sent at once as a no-target failure
      // A queue whose tasks may go to several workers is not held back by one of them (its next
      // task's worker being full must not stop tasks for the others): it gets no backpressure,
      // and its attempts past the window wait here in order, as sent.
      if (!pinned && multipleOrigins) {
        route.origin.claim(queueIndex);
        return true;
      }
      return route.origin.hasRoom(queueIndex);
    },
    setRoomListener(listener: (queueIndex: number) => void): void {
      room.listener = listener;
    },
    send(req: AttemptRequest): Promise<ObservedOutcome> {
      // Its pools let go (close, destroy): nothing more is sent, and no pool is taken again.
      if (released) return Promise.resolve(observedOutcome({ error: new Error('the dispatcher was shut down') }));
      let origin: Origin;
      let path: string;
      if (req.httpTarget) {
        ({ origin, path } = httpRoute(req.url));
      } else {
        const route = routeOf(req.target);
        if (route === null) return Promise.resolve({ status: null, reason: 'connection', error: noTargetError(req.target, options.targets) });
        origin = route.origin;
        path = route.basePath + req.url;
      }
      const deadlineMs = Math.max(1, Math.ceil(req.deadlineUs / 1000));
      const tokens = options.tokens;
      return new Promise<ObservedOutcome>((resolve) => origin.start(new Attempt(origin, req, path, deadlines, deadlineMs, resolve, tokens, open), req.queueIndex, req.forced));
    },
    abort(id: number): void {
      // Waiting for a connection: never sent; in flight: undici closes its connection.
      open.get(id)?.abort(new Error(RESET_ERROR));
    },
    async close(): Promise<void> {
      if (!shared) await poolsOf.close();
      else {
        await Promise.all([...pools.values()].map((o) => o.idle()));
        releaseAll();
      }
      deadlines.close();
    },
    async destroy(): Promise<void> {
      // Deadline timers first: they would otherwise keep the process alive for up to 24 h.
      deadlines.close();
      if (!shared) await poolsOf.destroy();
      else {
        const error = new Error('the dispatcher was shut down');
        for (const o of pools.values()) o.abortAll(error);
        releaseAll();
      }
    },
  };
}
