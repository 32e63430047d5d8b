/**
 * The kernel: a small interpreter around the core's step. It owns the state, the log, the
 * projections and the timers, and runs every input the same way (docs/architecture.md, "One step"):
 *
 *   1. step(state, input, now)      the core decides; each event it decides is applied at once:
 *        └─ apply(event)             evolve the state → feed every projection → append to the log
 *   2. perform the step's effects, in the order the step recorded them:
 *        Dispatch   → the transport (a modelled worker, or HTTP), with the request read off the state
 *        WakeQueue  → a timer for the queue
 *        EndBackoff → a timer for the task
 *        Abort      → the transport ends the attempt's request; its outcome, whenever it comes, is dropped
 *   3. commit: the batch is closed (one batch per step); a durable log writes and fsyncs it later,
 *      in groups (the service acknowledges a command only after that).
 *
 * So an attempt is handed to the transport after its AttemptDispatched is applied and appended,
 * before its batch is committed and before it is fsynced. After a crash, an attempt whose events
 * did not reach the disk is sent again by the restarted service: at-least-once, as App Engine.
 *
 * The kernel knows nothing of how time passes or how attempts travel: a driver gives it time
 * (`advanceTo`) and a Transport. Two drivers exist: virtual time with a modelled worker
 * (virtual-driver.ts) and the wall clock with HTTP (wall-driver.ts).
 *
 * Commit: every entry point that runs a step commits it, except `settle` (an outcome that arrived
 * from outside): its batch stays open until its caller commits (the wall driver does once per turn
 * of the event loop) or the next step commits it with its own.
 */
import type { AttemptRequest } from '../core/attempt.js';
import { copyAttemptRequest, StateAttemptRequest } from '../core/attempt.js';
import { assert, fail } from '../core/assert.js';
import { nextDispatchTime, type AttemptOutcome } from '../core/decide.js';
import { EffectKind, Effects } from '../core/effects.js';
import type { AttemptDispatched, EngineEvent, EngineSettings, TaskAdded } from '../core/events.js';
import type { QueueFileConfig } from '../core/queue-config.js';
import { evolve, type EngineState } from '../core/state.js';
import { step, type Admission, type StepContext, type StepInput } from '../core/step.js';
import { TaskState } from '../core/task-machine.js';
import type { TaskApiFlavour, TaskSpec } from '../core/task-spec.js';
import type { Micros } from '../core/time.js';
import type { EventLog } from '../log/event-log.js';
import { widenField } from '../core/field-shapes.js';
import { checkStall, noStallLook, STALL_TIMERS_MIN } from './stall-guard.js';
import { TimerKind, Timers } from './timer-heap.js';

/** A read model fed every event, with the state that event produced (src/projections). */
export interface EventObserver {
  (event: EngineEvent, state: EngineState): void;
}

/** Where the kernel sends attempts. A driver implements it. */
export interface Transport {
  /** Back-pressure (see core/step.ts); null: the transport takes everything. */
  readonly admit: Admission | null;
  /**
   * Sends an attempt. `request` is only valid during the call (the kernel refills one object for
   * every attempt): copy what you keep (copyAttemptRequest).
   */
  dispatch(request: AttemptRequest): void;
  /**
   * Ends task `id`'s attempt in flight now (a test reset): a real request is aborted, so the worker
   * sees its connection close. Its ending is already logged; an outcome still reported for it is
   * dropped by the kernel. Absent: the request runs on, and only its outcome is dropped.
   */
  abort?(id: number): void;
}

export interface KernelOptions {
  state: EngineState;
  log: EventLog;
  transport: Transport;
  /** Start time; the first timer cannot be earlier. */
  now: Micros;
  observers?: readonly EventObserver[];
}

// A Response timer carries the HTTP status, or this when no answer came before the deadline.
const NO_ANSWER_DEADLINE = -1;
/** The reused add-tasks input's batch between steps. */
const NO_SPECS: readonly TaskSpec[] = Object.freeze([]);

export class Kernel {
  readonly state: EngineState;
  readonly log: EventLog;
  now: Micros;
  private readonly transport: Transport;
  private readonly observers: readonly EventObserver[];
  private readonly timers = new Timers();
  private readonly effects = new Effects();
  private readonly ctx: StepContext;
  /**
   * Per queue index: time of its pending wake timer, or -1. Typed, so that storing a time never
   * boxes it (a plain array of tagged values made a heap number per wake).
   */
  private wakeAt = new Float64Array(16).fill(-1);
  private readonly callbacks: ((kernel: Kernel) => void)[] = [];
  private readonly freeCallbackSlots: number[] = [];
  /** One request object for every dispatch (see Transport.dispatch). */
  private readonly request: StateAttemptRequest;
  /**
   * Tasks whose attempt an Abort effect ended (its event applied), until the transport reports
   * that attempt's outcome: the report is dropped, so it settles nothing. A task id is never
   * reused and an aborted task is deleted, so no later attempt of it can be mistaken for it.
   */
  private readonly aborted = new Set<number>();
  private stepping = false;
  /** Timers fired at the instant `countedAt` so far (stall-guard.ts). */
  private timersAtNow = 0;
  private countedAt: Micros = -1;
  /** Timers at one instant at which the guard looks next: doubled each time it finds the run finite. */
  private nextStallCheck = STALL_TIMERS_MIN;
  /** The guard's last look (its instant carried in it, so nothing is reset per timer). */
  private readonly stallLook = noStallLook();
  /**
   * Bytes stored under the same total_storage_limit outside this kernel, asked at every add (a
   * cluster node's figure for the queues other kernels own: src/cluster/storage-budget.ts); null
   * when this kernel holds every queue (one node, a simulation).
   */
  storedElsewhere: (() => number) | null = null;
  // Inputs of the hot paths, reused (a simulation fires millions of timers).
  private readonly settledInput = { type: 'settled' as const, id: 0, outcome: { status: null, reason: undefined, latencyUs: 0 } as AttemptOutcome };
  private readonly backoffInput = { type: 'backoff-ended' as const, id: 0 };
  private readonly wakeInput = { type: 'queue-wake' as const, queue: 0 };
  /** A simulation adds each arrival with a step of its own: an input object each was 10 bytes of garbage per event. */
  private readonly addInput: StepInput & { type: 'add-tasks' } = { type: 'add-tasks', specs: NO_SPECS, flavour: undefined, storedElsewhereBytes: undefined };

  constructor(options: KernelOptions) {
    this.state = options.state;
    this.log = options.log;
    this.transport = options.transport;
    this.now = options.now;
    this.observers = options.observers ?? [];
    this.request = new StateAttemptRequest(this.state);
    // A time past 2^31 µs is a double: compiled as one from the start (field-shapes.ts).
    widenField(this, 'countedAt', 0.5);
    this.ctx = { apply: (e) => this.apply(e), admit: this.transport.admit, effects: this.effects };
  }

  // ---- the step ----------------------------------------------------------------------------------

  /** Evolves the state, feeds the projections, appends to the log: the only way an event lands. */
  private apply(e: EngineEvent): void {
    evolve(this.state, e);
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) (observers[i] as EventObserver)(e, this.state);
    this.log.append(e);
  }

  /** Runs one input through the core and performs its effects (not committed: see the callers). */
  private run(input: StepInput): TaskAdded[] | null {
    assert(!this.stepping, 'a step started inside another step');
    this.stepping = true;
    const effects = this.effects;
    effects.clear();
    let added: TaskAdded[] | null;
    try {
      added = step(this.state, input, this.now, this.ctx);
    } finally {
      this.stepping = false;
    }
    this.perform(effects);
    return added;
  }

  private perform(effects: Effects): void {
    for (let i = 0; i < effects.length; i++) {
      const at = effects.at[i] as Micros;
      const target = effects.target[i] as number;
      switch (effects.kind[i]) {
        case EffectKind.Dispatch:
          this.transport.dispatch(this.request.fill(effects.attempt[i] as AttemptDispatched));
          break;
        case EffectKind.WakeQueue:
          this.setWake(target, at);
          break;
        case EffectKind.EndBackoff:
          this.timers.push(at, TimerKind.BackoffEnds, target);
          break;
        case EffectKind.Abort:
          this.aborted.add(target);
          this.transport.abort?.(target);
          break;
      }
    }
  }

  private setWake(queueIndex: number, at: Micros): void {
    if (queueIndex >= this.wakeAt.length) {
      const grown = new Float64Array(Math.max(queueIndex + 1, this.wakeAt.length * 2)).fill(-1);
      grown.set(this.wakeAt);
      this.wakeAt = grown;
    }
    if (this.wakeAt[queueIndex] === at) return; // already set for that instant
    this.wakeAt[queueIndex] = at;
    this.timers.push(at, TimerKind.QueueWake, queueIndex);
  }

  /** Closes the open batch: everything since the last commit is kept or lost whole by recovery. */
  commit(): void {
    this.log.commit();
  }

  private runAndCommit(input: StepInput): TaskAdded[] | null {
    const added = this.run(input);
    this.commit();
    return added;
  }

  /**
   * A command: refused before its first event while the log cannot be written (a full disk: the
   * log's LOG_WRITE_FAILED), so nothing is changed that could not be made durable; else run and committed.
   */
  private command(input: StepInput): TaskAdded[] | null {
    const failure = this.log.writeFailure?.() ?? null;
    if (failure !== null) throw failure;
    return this.runAndCommit(input);
  }

  // ---- commands (may throw a PushqError or the log's write failure, and then nothing changed) ----

  applyConfig(config: QueueFileConfig, settings: EngineSettings): void {
    this.command({ type: 'apply-config', config, settings });
  }

  /** New settings (targets, tombstone period) with queue.yaml unchanged: no queue changes state. */
  applySettings(settings: EngineSettings): void {
    const config = this.state.config;
    if (config === null) throw new Error('applySettings before any configuration: apply one first');
    this.command({ type: 'apply-config', config, settings, settingsOnly: true });
  }

  addTasks(specs: readonly TaskSpec[], flavour?: TaskApiFlavour): TaskAdded[] {
    const input = this.addInput;
    input.specs = specs;
    input.flavour = flavour;
    input.storedElsewhereBytes = this.storedElsewhere === null ? undefined : this.storedElsewhere();
    try {
      return this.command(input) as TaskAdded[];
    } finally {
      input.specs = NO_SPECS; // the caller's batch is not kept alive by the kernel
    }
  }

  deleteTask(queue: string, name: string): void {
    this.command({ type: 'delete-task', queue, name });
  }

  pauseQueue(queue: string): void {
    this.command({ type: 'pause-queue', queue });
  }

  resumeQueue(queue: string): void {
    this.command({ type: 'resume-queue', queue });
  }

  /** `forgetNames`: also free every task name of the queue, tombstones included. */
  purgeQueue(queue: string, forgetNames = false): void {
    this.command(forgetNames ? { type: 'purge-queue', queue, forgetNames } : { type: 'purge-queue', queue });
  }

  /**
   * A test reset (`POST /pushq/reset`) of `queues`, as one step: each is purged, its names freed
   * and its token bucket filled, as a freshly deployed queue's, and its attempts in flight ended
   * (their requests aborted); only then does any of them dispatch again.
   */
  resetQueues(queues: readonly string[]): void {
    this.command({ type: 'reset-queues', queues });
  }

  /** A test reset of one queue (resetQueues). */
  resetQueue(queue: string): void {
    this.resetQueues([queue]);
  }

  runTask(queue: string, name: string): void {
    this.command({ type: 'run-task', queue, name });
  }

  /**
   * Ends every attempt that is in flight with a connection failure: what a restarted service
   * does for attempts its crash interrupted. They are retried per policy, so the retry count
   * continues (at-least-once, as App Engine).
   */
  abandonInFlight(error: string): void {
    this.command({ type: 'abandon-in-flight', error });
  }

  /** Logs that the service started again on this log (ServiceStarted; `node`: the cluster node that did): a restart's first batch (restart.ts). */
  markStarted(node?: string): void {
    this.command(node === undefined ? { type: 'mark-started' } : { type: 'mark-started', node });
  }

  // ---- inputs from a driver ----------------------------------------------------------------------

  /**
   * An attempt's outcome, arriving now from outside (a real response). Its batch is left open:
   * the caller commits (see the header). The outcome of an attempt an Abort ended is dropped.
   */
  settle(id: number, outcome: AttemptOutcome): void {
    if (this.aborted.delete(id)) return; // ended by an Abort effect: logged then
    this.run({ type: 'settled', id, outcome });
  }

  /** An attempt's outcome known in advance (a modelled worker): it arrives as a timer input at `at`. */
  settleAt(at: Micros, id: number, status: number | null, latencyUs: Micros): void {
    this.timers.push(at, TimerKind.Response, id, status === null ? NO_ANSWER_DEADLINE : status, latencyUs);
  }

  /** The transport has room again for queue `queueIndex` (back-pressure lifted). */
  roomFreed(queueIndex: number): void {
    this.runAndCommit({ type: 'room-freed', queue: queueIndex });
  }

  /** Rebuilds the timers a state implies, after a replay: backoffs and queue wakes. */
  restoreTimers(): void {
    const tasks = this.state.tasks;
    for (let id = tasks.base; id < tasks.count; id++) {
      const r = tasks.heldRow(id);
      if (r >= 0 && tasks.state[r] === TaskState.Backoff) this.timers.push(tasks.eta[r] as number, TimerKind.BackoffEnds, id);
    }
    for (const q of this.state.queues) {
      const next = nextDispatchTime(this.state, q);
      if (next !== null) this.setWake(q.index, Math.max(next, this.now));
    }
  }

  /** Schedules `fn` at virtual/wall time `at` (≥ now), in timer order. */
  at(at: Micros, fn: (kernel: Kernel) => void): void {
    if (!(at >= this.now)) fail(`cannot schedule in the past (${at} < ${this.now})`);
    let slot = this.freeCallbackSlots.pop();
    if (slot === undefined) slot = this.callbacks.push(fn) - 1;
    else this.callbacks[slot] = fn;
    this.timers.push(at, TimerKind.Callback, slot);
  }

  /** The request the transport gets for attempt `e`, as a copy (for tests and tools). */
  attemptRequest(e: AttemptDispatched): AttemptRequest {
    return copyAttemptRequest(new StateAttemptRequest(this.state).fill(e));
  }

  // ---- time ---------------------------------------------------------------------------------------

  nextTimerAt(): Micros {
    return this.timers.peekAt();
  }

  /** Fires every timer due at or before `until`, in (time, seq) order, each its own step; then now = until. */
  advanceTo(until: Micros): void {
    this.fireThrough(until);
    if (until > this.now && until !== Infinity) this.now = until;
  }

  /** Fires every timer due at or before `until`, in (time, seq) order; now moves to the last one's time. */
  private fireThrough(until: Micros): void {
    for (let next = this.timers.peekAt(); next !== Infinity && next <= until; next = this.timers.peekAt()) this.fireNext();
  }

  /**
   * Fires the earliest timer (there must be one: nextTimerAt() < Infinity) as its own step and
   * commits it; now moves to its time. A runner that checks its own limit between timers calls
   * this rather than advanceTo(nextTimerAt()) per timer, which looked the next timer up three times.
   */
  fireNext(): void {
    const timers = this.timers;
    // Checked before the pop, so a stalled run keeps its next timer (stall-guard.ts).
    if (this.timersAtNow >= this.nextStallCheck && timers.peekAt() === this.countedAt) {
      checkStall(this.state, this.countedAt, this.timersAtNow, this.stallLook);
      this.nextStallCheck *= 2;
    }
    timers.pop();
    const at = timers.poppedAt;
    if (at > this.now) this.now = at;
    if (at !== this.countedAt) {
      this.countedAt = at;
      this.timersAtNow = 0;
      this.nextStallCheck = STALL_TIMERS_MIN;
    }
    this.timersAtNow++;
    this.fire(timers.poppedKind, timers.poppedArg, timers.poppedStatus, timers.poppedLatency);
    this.commit();
  }

  /**
   * Runs until no timer is left (every task settled, or waiting on a paused queue), or `limit`.
   * The clock stops where the run went idle, not at `limit`: only a run the limit cut short
   * (a timer still due after it) ends at `limit`, as `advanceTo` would. `now` after the call
   * thus says which of the two stopped it.
   */
  runUntilIdle(limit: Micros = Infinity): void {
    this.fireThrough(limit);
    if (this.timers.peekAt() !== Infinity) this.advanceTo(limit);
  }

  private fire(kind: TimerKind, arg: number, status: number, latency: number): void {
    switch (kind) {
      case TimerKind.Response: {
        // Ended by an Abort effect (logged then). Read only after a reset aborted something: this
        // is the simulation's hottest timer.
        if (this.aborted.size !== 0 && this.aborted.delete(arg)) return;
        const input = this.settledInput;
        const outcome = input.outcome;
        input.id = arg;
        outcome.status = status >= 0 ? status : null; // else NO_ANSWER_DEADLINE
        outcome.reason = status >= 0 ? undefined : 'deadline';
        outcome.latencyUs = latency;
        this.run(input);
        return;
      }
      case TimerKind.BackoffEnds:
        this.backoffInput.id = arg;
        this.run(this.backoffInput);
        return;
      case TimerKind.QueueWake:
        if (this.wakeAt[arg] !== this.now) return; // superseded by an earlier or later wake
        this.wakeAt[arg] = -1;
        this.wakeInput.queue = arg;
        this.run(this.wakeInput);
        return;
      case TimerKind.Callback: {
        const fn = this.callbacks[arg] as (kernel: Kernel) => void;
        this.callbacks[arg] = noop;
        this.freeCallbackSlots.push(arg);
        fn(this);
        return;
      }
    }
  }
}

function noop(): void {}
