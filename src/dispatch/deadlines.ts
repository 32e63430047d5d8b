/**
 * Handler deadlines (S34) without a timer per request.
 *
 * Most attempts share a few deadline durations (one per scaling kind, plus tasks' own dispatch
 * deadlines), and attempts start in time order, so deadlines of one duration expire in the order
 * they were set: one FIFO per duration, and one setTimeout armed for its head. An AbortSignal.timeout per request costs
 * a timer, an EventTarget and listeners per attempt (~8% of the CPU at 10k attempts/s); this costs
 * an array slot. Precision is the same: the timer fires at the head's expiry, to the millisecond.
 *
 * Invariants: within a FIFO, `expiresAtMs` never decreases from head to tail; an ended attempt
 * only clears its entry's callback (so an entry fires at most once, and never after its end);
 * cleared entries are dropped from the head at once, and the array is compacted when more than
 * half of it is dead, so a long request at the head cannot make the FIFO grow without bound.
 * Beyond DURATIONS_KEPT durations, a FIFO left empty is removed with its timer, so tasks with
 * many distinct dispatch deadlines leave nothing behind (the usual few FIFOs stay, and keep
 * reusing their armed timer).
 */

import { DEADLINE_AUTOMATIC_US, DEADLINE_BASIC_MANUAL_US } from '../core/handler-deadline.js';
import { timerDelayMs } from '../engine/timer-delay.js';

const DURATIONS_KEPT = 8;

/** The scaling deadlines (10 min, 24 h) serve most attempts: their FIFOs are never retired. */
const SCALING_DEADLINES_MS: ReadonlySet<number> = new Set([DEADLINE_AUTOMATIC_US / 1000, DEADLINE_BASIC_MANUAL_US / 1000]);

export interface DeadlineEntry {
  readonly expiresAtMs: number;
  onExpire: (() => void) | null;
}

class DeadlineFifo {
  constructor(readonly durationMs: number) {}
  items: DeadlineEntry[] = [];
  head = 0;
  dead = 0;
  timer: NodeJS.Timeout | undefined;
  timerAtMs = Infinity;
}

export class Deadlines {
  private readonly fifos = new Map<number, DeadlineFifo>();
  private closed = false;

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** The clock deadlines are measured on (ms). */
  now(): number {
    return this.nowMs();
  }

  /** Calls `onExpire` once `durationMs` have passed, unless `end` is called first. */
  add(durationMs: number, onExpire: () => void): DeadlineEntry {
    let fifo = this.fifos.get(durationMs);
    if (fifo === undefined) {
      fifo = new DeadlineFifo(durationMs);
      this.fifos.set(durationMs, fifo);
    }
    const entry: DeadlineEntry = { expiresAtMs: this.nowMs() + durationMs, onExpire };
    fifo.items.push(entry);
    if (fifo.timer === undefined) this.arm(fifo);
    return entry;
  }

  /** The attempt ended: its deadline no longer applies. */
  end(entry: DeadlineEntry, durationMs: number): void {
    if (entry.onExpire === null) return;
    entry.onExpire = null;
    const fifo = this.fifos.get(durationMs);
    if (fifo === undefined) return;
    fifo.dead++;
    this.dropDeadHead(fifo);
    if (this.retireIfEmpty(fifo)) return;
    if (fifo.dead > 1024 && fifo.dead * 2 > fifo.items.length - fifo.head) {
      fifo.items = fifo.items.slice(fifo.head).filter((e) => e.onExpire !== null);
      fifo.head = 0;
      fifo.dead = 0;
    }
  }

  /** FIFOs kept (one per duration with a live or not yet dropped entry). */
  get durations(): number {
    return this.fifos.size;
  }

  /** Entries held, ended ones not yet dropped included (bounded: see the invariants). */
  get held(): number {
    let n = 0;
    for (const fifo of this.fifos.values()) n += fifo.items.length - fifo.head;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const fifo of this.fifos.values()) if (fifo.timer !== undefined) clearTimeout(fifo.timer);
    this.fifos.clear();
  }

  /** Removes an empty FIFO and its timer when there are many; says whether it did. */
  private retireIfEmpty(fifo: DeadlineFifo): boolean {
    if (fifo.items.length !== 0 || this.fifos.size <= DURATIONS_KEPT || SCALING_DEADLINES_MS.has(fifo.durationMs)) return false;
    if (fifo.timer !== undefined) clearTimeout(fifo.timer);
    fifo.timer = undefined;
    fifo.timerAtMs = Infinity;
    if (this.fifos.get(fifo.durationMs) === fifo) this.fifos.delete(fifo.durationMs);
    return true;
  }

  private dropDeadHead(fifo: DeadlineFifo): void {
    const items = fifo.items;
    while (fifo.head < items.length && (items[fifo.head] as DeadlineEntry).onExpire === null) {
      fifo.head++;
      fifo.dead--;
    }
    if (fifo.head === items.length) {
      fifo.items = [];
      fifo.head = 0;
      fifo.dead = 0;
    } else if (fifo.head > 4096 && fifo.head * 2 > items.length) {
      fifo.items = items.slice(fifo.head);
      fifo.head = 0;
    }
  }

  private arm(fifo: DeadlineFifo): void {
    if (this.closed) return;
    const head = fifo.items[fifo.head];
    if (head === undefined) return;
    const at = head.expiresAtMs;
    if (fifo.timer !== undefined && fifo.timerAtMs <= at) return;
    if (fifo.timer !== undefined) clearTimeout(fifo.timer);
    fifo.timerAtMs = at;
    fifo.timer = setTimeout(() => this.fire(fifo), timerDelayMs(at - this.nowMs()));
  }

  private fire(fifo: DeadlineFifo): void {
    fifo.timer = undefined;
    fifo.timerAtMs = Infinity;
    const now = this.nowMs();
    this.dropDeadHead(fifo);
    while (fifo.head < fifo.items.length) {
      const entry = fifo.items[fifo.head] as DeadlineEntry;
      if (entry.onExpire !== null && entry.expiresAtMs > now) break;
      fifo.head++;
      const fn = entry.onExpire;
      if (fn !== null) {
        entry.onExpire = null;
        fn();
      } else {
        fifo.dead--;
      }
    }
    this.dropDeadHead(fifo);
    if (this.retireIfEmpty(fifo)) return;
    this.arm(fifo);
  }
}
