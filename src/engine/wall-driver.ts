/**
 * Drives a Kernel on the wall clock (the `serve` half of DESIGN.md's table).
 *
 * Invariants:
 * - The kernel only sees time through `clock`: epoch µs from a monotonic source (performance.now
 *   anchored once to Date.now), never going backwards, and never before the last logged event
 *   (so a restart after a clock step cannot move the kernel back).
 * - Every command runs as `advanceTo(clock())`, then the command, then `arm()`: due timers fire
 *   before anything new happens, in (time, seq) order, as in a simulation.
 * - At most one setTimeout is armed, for `kernel.nextTimerAt()`. Settles of real attempts call
 *   `arm()` (the kernel's onAsyncSettled), which only re-arms when the next timer moved earlier.
 * - No delay handed to setTimeout exceeds MAX_TIMER_DELAY_MS: Node turns a longer one (an ETA
 *   25 to 30 days ahead) into 1 ms, which would wake the process every millisecond. A capped timer
 *   fires early, finds nothing due, and re-arms for the rest.
 */
import type { Micros } from '../core/time.js';
import type { Kernel } from './kernel.js';

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A setTimeout delay for `ms` from now: 0 for the past, at most MAX_TIMER_DELAY_MS (the caller re-arms). */
export function timerDelayMs(ms: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(ms)));
}

/** Epoch µs from a monotonic source, never below `floorUs`. */
export function createWallClock(floorUs = 0): () => Micros {
  const originUs = Date.now() * 1000;
  const perfOrigin = performance.now();
  let last = floorUs;
  return () => {
    const now = Math.floor(originUs + (performance.now() - perfOrigin) * 1000);
    if (now > last) last = now;
    return last;
  };
}

export class WallDriver {
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    readonly kernel: Kernel,
    readonly clock: () => Micros,
  ) {}

  /** Runs a command at the current wall time, then re-arms the timer. Throws what `fn` throws. */
  run<T>(fn: (kernel: Kernel) => T): T {
    this.kernel.advanceTo(this.clock());
    try {
      return fn(this.kernel);
    } finally {
      this.arm();
    }
  }

  /** Arms the one timer for the kernel's next due time, if that is earlier than the armed one. */
  readonly arm = (): void => {
    if (this.stopped) return;
    const next = this.kernel.nextTimerAt();
    if (next === Infinity || next >= this.armedAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const delayMs = timerDelayMs((next - this.clock()) / 1000);
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
