/**
 * One origin's window of requests for one HTTP dispatcher: backpressure, claims and the fair
 * offer of freed room to the queues waiting for it (http-dispatcher.ts sends through it).
 */
import type { Pool } from 'undici';

/** What the window needs of an attempt (http-dispatcher.ts's Attempt). */
export interface WindowedAttempt {
  /** Hands the request to the pool; false if it ended before (aborted). */
  submit(): boolean;
  abort(error: Error): void;
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
export class Origin {
  private active = 0;
  /** Places claimed by `hasRoom` and not yet taken up by `start`, in all and per queue index. */
  private claimed = 0;
  private readonly claimsOf: number[] = [];
  private readonly waiting: (WindowedAttempt | null)[] = [];
  private head = 0;
  /** Queues waiting for room, in order; `isBlocked[q]` says whether q is among them. */
  private blocked: number[] = [];
  private blockedHead = 0;
  private readonly isBlocked: boolean[] = [];
  /** The queue being offered room: it may take it although others wait behind it. */
  private granting = -1;
  private offerScheduled = false;

  /** This dispatcher's requests handed to a shared pool (null when the pool is its own): what `destroy` aborts. */
  readonly live: Set<WindowedAttempt> | null;
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

  /** Nothing of this dispatcher's is in flight, waiting, claimed or offered room here: the origin may be let go. */
  isIdle(): boolean {
    return this.active === 0 && this.claimed === 0 && this.head === this.waiting.length && this.blockedHead === this.blocked.length && !this.offerScheduled && this.idleWaiters.length === 0;
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
  start(attempt: WindowedAttempt, queueIndex: number, forced: boolean): void {
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
      const attempt = this.waiting[this.head] as WindowedAttempt;
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
