/**
 * The kernel's timers, ordered by (time, seq): a binary min-heap over parallel typed arrays, so
 * a million pending timers cost no objects. `seq` is a counter, so two timers due at the same
 * microsecond fire in the order they were set: never by insertion luck.
 *
 * A timer carries a kind, an integer argument (task id, queue index, callback slot) and, for an
 * attempt's response, its status and latency. The sort keys (time, seq) live in the heap arrays
 * themselves, next to each other, so a sift compares neighbouring memory; the payload stays in
 * per-slot arrays and moves with its slot number.
 */
export const enum TimerKind {
  /** A simulated attempt's response (or deadline) arrives. arg = task id. */
  Response = 0,
  /** A task's backoff ends. arg = task id. */
  BackoffEnds = 1,
  /** A queue may be able to dispatch (ETA reached or token refilled). arg = queue index. */
  QueueWake = 2,
  /** A user callback (workload arrivals, scheduled commands). arg = callback slot. */
  Callback = 3,
}

/** The counter that numbers timers; heaps that share one keep a single (time, seq) order. */
export interface TimerSequence {
  next: number;
}

export class TimerHeap {
  // Heap order: keys and the slot holding each timer's payload.
  private heapAt = new Float64Array(1024);
  private heapSeq = new Float64Array(1024);
  private heapSlot = new Int32Array(1024);
  // Payload, by slot.
  private kinds = new Uint8Array(1024);
  private args = new Int32Array(1024);
  private statuses = new Int32Array(1024);
  private latencies = new Float64Array(1024);
  private freeSlots: number[] = [];
  private slotsUsed = 0;
  size = 0;

  // Fields of the timer most recently popped.
  poppedAt = 0;
  poppedKind: TimerKind = TimerKind.Callback;
  poppedArg = 0;
  poppedStatus = 0;
  poppedLatency = 0;

  constructor(private readonly sequence: TimerSequence = { next: 0 }) {}

  push(at: number, kind: TimerKind, arg: number, status = 0, latency = 0): void {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.slotsUsed === this.kinds.length) this.growSlots();
      slot = this.slotsUsed++;
    }
    this.kinds[slot] = kind;
    this.args[slot] = arg;
    this.statuses[slot] = status;
    this.latencies[slot] = latency;
    if (this.size === this.heapAt.length) this.growHeap();
    const seq = this.sequence.next++;
    const heapAt = this.heapAt;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    let pos = this.size++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pa = heapAt[parent] as number;
      if (pa < at || (pa === at && (heapSeq[parent] as number) < seq)) break;
      heapAt[pos] = pa;
      heapSeq[pos] = heapSeq[parent] as number;
      heapSlot[pos] = heapSlot[parent] as number;
      pos = parent;
    }
    heapAt[pos] = at;
    heapSeq[pos] = seq;
    heapSlot[pos] = slot;
  }

  /** Time of the earliest timer, or Infinity. */
  peekAt(): number {
    return this.size === 0 ? Infinity : (this.heapAt[0] as number);
  }

  /** Sequence number of the earliest timer (meaningful only when size > 0). */
  peekSeq(): number {
    return this.heapSeq[0] as number;
  }

  /** Removes the earliest timer; its fields are left in the `popped*` properties. */
  pop(): void {
    const heapAt = this.heapAt;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    const top = heapSlot[0] as number;
    this.poppedAt = heapAt[0] as number;
    this.poppedKind = this.kinds[top] as TimerKind;
    this.poppedArg = this.args[top] as number;
    this.poppedStatus = this.statuses[top] as number;
    this.poppedLatency = this.latencies[top] as number;
    this.freeSlots.push(top);
    const n = --this.size;
    if (n === 0) return;
    const at = heapAt[n] as number;
    const seq = heapSeq[n] as number;
    const slot = heapSlot[n] as number;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      let ca = heapAt[child] as number;
      let cs = heapSeq[child] as number;
      const right = child + 1;
      if (right < n) {
        const ra = heapAt[right] as number;
        const rs = heapSeq[right] as number;
        if (ra < ca || (ra === ca && rs < cs)) {
          child = right;
          ca = ra;
          cs = rs;
        }
      }
      if (at < ca || (at === ca && seq < cs)) break;
      heapAt[pos] = ca;
      heapSeq[pos] = cs;
      heapSlot[pos] = heapSlot[child] as number;
      pos = child;
    }
    heapAt[pos] = at;
    heapSeq[pos] = seq;
    heapSlot[pos] = slot;
  }

  private growHeap(): void {
    const n = this.heapAt.length * 2;
    const a = new Float64Array(n);
    a.set(this.heapAt);
    this.heapAt = a;
    const s = new Float64Array(n);
    s.set(this.heapSeq);
    this.heapSeq = s;
    const l = new Int32Array(n);
    l.set(this.heapSlot);
    this.heapSlot = l;
  }

  private growSlots(): void {
    const n = this.kinds.length * 2;
    const k = new Uint8Array(n);
    k.set(this.kinds);
    this.kinds = k;
    const a = new Int32Array(n);
    a.set(this.args);
    this.args = a;
    const s = new Int32Array(n);
    s.set(this.statuses);
    this.statuses = s;
    const l = new Float64Array(n);
    l.set(this.latencies);
    this.latencies = l;
  }
}

/**
 * The kernel's timers: queue wakes in a heap of their own beside every other timer, popped in
 * one (time, seq) order (the two heaps share the sequence counter, so the order is exactly that
 * of a single heap). Why: a busy queue sets a wake per token (every 2 ms at 500/s), about as many
 * timers as responses; in a heap of their own (a few entries per queue) they cost a short sift
 * instead of one through the thousands of pending responses and backoffs.
 */
export class Timers {
  private readonly sequence: TimerSequence = { next: 0 };
  private readonly main = new TimerHeap(this.sequence);
  private readonly wakes = new TimerHeap(this.sequence);

  // Fields of the timer most recently popped.
  poppedAt = 0;
  poppedKind: TimerKind = TimerKind.Callback;
  poppedArg = 0;
  poppedStatus = 0;
  poppedLatency = 0;

  get size(): number {
    return this.main.size + this.wakes.size;
  }

  push(at: number, kind: TimerKind, arg: number, status = 0, latency = 0): void {
    if (kind === TimerKind.QueueWake) this.wakes.push(at, kind, arg);
    else this.main.push(at, kind, arg, status, latency);
  }

  /** Time of the earliest timer, or Infinity. */
  peekAt(): number {
    const m = this.main.peekAt();
    const w = this.wakes.peekAt();
    return m < w ? m : w;
  }

  /** Removes the earliest timer (size must be > 0); its fields are left in `popped*`. */
  pop(): void {
    const heap = this.earlier();
    heap.pop();
    this.poppedAt = heap.poppedAt;
    this.poppedKind = heap.poppedKind;
    this.poppedArg = heap.poppedArg;
    this.poppedStatus = heap.poppedStatus;
    this.poppedLatency = heap.poppedLatency;
  }

  private earlier(): TimerHeap {
    const main = this.main;
    const wakes = this.wakes;
    if (wakes.size === 0) return main;
    if (main.size === 0) return wakes;
    const m = main.peekAt();
    const w = wakes.peekAt();
    if (w < m || (w === m && wakes.peekSeq() < main.peekSeq())) return wakes;
    return main;
  }
}
