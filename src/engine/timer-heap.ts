/**
 * The kernel's timers, ordered by (time, seq): a binary min-heap over parallel typed arrays, so
 * a million pending timers cost no objects. `seq` is a counter, so two timers due at the same
 * microsecond fire in the order they were set: never by insertion luck.
 *
 * A timer carries a kind, an integer argument (task id, queue index, callback slot) and, for an
 * attempt's response, its status and latency.
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

export class TimerHeap {
  private at = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private kinds = new Uint8Array(1024);
  private args = new Int32Array(1024);
  private statuses = new Int32Array(1024);
  private latencies = new Float64Array(1024);
  private order: Int32Array = new Int32Array(1024); // heap of slot indices
  private freeSlots: number[] = [];
  private slotsUsed = 0;
  private nextSeq = 0;
  size = 0;

  // Fields of the timer most recently popped.
  poppedAt = 0;
  poppedKind: TimerKind = TimerKind.Callback;
  poppedArg = 0;
  poppedStatus = 0;
  poppedLatency = 0;

  push(at: number, kind: TimerKind, arg: number, status = 0, latency = 0): void {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.slotsUsed === this.at.length) this.grow();
      slot = this.slotsUsed++;
    }
    this.at[slot] = at;
    this.seqs[slot] = this.nextSeq++;
    this.kinds[slot] = kind;
    this.args[slot] = arg;
    this.statuses[slot] = status;
    this.latencies[slot] = latency;
    if (this.size === this.order.length) {
      const o = new Int32Array(this.order.length * 2);
      o.set(this.order);
      this.order = o;
    }
    let pos = this.size++;
    // sift up
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const p = this.order[parent] as number;
      if (!this.before(slot, p)) break;
      this.order[pos] = p;
      pos = parent;
    }
    this.order[pos] = slot;
  }

  /** Time of the earliest timer, or Infinity. */
  peekAt(): number {
    return this.size === 0 ? Infinity : (this.at[this.order[0] as number] as number);
  }

  /** Removes the earliest timer; its fields are left in the `popped*` properties. */
  pop(): void {
    const top = this.order[0] as number;
    this.poppedAt = this.at[top] as number;
    this.poppedKind = this.kinds[top] as TimerKind;
    this.poppedArg = this.args[top] as number;
    this.poppedStatus = this.statuses[top] as number;
    this.poppedLatency = this.latencies[top] as number;
    this.freeSlots.push(top);
    const n = --this.size;
    if (n === 0) return;
    const last = this.order[n] as number;
    let pos = 0;
    for (;;) {
      const left = 2 * pos + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.before(this.order[right] as number, this.order[left] as number)) child = right;
      const c = this.order[child] as number;
      if (!this.before(c, last)) break;
      this.order[pos] = c;
      pos = child;
    }
    this.order[pos] = last;
  }

  private before(a: number, b: number): boolean {
    const ta = this.at[a] as number;
    const tb = this.at[b] as number;
    return ta < tb || (ta === tb && (this.seqs[a] as number) < (this.seqs[b] as number));
  }

  private grow(): void {
    const n = this.at.length * 2;
    const f64 = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.at = f64(this.at);
    this.seqs = f64(this.seqs);
    this.latencies = f64(this.latencies);
    const k = new Uint8Array(n); k.set(this.kinds); this.kinds = k;
    const a = new Int32Array(n); a.set(this.args); this.args = a;
    const s = new Int32Array(n); s.set(this.statuses); this.statuses = s;
  }
}
