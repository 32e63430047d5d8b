/**
 * Per queue: how many tasks are ready (pending, ETA come) at any instant, and what held them.
 *
 * Between two events of a queue nothing about it changes but time: tokens refill and delayed tasks'
 * ETAs arrive. The engine dispatches the moment its rules allow (a wake timer at the next token or
 * ETA), so while ready tasks wait, the reason they wait is constant between the queue's events: it
 * is worked out from the state after each event (`holdCause`), and the ready-task-µs until the
 * next event are added to that cause. Tasks whose ETA is in the future sit in a small heap and
 * join the ready count at their ETA, splitting the interval there.
 *
 * A span pushq was not running (a ServiceStarted: from the last event before the start to the
 * start) has no events to split it: it counts as `not_running` (downtimeHoldCause), and so does
 * the part of it a task whose backoff ended meanwhile spent ready, counted when its BackoffElapsed
 * comes at the start.
 *
 * Every task is in at most one place here (`where`): ready, delayed (in the heap), or neither.
 * Heap entries of tasks that left (dispatched by a forced run, deleted) are dropped when popped.
 */
import type { QueueRuntime } from '../core/state.js';
import { hasTokenAt } from '../core/token-bucket.js';
import type { Micros } from '../core/time.js';
import { widenField } from '../core/field-shapes.js';
import { HOLD_CAUSES, type HoldCause, type WaitByCause } from './series-types.js';

const NOWHERE = 0;
const READY = 1;
const DELAYED = 2;

/**
 * Index into HOLD_CAUSES of what holds `q`'s ready tasks at `now` (state after an event). In
 * dev-server mode (core/dev-server.ts) rate, bucket and pause hold nothing: a ready task waits for
 * the app's one dispatch thread, counted as `concurrency` (a limit of 1 for the whole app).
 */
export function holdCause(q: QueueRuntime, now: Micros, devServer: boolean): number {
  if (devServer) return q.disabled || !q.isPush ? CAUSE_DISABLED : CAUSE_CONCURRENCY;
  if (q.paused) return CAUSE_PAUSED;
  if (q.disabled || !q.isPush || q.bucket === null || q.bucket.capacityCredit < q.bucket.periodUs) return CAUSE_DISABLED;
  if (q.inFlight >= q.maxConcurrent) return CAUSE_CONCURRENCY;
  if (!hasTokenAt(q.bucket, now)) return CAUSE_TOKENS;
  // Allowed to go, yet not gone: the transport refused room (serve's back-pressure).
  return CAUSE_TRANSPORT;
}

/**
 * Index into HOLD_CAUSES of what held `q`'s ready tasks while pushq was not running (state at the
 * start that ended the span): a paused or disabled queue held them whatever pushq did, so it keeps
 * the blame; any other hold (tokens, concurrency, the transport) would have let them go at some
 * moment that pushq, not running, never reached, so the span is `not_running`.
 */
export function downtimeHoldCause(q: QueueRuntime, now: Micros, devServer: boolean): number {
  const c = holdCause(q, now, devServer);
  return c === CAUSE_PAUSED || c === CAUSE_DISABLED ? c : CAUSE_NOT_RUNNING;
}

const CAUSE_TOKENS = HOLD_CAUSES.indexOf('tokens');
const CAUSE_CONCURRENCY = HOLD_CAUSES.indexOf('concurrency');
const CAUSE_PAUSED = HOLD_CAUSES.indexOf('paused');
const CAUSE_DISABLED = HOLD_CAUSES.indexOf('disabled');
const CAUSE_TRANSPORT = HOLD_CAUSES.indexOf('transport');
const CAUSE_NOT_RUNNING = HOLD_CAUSES.indexOf('not_running');

/** A min-heap of (eta, task id) over two growable typed arrays. */
export class EtaHeap {
  private etas = new Float64Array(16);
  private ids = new Float64Array(16);
  size = 0;

  push(eta: number, id: number): void {
    if (this.size === this.etas.length) {
      const etas = new Float64Array(this.size * 2);
      const ids = new Float64Array(this.size * 2);
      etas.set(this.etas);
      ids.set(this.ids);
      this.etas = etas;
      this.ids = ids;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.etas[parent] as number) <= eta) break;
      this.etas[i] = this.etas[parent] as number;
      this.ids[i] = this.ids[parent] as number;
      i = parent;
    }
    this.etas[i] = eta;
    this.ids[i] = id;
  }

  topEta(): number {
    return this.size === 0 ? Infinity : (this.etas[0] as number);
  }

  topId(): number {
    return this.ids[0] as number;
  }

  pop(): void {
    const n = --this.size;
    const eta = this.etas[n] as number;
    const id = this.ids[n] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (this.etas[child + 1] as number) < (this.etas[child] as number)) child++;
      if ((this.etas[child] as number) >= eta) break;
      this.etas[i] = this.etas[child] as number;
      this.ids[i] = this.ids[child] as number;
      i = child;
    }
    this.etas[i] = eta;
    this.ids[i] = id;
  }

  etaAt(i: number): number {
    return this.etas[i] as number;
  }

  idAt(i: number): number {
    return this.ids[i] as number;
  }

  clear(): void {
    this.size = 0;
  }
}

export class QueueReadiness {
  ready = 0;
  readonly delayed = new EtaHeap();
  /** Time up to which `byCause` is summed. */
  lastUs: Micros;
  /** Index into HOLD_CAUSES, from the state after the queue's last event. */
  cause = CAUSE_TRANSPORT;
  /** Ready-task-µs per cause. */
  readonly byCause = new Float64Array(HOLD_CAUSES.length);
  /** The latest span pushq was not running (ServiceStarted: stoppedAfter to t), -1 to -1 before any; and what held the queue then. */
  downFromUs = -1;
  downToUs = -1;
  downCause = CAUSE_NOT_RUNNING;

  constructor(startUs: Micros) {
    this.lastUs = startUs;
  }

  /** Ready-task seconds per cause: `byCause` (summed to `lastUs`), or such sums to a later instant (ReadinessTracker.byCauseAt). */
  waitByCauseSeconds(byCause: Float64Array = this.byCause): WaitByCause {
    const out = {} as WaitByCause;
    HOLD_CAUSES.forEach((c: HoldCause, i) => (out[c] = (byCause[i] as number) / 1e6));
    return out;
  }
}

/** The ready count and hold causes of every queue; the task-level bookkeeping they share. */
export class ReadinessTracker {
  readonly queues: QueueReadiness[] = [];
  /**
   * Per task from id `whereBase` on: NOWHERE, READY or DELAYED. Like a task table that releases
   * ended tasks (task-table.ts), it lets go of the ids below the table's base (ended tasks are
   * NOWHERE), so it follows the tasks alive, not every task added.
   */
  private where = new Uint8Array(16);
  private whereBase = 0;

  constructor(private readonly startUs: Micros) {
    // `whereBase` moves only once a run has grown, as the task table's base: compiled as a field that changes (core/field-shapes.ts).
    widenField(this, 'whereBase', 1);
  }

  queue(index: number): QueueReadiness {
    while (this.queues.length <= index) this.queues.push(new QueueReadiness(this.startUs));
    return this.queues[index] as QueueReadiness;
  }

  /** Sums `q`'s hold time up to `t`, moving delayed tasks whose ETA came into the ready count. */
  advance(q: QueueReadiness, t: Micros): void {
    const heap = q.delayed;
    while (heap.size > 0 && heap.topEta() <= t) {
      const eta = heap.topEta();
      const id = heap.topId();
      heap.pop();
      if (this.where[id - this.whereBase] !== DELAYED) continue;
      this.sum(q, eta);
      this.where[id - this.whereBase] = READY;
      q.ready++;
    }
    this.sum(q, t);
  }

  private sum(q: QueueReadiness, to: Micros): void {
    if (to <= q.lastUs) return;
    if (q.ready > 0) q.byCause[q.cause] = (q.byCause[q.cause] as number) + q.ready * (to - q.lastUs);
    q.lastUs = to;
  }

  /**
   * A task was added (at `t`, already advanced to) with this ETA. `tableBase`: the task table's
   * base (tasks below it have ended and were released).
   */
  added(q: QueueReadiness, id: number, eta: Micros, t: Micros, tableBase: number): void {
    this.ensure(id, tableBase);
    const i = id - this.whereBase;
    if (eta <= t) {
      this.where[i] = READY;
      q.ready++;
    } else {
      this.where[i] = DELAYED;
      q.delayed.push(eta, id);
    }
  }

  /**
   * A task became ready (its backoff ended) at `t`, the queue advanced to it; it was added before,
   * so its slot exists. `readyAtUs`: its backoff's end. When that was before the latest start (it
   * ended while pushq was not running, and the start's timer logged it at once), its ready time in
   * that span is counted too, under the span's cause, and from the start to `t` under the queue's.
   * Any other late timer's gap is not counted, as before this span was known.
   */
  becameReady(q: QueueReadiness, id: number, readyAtUs: Micros, t: Micros): void {
    this.where[id - this.whereBase] = READY;
    q.ready++;
    if (readyAtUs >= q.downToUs) return;
    const from = readyAtUs > q.downFromUs ? readyAtUs : q.downFromUs;
    q.byCause[q.downCause] = (q.byCause[q.downCause] as number) + (q.downToUs - from);
    if (t > q.downToUs) q.byCause[q.cause] = (q.byCause[q.cause] as number) + (t - q.downToUs);
  }

  /**
   * pushq started again at `t` (ServiceStarted) after its last event at `stoppedAfterUs`: the
   * queue's ready tasks were held by its cause up to then, and by the span's (downtimeHoldCause,
   * from `runtime` as the start found it) from then to `t`. Advances to `stoppedAfterUs` only, so
   * the caller advances on to `t` (through the series' interval ends first) and rechecks the cause.
   */
  restarted(q: QueueReadiness, runtime: QueueRuntime, stoppedAfterUs: Micros, t: Micros, devServer: boolean): void {
    this.advance(q, stoppedAfterUs);
    q.cause = downtimeHoldCause(runtime, t, devServer);
    q.downFromUs = q.lastUs;
    q.downToUs = t;
    q.downCause = q.cause;
  }

  /** A task left the waiting tasks (dispatched, deleted). */
  left(q: QueueReadiness, id: number): void {
    const i = id - this.whereBase;
    if (i < 0 || i >= this.where.length) return;
    if (this.where[i] === READY) q.ready--;
    this.where[i] = NOWHERE;
  }

  /** Every waiting task of the queue is gone (a purge). */
  emptied(q: QueueReadiness): void {
    // A stale entry below whereBase reads undefined and is written nowhere (typed arrays ignore it).
    for (let i = 0; i < q.delayed.size; i++) this.where[q.delayed.idAt(i) - this.whereBase] = NOWHERE;
    q.delayed.clear();
    q.ready = 0;
  }

  /** Re-reads the hold cause from the state after an event. */
  recheck(q: QueueReadiness, runtime: QueueRuntime, t: Micros, devServer: boolean): void {
    q.cause = holdCause(runtime, t, devServer);
  }

  /**
   * `q`'s ready-task-µs per cause summed to `t` ≥ its last advance, without advancing it (as
   * `readyAt`): a figure read at an instant leaves the tracker where the events left it. Advanced
   * by a read into a span pushq was not running (the dashboard's past at an instant between the
   * last event before a stop and the ServiceStarted), the tracker counted the span's start from
   * the read, not from the stop, under the cause before it: the view, folded on past the start
   * (time-travel.ts), differed from a fold from the first event.
   */
  byCauseAt(q: QueueReadiness, t: Micros): Float64Array {
    const byCause = Float64Array.from(q.byCause);
    if (t <= q.lastUs) return byCause;
    // Each task ready from lastUs, and each delayed one from its ETA on (the order of the ETAs
    // does not change the sum), all under the cause of the queue's last event (constant until its next).
    let readyUs = q.ready * (t - q.lastUs);
    const heap = q.delayed;
    if (heap.size > 0 && heap.topEta() <= t) {
      for (let i = 0; i < heap.size; i++) {
        const eta = heap.etaAt(i);
        if (eta <= t && this.where[heap.idAt(i) - this.whereBase] === DELAYED) readyUs += t - (eta > q.lastUs ? eta : q.lastUs);
      }
    }
    byCause[q.cause] = (byCause[q.cause] as number) + readyUs;
    return byCause;
  }

  /** Ready tasks of `q` at `t` ≥ its last advance, without advancing it (a partial interval). */
  readyAt(q: QueueReadiness, t: Micros): number {
    let n = q.ready;
    const heap = q.delayed;
    if (heap.topEta() > t) return n;
    for (let i = 0; i < heap.size; i++) if (heap.etaAt(i) <= t && this.where[heap.idAt(i) - this.whereBase] === DELAYED) n++;
    return n;
  }

  /** Room for task `id`: lets go of the ids below `tableBase` once they are half the slots, else grows. */
  private ensure(id: number, tableBase: number): void {
    const where = this.where;
    if (id - this.whereBase < where.length) return;
    const drop = tableBase - this.whereBase;
    if (drop * 2 >= where.length) {
      where.copyWithin(0, drop);
      where.fill(NOWHERE, where.length - drop);
      this.whereBase = tableBase;
    }
    let n = where.length;
    while (n <= id - this.whereBase) n *= 2;
    if (n === where.length) return;
    const grown = new Uint8Array(n);
    grown.set(where);
    this.where = grown;
  }
}
