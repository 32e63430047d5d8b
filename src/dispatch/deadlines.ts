/**
 * Handler deadlines (S34) without a timer per request.
 *
 * Every attempt to targets of one scaling kind has the same deadline duration, and attempts
 * start in time order, so deadlines of one duration expire in the order they were set: one FIFO
 * per duration, and one setTimeout armed for its head. An AbortSignal.timeout per request costs
 * a timer, an EventTarget and listeners per attempt (~8% of the CPU at 10k attempts/s); this costs
 * an array slot. Precision is the same: the timer fires at the head's expiry, to the millisecond.
 *
 * Invariants: within a FIFO, `expiresAtMs` never decreases from head to tail; an ended attempt
 * only clears its entry's callback (so an entry fires at most once, and never after its end);
 * cleared entries are dropped from the head at once, and the array is compacted when more than
 * half of it is dead, so a long request at the head cannot make the FIFO grow without bound.
 */

export interface DeadlineEntry {
  readonly expiresAtMs: number;
  onExpire: (() => void) | null;
}

class DeadlineFifo {
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

  /** Calls `onExpire` once `durationMs` have passed, unless `end` is called first. */
  add(durationMs: number, onExpire: () => void): DeadlineEntry {
    let fifo = this.fifos.get(durationMs);
    if (fifo === undefined) {
      fifo = new DeadlineFifo();
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
    if (fifo.dead > 1024 && fifo.dead * 2 > fifo.items.length - fifo.head) {
      fifo.items = fifo.items.slice(fifo.head).filter((e) => e.onExpire !== null);
      fifo.head = 0;
      fifo.dead = 0;
    }
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
    fifo.timer = setTimeout(() => this.fire(fifo), Math.max(0, Math.ceil(at - this.nowMs())));
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
    this.arm(fifo);
  }
}
