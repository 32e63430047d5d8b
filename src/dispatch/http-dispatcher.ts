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
 * - Backpressure (class Origin): at most 2 × connections requests are handed to an origin's pool;
 *   a queue asking `hasRoom` when that is full is remembered and offered room later, in turn.
 */
import type { Pool, Dispatcher as UndiciDispatcher } from 'undici';
import type { AttemptRequest, ObservedOutcome } from '../core/attempt.js';
import type { TargetSettings } from '../core/events.js';
import { lookUpTarget } from '../core/target-lookup.js';
import { RETRY_REASONS } from '../core/retry-reason.js';
import type { RealTransport } from '../engine/wall-driver.js';
import { attemptHeaders, observedOutcome, type TokenMinter } from './attempt-wire.js';
import { Deadlines, type DeadlineEntry } from './deadlines.js';
import { CONNECTIONS_PER_ORIGIN, OriginPools } from './origin-pools.js';

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
  ) {
    this.deadline = deadlines.add(deadlineMs, this.expire);
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

/**
 * An origin's pool, its submission window and its backpressure. At most `window` requests are
 * handed to undici at once (an undici request with its handler costs a few KB).
 *
 * Normal dispatches ask `hasRoom` first. A yes is a claim on one place in the window for that
 * queue, taken up when the attempt is sent: the kernel asks for every dispatch of a step before it
 * sends any (effects run after the step), so without claims a burst would be told yes past the
 * window. When the window is full, the queue is remembered (once)
 * and its tasks stay pending in the engine; when a request ends, the freed room is offered to
 * the remembered queues in the order they asked (round robin: a queue that takes the room and
 * wants more goes to the back), so queues sharing a slow worker share it fairly. The offer runs
 * in setImmediate: never inside the kernel's own call that ended a request, and after the
 * settles of the responses that freed the room (so the log never shows more in flight than the
 * window), with one pass for all the room freed in one turn of the event loop.
 *
 * Attempts sent without asking (a forced run, or a dispatcher used without backpressure) are
 * never refused: past the window they wait here in order.
 */
class Origin {
  private active = 0;
  /** Places claimed by `hasRoom` and not yet taken up by `start`, in all and per queue index. */
  private claimed = 0;
  private readonly claimsOf: number[] = [];
  private readonly waiting: (Attempt | null)[] = [];
  private head = 0;
  /** Queues waiting for room, in order; `isBlocked[q]` says whether q is among them. */
  private blocked: number[] = [];
  private blockedHead = 0;
  private readonly isBlocked: boolean[] = [];
  /** The queue being offered room: it may take it although others wait behind it. */
  private granting = -1;
  private offerScheduled = false;

  /** This dispatcher's requests handed to a shared pool (null when the pool is its own): what `destroy` aborts. */
  readonly live: Set<Attempt> | null;
  private idleWaiters: (() => void)[] = [];
  /** Set by abortAll: the dispatcher is destroyed, nothing more goes to the (shared) pool. */
  private closed = false;

  constructor(
    readonly pool: Pool,
    /** Host and port of the origin (`127.0.0.1:8080`; the scheme's port when the URL has none): where a failed attempt was sent. */
    readonly address: string,
    private readonly window: number,
    private readonly room: { listener: ((queueIndex: number) => void) | null },
    shared: boolean,
  ) {
    this.live = shared ? new Set() : null;
  }

  /**
   * Ends every attempt of this dispatcher to the origin now, with `error` (its pool is shared and
   * stays open): first those waiting for the window, never sent, so that the aborts of those in
   * flight free no room for them; then those in flight. Nothing is submitted afterwards.
   */
  abortAll(error: Error): void {
    this.closed = true;
    const waiting = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    for (const attempt of waiting) attempt?.abort(error);
    for (const attempt of [...(this.live ?? [])]) attempt.abort(error);
  }

  /** Resolves once none of this dispatcher's requests to the origin is in flight or waiting. */
  idle(): Promise<void> {
    if (this.active === 0 && this.head === this.waiting.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  hasRoom(queueIndex: number): boolean {
    const free = this.active + this.claimed < this.window && this.head === this.waiting.length;
    // Room goes to the queue being offered it, else to anyone only when nobody waits (a queue
    // whose timer fires during another's turn does not take that turn's room).
    if (free && (this.granting === queueIndex || (this.granting === -1 && this.blockedHead === this.blocked.length))) {
      this.claim(queueIndex);
      return true;
    }
    if (this.isBlocked[queueIndex] !== true) {
      this.isBlocked[queueIndex] = true;
      this.blocked.push(queueIndex);
    }
    if (free) this.scheduleOffer();
    return false;
  }

  /** Claims a place for an attempt of `queueIndex` whether or not the window has one (it waits if not). */
  claim(queueIndex: number): void {
    this.claimed++;
    this.claimsOf[queueIndex] = (this.claimsOf[queueIndex] ?? 0) + 1;
  }

  /**
   * Submits `attempt` now if the window has room, else when it has. An attempt that was not
   * forced takes up its queue's claim, if it has one (a caller may also send without asking).
   */
  start(attempt: Attempt, queueIndex: number, forced: boolean): void {
    const claims = this.claimsOf[queueIndex] ?? 0;
    if (!forced && claims > 0) {
      this.claimsOf[queueIndex] = claims - 1;
      this.claimed--;
    }
    if (this.closed) attempt.abort(new Error('the dispatcher was shut down'));
    else if (this.active + this.claimed < this.window) {
      if (attempt.submit()) this.active++;
    } else {
      this.waiting.push(attempt);
    }
  }

  ended(): void {
    this.active--;
    while (this.active + this.claimed < this.window && this.head < this.waiting.length) {
      const attempt = this.waiting[this.head] as Attempt;
      this.waiting[this.head++] = null;
      if (attempt.submit()) this.active++;
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
      if (this.active === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
    } else if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    if (this.active + this.claimed < this.window && this.blockedHead < this.blocked.length) this.scheduleOffer();
  }

  private scheduleOffer(): void {
    if (this.offerScheduled) return;
    this.offerScheduled = true;
    setImmediate(this.offer);
  }

  private readonly offer = (): void => {
    this.offerScheduled = false;
    const listener = this.room.listener;
    if (listener === null) return;
    while (this.active + this.claimed < this.window && this.head === this.waiting.length && this.blockedHead < this.blocked.length) {
      const queueIndex = this.blocked[this.blockedHead++] as number;
      this.isBlocked[queueIndex] = false;
      this.granting = queueIndex;
      try {
        listener(queueIndex);
      } finally {
        this.granting = -1;
      }
    }
    if (this.blockedHead === this.blocked.length) {
      this.blocked = [];
      this.blockedHead = 0;
    } else if (this.blockedHead > 1024 && this.blockedHead * 2 > this.blocked.length) {
      this.blocked = this.blocked.slice(this.blockedHead);
      this.blockedHead = 0;
    }
  };
}

/** `http://127.0.0.1:8080` → `127.0.0.1:8080`; `https://api.internal` → `api.internal:443`. */
function originAddress(origin: string): string {
  const u = new URL(origin);
  return `${u.hostname}:${u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80'}`;
}

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
  const room: { listener: ((queueIndex: number) => void) | null } = { listener: null };
  const poolFor = (origin: string): Origin => {
    let o = pools.get(origin);
    if (o === undefined) {
      o = new Origin(poolsOf.get(origin), originAddress(origin), poolsOf.connections * 2, room, shared);
      pools.set(origin, o);
    }
    return o;
  };
  const origins = new Set<string>();
  for (const t of Object.values(options.targets)) if (t.url !== undefined) origins.add(new URL(t.url).origin);
  const multipleOrigins = origins.size > 1;
  const routeOf = (name: string): { basePath: string; origin: Origin } | null => {
    let route = routes.get(name);
    if (route === undefined) {
      const target = resolveTarget(options.targets, name);
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
    return { origin: poolFor(u.origin), path: `${u.pathname}${u.search}` };
  };
  return {
    hasRoom(targetName: string, queueIndex: number, pinned = true): boolean {
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
      let origin: Origin;
      let path: string;
      if (req.httpTarget) {
        ({ origin, path } = httpRoute(req.url));
      } else {
        const route = routeOf(req.target);
        if (route === null) return Promise.resolve({ status: null, reason: 'connection', error: `${RETRY_REASONS.noTarget}: ${req.target}` });
        origin = route.origin;
        path = route.basePath + req.url;
      }
      const deadlineMs = Math.max(1, Math.ceil(req.deadlineUs / 1000));
      const tokens = options.tokens;
      return new Promise<ObservedOutcome>((resolve) => origin.start(new Attempt(origin, req, path, deadlines, deadlineMs, resolve, tokens), req.queueIndex, req.forced));
    },
    async close(): Promise<void> {
      if (!shared) await poolsOf.close();
      else await Promise.all([...pools.values()].map((o) => o.idle()));
      deadlines.close();
    },
    async destroy(): Promise<void> {
      // Deadline timers first: they would otherwise keep the process alive for up to 24 h.
      deadlines.close();
      if (!shared) await poolsOf.destroy();
      else {
        const error = new Error('the dispatcher was shut down');
        for (const o of pools.values()) o.abortAll(error);
      }
    },
  };
}
