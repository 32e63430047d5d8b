/**
 * Drives a Kernel in virtual time with a modelled worker (the `simulate` row of DESIGN.md's table).
 *
 * Time jumps from one timer to the next (`runUntil`, `runUntilIdle`), so a day of traffic runs in
 * milliseconds. A dispatch is answered by the worker model at once, with a status and a latency
 * drawn from the seeded streams; the kernel gets the outcome back as a timer input at
 * dispatch time + latency. An answer at or past the attempt's handler deadline, or none at all,
 * arrives at the deadline as a deadline failure (S34).
 */
import { NO_ANSWER, type AttemptRequest, type ModelledOutcome } from '../core/attempt.js';
import type { EngineState } from '../core/state.js';
import type { Micros } from '../core/time.js';
import type { EventLog } from '../log/event-log.js';
import { Kernel, type EventObserver, type Transport } from './kernel.js';

/** A modelled worker: fills in `out` for `request` (only valid during the call). */
export interface ModelledWorker {
  answer(request: AttemptRequest, out: ModelledOutcome): void;
}

export interface VirtualDriverOptions {
  state: EngineState;
  log: EventLog;
  worker: ModelledWorker;
  /** Start time, µs; default 0. */
  now?: Micros;
  observers?: readonly EventObserver[];
}

export class VirtualDriver implements Transport {
  readonly kernel: Kernel;
  /** A modelled worker takes every attempt: no back-pressure. */
  readonly admit = null;
  private readonly worker: ModelledWorker;
  /** Filled in by the worker for each attempt (reused: no allocation per attempt). */
  private readonly outcome: ModelledOutcome = { status: 0, latencyUs: 0 };

  constructor(options: VirtualDriverOptions) {
    this.worker = options.worker;
    this.kernel = new Kernel({ state: options.state, log: options.log, transport: this, now: options.now ?? 0, ...(options.observers ? { observers: options.observers } : {}) });
  }

  dispatch(request: AttemptRequest): void {
    const out = this.outcome;
    out.status = NO_ANSWER;
    out.latencyUs = 0;
    this.worker.answer(request, out);
    if (out.status === NO_ANSWER || out.latencyUs >= request.deadlineUs) {
      // No answer, or one after the deadline: the attempt fails at its deadline (S34).
      this.kernel.settleAt(request.dispatchedAt + request.deadlineUs, request.id, null, request.deadlineUs);
      return;
    }
    const latency = Math.max(0, Math.round(out.latencyUs));
    this.kernel.settleAt(request.dispatchedAt + latency, request.id, out.status, latency);
  }

  /** Fires everything due up to `until` (µs). */
  runUntil(until: Micros): void {
    this.kernel.advanceTo(until);
  }

  /** Runs until no timer is left (every task settled, or waiting on a paused queue), or `limit`. */
  runUntilIdle(limit: Micros = Infinity): void {
    this.kernel.runUntilIdle(limit);
  }
}
