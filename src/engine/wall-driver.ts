/**
 * Drives a Kernel on the wall clock with real attempts (the `serve` row of DESIGN.md's table).
 *
 * Invariants:
 * - The kernel only sees time through `clock`: epoch µs (createWallClock: this machine's clock
 *   while it is ahead, else moved on at the monotonic rate), never going backwards, and never
 *   before the last logged event (so a restart after a clock step cannot move the kernel back).
 * - Every command runs as `advanceTo(clock())`, then the command, then `arm()`: due timers fire
 *   before anything new happens, in (time, seq) order, as in a simulation.
 * - At most one setTimeout is armed, for `kernel.nextTimerAt()`; it only re-arms when the next
 *   timer moved earlier. No delay exceeds CLOCK_RECHECK_MS: setTimeout counts monotonic time,
 *   and the clock follows the machine's, which may gain on it or be set forward meanwhile.
 * - Outcomes arrive asynchronously. Those arriving in one turn of the event loop share one batch
 *   (one commit, one re-arm): at tens of thousands of responses a second a batch per response
 *   was ~3% of the CPU. A command or timer in between commits the batch earlier.
 * - Back-pressure is an input: the transport may refuse room (`hasRoom`), and then calls back
 *   when it has some; the kernel runs that as a `room-freed` step.
 */
import { copyAttemptRequest, type AttemptRequest, type ObservedOutcome } from '../core/attempt.js';
import type { AttemptOutcome } from '../core/decide.js';
import type { EngineState } from '../core/state.js';
import type { Admission } from '../core/step.js';
import type { Micros } from '../core/time.js';
import type { EventLog } from '../log/event-log.js';
import { Kernel, type EventObserver, type Transport } from './kernel.js';
import { timerDelayMs } from './timer-delay.js';

export { MAX_TIMER_DELAY_MS } from './timer-delay.js';

/**
 * The longest the one timer waits before it reads the clock again (a timer due later fires early,
 * finds nothing due, and re-arms for the rest). setTimeout counts monotonic time and the clock
 * follows the machine's (createWallClock): armed once for a task a day ahead, it fired as late as
 * the machine's clock gained meanwhile (28.5 s on a VM gaining 0.33 ms a second), or was set
 * forward. A wake every 10 s when idle costs nothing.
 */
export const CLOCK_RECHECK_MS = 10_000;

/**
 * What sends real attempts (src/dispatch/http-dispatcher.ts). `send` never rejects for an HTTP
 * outcome; a rejection counts as a connection failure.
 */
export interface RealTransport {
  /** `request` is the sender's to keep. */
  send(request: AttemptRequest): Promise<ObservedOutcome>;
  /** Ends the request of task `id`'s attempt now, if it is still open (its promise then resolves). */
  abort?(id: number): void;
  /**
   * Whether an attempt of queue `queueIndex` to `target` may start now; yes reserves room for it.
   * No remembers the queue, and the listener is called with its index once there is room.
   * `pinned`: the queue has a target of its own, so all its tasks go to one place.
   */
  hasRoom?(target: string, queueIndex: number, pinned: boolean): boolean;
  setRoomListener?(listener: (queueIndex: number) => void): void;
}

export interface WallDriverOptions {
  state: EngineState;
  log: EventLog;
  transport: RealTransport;
  clock: () => Micros;
  observers?: readonly EventObserver[];
}

/** Where a wall clock reads the time: this machine's clock (epoch µs) and a monotonic one (ms). */
export interface ClockSources {
  wallUs(): Micros;
  monotonicMs(): number;
}

const SYSTEM_CLOCKS: ClockSources = { wallUs: () => Date.now() * 1000, monotonicMs: () => performance.now() };

/**
 * Epoch µs, never going back and never below `floorUs` (the log's last event): this machine's clock
 * when it is ahead, else the last reading moved on at the monotonic rate.
 * - Following the machine's clock keeps tasks' times (ETAs, scheduleTime) on it for as long as
 *   the service runs: run on the monotonic rate alone from the start, the service lagged a clock
 *   that NTP keeps gaining on it (measured on a VM: 0.33 ms a second, half a minute a day).
 * - The monotonic rate carries time on when the machine's clock is behind: set back, or behind the
 *   floor (a cluster's queue taken from a node whose clock runs ahead, a restart after the clock
 *   was set back). Held instead, the kernel saw no time pass until the clock caught up (no token
 *   refilled, no backoff or ETA ended: a queue stalled for as long as the clocks were apart).
 */
export function createWallClock(floorUs = 0, wallUs?: Micros, sources: ClockSources = SYSTEM_CLOCKS): () => Micros {
  let exactUs = Math.max(wallUs ?? sources.wallUs(), floorUs);
  let lastMs = sources.monotonicMs();
  return () => {
    const ms = sources.monotonicMs();
    exactUs = Math.max(exactUs + (ms - lastMs) * 1000, sources.wallUs());
    lastMs = ms;
    return Math.floor(exactUs);
  };
}

export class WallDriver implements Transport {
  readonly kernel: Kernel;
  readonly clock: () => Micros;
  readonly admit: Admission;
  /** Attempts sent whose outcome has not come back yet. */
  pendingAsync = 0;
  private readonly transport: RealTransport;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;
  /** Set by `halt`: no new attempt starts; settles and other events still apply. */
  private halted = false;
  /** Set by `detach`: outcomes and room offers from the transport are ignored. */
  private detached = false;
  /** Outcomes have been settled in a batch that a setImmediate will commit. */
  private batchOpen = false;

  constructor(options: WallDriverOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    const hasRoom = options.transport.hasRoom?.bind(options.transport);
    this.admit = hasRoom === undefined ? (() => !this.halted) : (target, queueIndex, pinned) => !this.halted && hasRoom(target, queueIndex, pinned);
    this.kernel = new Kernel({ state: options.state, log: options.log, transport: this, now: options.clock(), ...(options.observers ? { observers: options.observers } : {}) });
    options.transport.setRoomListener?.((queueIndex) => this.roomFreed(queueIndex));
  }

  /** Runs a command at the current wall time, then re-arms the timer. Throws what `fn` throws. */
  run<T>(fn: (kernel: Kernel) => T): T {
    this.kernel.advanceTo(this.clock());
    try {
      return fn(this.kernel);
    } finally {
      this.arm();
    }
  }

  // ---- the transport side ------------------------------------------------------------------------

  dispatch(request: AttemptRequest): void {
    const kept = copyAttemptRequest(request);
    this.pendingAsync++;
    this.transport.send(kept).then(
      (outcome) => this.settled(kept, outcome),
      (err: unknown) => this.settled(kept, { status: null, reason: 'connection', error: String((err as Error)?.message ?? err) }),
    );
  }

  /** A test reset ended the attempt (Transport.abort): the request is aborted at the transport. */
  abort(id: number): void {
    this.transport.abort?.(id);
  }

  private settled(request: AttemptRequest, observed: ObservedOutcome): void {
    this.pendingAsync--;
    if (this.detached) return;
    const now = this.now();
    this.kernel.advanceTo(now);
    const outcome: AttemptOutcome = { status: observed.status, latencyUs: Math.max(0, now - request.dispatchedAt) };
    if (observed.reason !== undefined) outcome.reason = observed.reason;
    if (observed.error !== undefined) outcome.error = observed.error;
    this.kernel.settle(request.id, outcome);
    if (!this.batchOpen) {
      this.batchOpen = true;
      setImmediate(this.endBatch);
    }
  }

  private readonly endBatch = (): void => {
    this.batchOpen = false;
    if (this.detached) return;
    this.kernel.commit();
    this.arm();
  };

  /**
   * Commits the open batch of settles now rather than at the end of this turn, so a reader of the
   * log (a task's story) finds every event the state already shows.
   */
  commitSettled(): void {
    if (this.batchOpen && !this.detached) this.kernel.commit();
  }

  /** The transport has room again for a queue: a step of its own at the current time. */
  private roomFreed(queueIndex: number): void {
    if (this.detached) return;
    this.kernel.advanceTo(this.now());
    this.kernel.roomFreed(queueIndex);
    this.arm();
  }

  /** The wall clock's time for a real event, never before the kernel's own `now`. */
  private now(): Micros {
    return Math.max(this.clock(), this.kernel.now);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /**
   * Stops starting attempts (a service shutting down): in-flight attempts still settle and are
   * logged, but no queue dispatches again, so the log ends with no attempt that was never sent.
   * (A caller stops taking commands first: `runTask` is not guarded.)
   */
  halt(): void {
    this.halted = true;
  }

  /**
   * Stops listening to the transport (a service closing its log): outcomes that arrive later,
   * and offers of room, are ignored, so their attempts stay open in the log and a restart
   * dispatches them again (at-least-once).
   */
  detach(): void {
    this.halted = true;
    this.detached = true;
    this.kernel.commit();
  }

  // ---- the one timer -----------------------------------------------------------------------------

  /** Arms the one timer for the kernel's next due time, if that is earlier than the armed one. */
  readonly arm = (): void => {
    if (this.stopped) return;
    const next = this.kernel.nextTimerAt();
    if (next === Infinity || next >= this.armedAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const delayMs = Math.min(CLOCK_RECHECK_MS, timerDelayMs((next - this.clock()) / 1000));
    this.armedAt = next;
    this.timer = setTimeout(this.fire, delayMs);
  };

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    if (this.stopped) return;
    this.kernel.advanceTo(this.clock());
    this.arm();
  };

  /** No more timers fire (the kernel's own state is untouched). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
