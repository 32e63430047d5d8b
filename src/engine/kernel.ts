/**
 * The kernel: one loop for every use of pushq. It owns the state, the timers and the log, and
 * runs each step the same way:
 *
 *   command or timer ──decide──▶ events ──evolve + observers + log.append──▶ log.commit
 *                                                      └──▶ effects (dispatch, timers)
 *
 * Events are applied and appended before their effects run (DESIGN.md). Time comes only from
 * whoever drives the kernel: the simulation jumps `now` to the next timer (virtual time); the
 * service sets it from the wall clock. Ties are broken by timer sequence numbers, so the same
 * inputs give the same events, byte for byte.
 */
import { assert } from '../core/assert.js';
import {
  decideAddTasks,
  decideBackoffElapsed,
  decideDeleteTask,
  decideDispatch,
  decidePauseQueue,
  decidePurgeQueue,
  decideResumeQueue,
  decideRunTask,
  decideSettle,
  nextDispatchTime,
  requireQueue,
  type AttemptOutcome,
} from '../core/decide.js';
import type { AttemptDispatched, ConfigApplied, EngineEvent, EngineSettings, TaskAdded } from '../core/events.js';
import { evolve, taskName, type EngineState, type QueueRuntime } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import type { HttpMethod } from '../core/task-table.js';
import { defaultTaskUrl, type TaskApiFlavour, type TaskSpec } from '../core/task-spec.js';
import { US_PER_HOUR, US_PER_MINUTE, type Micros } from '../core/time.js';
import type { QueueFileConfig } from '../core/queue-config.js';
import type { EventLog } from '../log/event-log.js';
import { NO_ANSWER, type AttemptRequest, type Dispatcher, type ModelledOutcome, type ObservedOutcome } from './attempt.js';
import { TimerKind, Timers } from './timer-heap.js';

/** Called after each event is applied, with the state it produced. */
export type EventObserver = (event: EngineEvent, state: EngineState) => void;

export const DEADLINE_AUTOMATIC_US = 10 * US_PER_MINUTE;
export const DEADLINE_BASIC_MANUAL_US = 24 * US_PER_HOUR;

// A Response timer carries the HTTP status, or this when no answer came before the deadline.
const NO_ANSWER_DEADLINE = -1;

export interface KernelOptions {
  state: EngineState;
  log: EventLog;
  dispatcher: Dispatcher;
  /** Start time; the first timer cannot be earlier. */
  now: Micros;
  observers?: EventObserver[];
  /** Called when an asynchronous (real) attempt has been settled, so a driver can re-arm its timer. */
  onAsyncSettled?: () => void;
  /** Wall-clock time source for asynchronous settles; the simulation never needs it. */
  clock?: () => Micros;
}

export class Kernel {
  readonly state: EngineState;
  readonly log: EventLog;
  now: Micros;
  private readonly dispatcher: Dispatcher;
  private readonly observers: EventObserver[];
  private readonly timers = new Timers();
  /** Per queue index: time of its pending wake timer, or -1. */
  private wakeAt: number[] = [];
  private readonly callbacks: ((kernel: Kernel) => void)[] = [];
  private readonly freeCallbackSlots: number[] = [];
  private readonly onAsyncSettled: (() => void) | undefined;
  private readonly clock: (() => Micros) | undefined;
  private readonly reusedRequest: KernelAttemptRequest;
  private readonly responseOutcome: { status: number | null; reason: AttemptOutcome['reason']; latencyUs: Micros } = { status: null, reason: undefined, latencyUs: 0 };
  /** Filled in by a modelled dispatcher for each attempt (reused: no allocation per attempt). */
  private readonly modelledOutcome: ModelledOutcome = { status: 0, latencyUs: 0 };
  /** Attempts whose (real) outcome has not come back yet. */
  pendingAsync = 0;
  /** Set by `halt`: no new attempt starts; settles and other events still apply. */
  private halted = false;
  /** A setImmediate will end the batch of real settles (see settleAsync). */
  private asyncStepScheduled = false;
  /** Set by `detach`: outcomes and room offers from the dispatcher are ignored. */
  private detached = false;
  /** The dispatcher's backpressure check, if it has one (see RealDispatcher). */
  private readonly hasRoom: ((target: string, queueIndex: number, pinned: boolean) => boolean) | null = null;

  constructor(options: KernelOptions) {
    this.state = options.state;
    this.log = options.log;
    this.dispatcher = options.dispatcher;
    this.now = options.now;
    this.observers = options.observers ?? [];
    this.onAsyncSettled = options.onAsyncSettled;
    this.clock = options.clock;
    this.reusedRequest = new KernelAttemptRequest(this.state);
    const d = this.dispatcher;
    if (d.kind === 'real' && d.hasRoom !== undefined && d.setRoomListener !== undefined) {
      this.hasRoom = d.hasRoom.bind(d);
      d.setRoomListener((queueIndex) => this.roomFor(queueIndex));
    }
  }

  // ---- applying events ---------------------------------------------------------------------------

  private applyOne(e: EngineEvent): void {
    evolve(this.state, e);
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) (observers[i] as EventObserver)(e, this.state);
    this.log.append(e);
  }

  private applyAll(events: readonly EngineEvent[]): void {
    for (const e of events) this.applyOne(e);
  }

  /**
   * Ends a step: everything one command or one timer caused (its events and the dispatches they
   * allowed) is one batch in the log, kept whole or dropped whole by recovery. (Real responses
   * arriving in one turn of the event loop share a batch: see settleAsync.)
   */
  private endStep(): void {
    this.log.commit();
  }

  /** Rebuilds the timers a state implies, after a replay: backoffs and queue wakes. */
  restoreTimers(): void {
    const tasks = this.state.tasks;
    for (let id = 0; id < tasks.count; id++) {
      if (tasks.state[id] === TaskState.Backoff) this.timers.push(tasks.eta[id] as number, TimerKind.BackoffEnds, id);
    }
    for (const q of this.state.queues) this.scheduleWake(q);
  }

  // ---- commands (may throw a PushqError, and then nothing changed) -------------------------------

  applyConfig(config: QueueFileConfig, settings: EngineSettings): void {
    const e: ConfigApplied = { type: 'ConfigApplied', t: this.now, config, settings };
    this.applyOne(e);
    for (const q of this.state.queues) this.pump(q);
    this.endStep();
  }

  addTasks(specs: readonly TaskSpec[], flavour?: TaskApiFlavour): TaskAdded[] {
    const events = decideAddTasks(this.state, specs, this.now, flavour);
    this.applyAll(events);
    let last: string | undefined;
    for (const e of events) {
      if (e.queue === last) continue; // a batch is usually for one queue: pump it once
      last = e.queue;
      this.pump(this.state.queueByName.get(e.queue) as QueueRuntime);
    }
    this.endStep();
    return events;
  }

  deleteTask(queue: string, name: string): void {
    const e = decideDeleteTask(this.state, queue, name, this.now);
    this.applyOne(e);
    this.pump(this.queueOfTask(e.id));
    this.endStep();
  }

  pauseQueue(queue: string): void {
    this.applyOne(decidePauseQueue(this.state, queue, this.now));
    this.endStep();
  }

  resumeQueue(queue: string): void {
    this.applyOne(decideResumeQueue(this.state, queue, this.now));
    this.pump(requireQueue(this.state, queue));
    this.endStep();
  }

  purgeQueue(queue: string): void {
    this.applyOne(decidePurgeQueue(this.state, queue, this.now));
    this.pump(requireQueue(this.state, queue));
    this.endStep();
  }

  runTask(queue: string, name: string): void {
    const e = decideRunTask(this.state, queue, name, this.now);
    this.applyOne(e);
    this.startAttempt(e);
    this.endStep();
  }

  /**
   * Ends every attempt that is in flight with a connection failure: what a restarted service
   * does for attempts its crash interrupted. They are retried per policy, so the retry count
   * continues (at-least-once, as App Engine).
   */
  abandonInFlight(error: string): void {
    const tasks = this.state.tasks;
    const events: EngineEvent[] = [];
    for (let id = 0; id < tasks.count; id++) {
      if (tasks.attemptOpen[id] !== 1) continue;
      const e = decideSettle(this.state, id, { status: null, reason: 'connection', error, latencyUs: 0 }, this.now);
      this.applyOne(e);
      events.push(e);
    }
    for (const e of events) this.afterSettle(e);
    this.endStep();
  }

  /**
   * Stops starting attempts (a service shutting down): in-flight attempts still settle and are
   * logged, but no queue dispatches again, so the log ends with no attempt that was never sent.
   * (A caller stops taking commands first: `runTask` is not guarded.)
   */
  halt(): void {
    this.halted = true;
  }

  /**
   * Stops listening to the dispatcher (a service closing its log): outcomes of real attempts that
   * arrive later, and offers of room, are ignored, so their attempts stay open in the log and a
   * restart dispatches them again (at-least-once).
   */
  detach(): void {
    this.halted = true;
    this.detached = true;
    this.endStep();
  }

  /** Schedules `fn` at virtual/wall time `at` (≥ now), in timer order. */
  at(at: Micros, fn: (kernel: Kernel) => void): void {
    assert(at >= this.now, `cannot schedule in the past (${at} < ${this.now})`);
    let slot = this.freeCallbackSlots.pop();
    if (slot === undefined) slot = this.callbacks.push(fn) - 1;
    else this.callbacks[slot] = fn;
    this.timers.push(at, TimerKind.Callback, slot);
  }

  // ---- time ---------------------------------------------------------------------------------------

  nextTimerAt(): Micros {
    return this.timers.peekAt();
  }

  /** Fires every timer due at or before `until`, in (time, seq) order, then sets now = until. */
  advanceTo(until: Micros): void {
    const timers = this.timers;
    while (timers.size > 0 && timers.peekAt() <= until) {
      timers.pop();
      if (timers.poppedAt > this.now) this.now = timers.poppedAt;
      this.fire(timers.poppedKind, timers.poppedArg, timers.poppedStatus, timers.poppedLatency);
      this.endStep();
    }
    if (until > this.now && until !== Infinity) this.now = until;
  }

  /** Runs until no timer is left (every task settled, or waiting on a paused queue), or `limit`. */
  runUntilIdle(limit: Micros = Infinity): void {
    this.advanceTo(limit);
  }

  private fire(kind: TimerKind, arg: number, status: number, latency: number): void {
    switch (kind) {
      case TimerKind.Response: {
        // One outcome object for every modelled response (decideSettle does not keep it).
        const outcome = this.responseOutcome;
        outcome.status = status >= 0 ? status : null; // else NO_ANSWER_DEADLINE
        outcome.reason = status >= 0 ? undefined : 'deadline';
        outcome.latencyUs = latency;
        this.settleNow(arg, outcome);
        return;
      }
      case TimerKind.BackoffEnds: {
        const e = decideBackoffElapsed(this.state, arg, this.now);
        if (e === null) return;
        this.applyOne(e);
        this.pump(this.queueOfTask(arg));
        return;
      }
      case TimerKind.QueueWake: {
        if (this.wakeAt[arg] !== this.now) return; // superseded by an earlier or later wake
        this.wakeAt[arg] = -1;
        this.pump(this.state.queues[arg] as QueueRuntime);
        return;
      }
      case TimerKind.Callback: {
        const fn = this.callbacks[arg] as (kernel: Kernel) => void;
        this.callbacks[arg] = noop;
        this.freeCallbackSlots.push(arg);
        fn(this);
        return;
      }
    }
  }

  // ---- the queue actor loop -----------------------------------------------------------------------

  /** Dispatches from `q` while its rules allow, then sets a wake for when they next might. */
  pump(q: QueueRuntime): void {
    if (this.halted) return;
    const hasRoom = this.hasRoom;
    for (;;) {
      const e = decideDispatch(this.state, q, this.now);
      if (e === null) break;
      // The transport is full: the task stays pending, and the dispatcher calls roomFor(q)
      // when it can take more (so no wake is set: it would only find the transport full again).
      if (hasRoom !== null && !hasRoom(targetOf(this.state, q, e.id), q.index, q.config.target !== undefined)) return;
      this.applyOne(e);
      this.startAttempt(e);
    }
    this.scheduleWake(q);
  }

  /** The dispatcher has room again for queue `queueIndex`: a step of its own at the current time. */
  private roomFor(queueIndex: number): void {
    if (this.detached) return;
    if (this.clock) this.advanceTo(this.wallNow());
    this.pump(this.state.queues[queueIndex] as QueueRuntime);
    this.endRealStep();
  }

  /** The wall clock's time for a real event, never before the kernel's own `now`. */
  private wallNow(): Micros {
    return this.clock ? Math.max(this.clock(), this.now) : this.now;
  }

  /** Ends a step that real I/O caused (a response, freed room), and lets the driver re-arm. */
  private endRealStep(): void {
    this.endStep();
    this.onAsyncSettled?.();
  }

  private scheduleWake(q: QueueRuntime): void {
    const next = nextDispatchTime(this.state, q);
    if (next === null) return;
    const at = Math.max(next, this.now);
    if (this.wakeAt[q.index] === at) return;
    this.wakeAt[q.index] = at;
    this.timers.push(at, TimerKind.QueueWake, q.index);
  }

  private queueOfTask(id: number): QueueRuntime {
    return this.state.queues[this.state.tasks.queue[id] as number] as QueueRuntime;
  }

  private startAttempt(e: AttemptDispatched): void {
    const dispatcher = this.dispatcher;
    // A modelled answer is given during the call, so one request object serves every attempt
    // (a million attempts, no request objects); a real one outlives it and gets its own.
    const request = dispatcher.kind === 'modelled' ? this.reusedRequest.fill(e) : this.attemptRequest(e);
    if (dispatcher.kind === 'real') {
      this.pendingAsync++;
      dispatcher.send(request).then(
        (outcome) => this.settleAsync(e.id, request, outcome),
        (err: unknown) => this.settleAsync(e.id, request, { status: null, reason: 'connection', error: String((err as Error)?.message ?? err) }),
      );
      return;
    }
    const out = this.modelledOutcome;
    out.status = NO_ANSWER;
    out.latencyUs = 0;
    dispatcher.answer(request, out);
    let latency: Micros;
    let code: number;
    if (out.status === NO_ANSWER || out.latencyUs >= request.deadlineUs) {
      latency = request.deadlineUs; // no answer, or one after the deadline: S34
      code = NO_ANSWER_DEADLINE;
    } else {
      latency = Math.max(0, Math.round(out.latencyUs));
      code = out.status;
    }
    const at = e.t + latency;
    this.timers.push(at, TimerKind.Response, e.id, code, at - e.t);
  }

  private settleAsync(id: number, request: AttemptRequest, outcome: ObservedOutcome): void {
    this.pendingAsync--;
    if (this.detached) return;
    const now = this.wallNow();
    this.advanceTo(now);
    const settled: AttemptOutcome = { status: outcome.status, latencyUs: Math.max(0, now - request.dispatchedAt) };
    if (outcome.reason !== undefined) settled.reason = outcome.reason;
    if (outcome.error !== undefined) settled.error = outcome.error;
    this.settleNow(id, settled);
    // Responses that arrive in one turn of the event loop share one batch (one commit marker,
    // one re-arm): at tens of thousands of responses a second a batch per response was ~3% of
    // the CPU. A command or timer in between ends the batch earlier (endStep commits it).
    if (!this.asyncStepScheduled) {
      this.asyncStepScheduled = true;
      setImmediate(this.endAsyncStep);
    }
  }

  /**
   * Commits the open batch of real settles now rather than at the end of this turn, so a reader
   * of the log (a task's story) finds every event the state already shows.
   */
  commitSettled(): void {
    if (this.asyncStepScheduled && !this.detached) this.log.commit();
  }

  private readonly endAsyncStep = (): void => {
    this.asyncStepScheduled = false;
    if (this.detached) return;
    this.endRealStep();
  };

  private settleNow(id: number, outcome: AttemptOutcome): void {
    const e = decideSettle(this.state, id, outcome, this.now);
    this.applyOne(e);
    this.afterSettle(e);
  }

  private afterSettle(e: EngineEvent): void {
    if (e.type === 'AttemptFailed') this.timers.push(e.retryAt, TimerKind.BackoffEnds, e.id);
    if ('id' in e) this.pump(this.queueOfTask(e.id));
  }

  /** The request for an attempt, from the task as it is after its AttemptDispatched. */
  attemptRequest(e: AttemptDispatched): AttemptRequest {
    return new KernelAttemptRequest(this.state).fill(e);
  }
}

/** An AttemptRequest read off the state; the name string is only built if a dispatcher asks. */
class KernelAttemptRequest implements AttemptRequest {
  id = 0;
  queue = '';
  method: HttpMethod = 'POST';
  url = '';
  headers: readonly [string, string][] = NO_HEADERS;
  body: string | undefined = undefined;
  bodyBytes = 0;
  target = '';
  retryCount = 0;
  executionCount = 0;
  previousStatus: number | null = null;
  etaUs: Micros = 0;
  dispatchedAt: Micros = 0;
  deadlineUs: Micros = 0;
  forced = false;
  private cachedName: string | undefined = undefined;

  constructor(private readonly state: EngineState) {}

  fill(e: AttemptDispatched): this {
    const state = this.state;
    const tasks = state.tasks;
    const id = e.id;
    const q = state.queues[tasks.queue[id] as number] as QueueRuntime;
    const meta = tasks.meta[id];
    const lastStatus = tasks.lastStatus[id] as number;
    this.id = id;
    this.queue = q.name;
    this.method = meta?.method ?? 'POST';
    this.url = meta?.url ?? defaultUrlOf(q);
    this.headers = meta?.headers ?? NO_HEADERS;
    this.body = meta?.body;
    this.bodyBytes = meta?.bodyBytes ?? 0;
    this.target = targetOf(state, q, id);
    this.retryCount = (tasks.dispatchCount[id] as number) - 1;
    this.executionCount = tasks.executionCount[id] as number;
    this.previousStatus = lastStatus === 0 ? null : lastStatus;
    this.etaUs = tasks.eta[id] as number;
    this.dispatchedAt = e.t;
    this.deadlineUs = attemptDeadline(state.settings, this.target, meta?.dispatchDeadlineUs);
    this.forced = e.forced === true;
    this.cachedName = undefined;
    return this;
  }

  get name(): string {
    return (this.cachedName ??= taskName(this.state, this.id));
  }
}

/** The App Engine service an attempt of task `id` goes to: the queue's target wins (S37). */
function targetOf(state: EngineState, q: QueueRuntime, id: number): string {
  return q.config.target ?? state.tasks.meta[id]?.target ?? 'default';
}

const defaultUrls = new WeakMap<QueueRuntime, string>();

/** A queue's default task URL, built once per queue rather than once per attempt. */
function defaultUrlOf(q: QueueRuntime): string {
  let url = defaultUrls.get(q);
  if (url === undefined) {
    url = defaultTaskUrl(q.name);
    defaultUrls.set(q, url);
  }
  return url;
}

const NO_HEADERS: readonly [string, string][] = Object.freeze([]) as unknown as readonly [string, string][];

function noop(): void {}

/**
 * The handler deadline of an attempt: the task's own dispatch deadline when it has one, else the
 * target's scaling deadline (deadlineFor). The scaling deadline still caps it: Cloud Tasks says
 * "regardless of the task's dispatch_deadline, the app handler will not run for longer than the
 * service's timeout" (Task.dispatch_deadline, Cloud Tasks v2), so a 30-minute deadline on an
 * automatic-scaling target still ends at 10 minutes.
 */
export function attemptDeadline(settings: EngineSettings, target: string, taskDeadlineUs: Micros | undefined): Micros {
  const scaling = deadlineFor(settings, target);
  return taskDeadlineUs === undefined ? scaling : Math.min(taskDeadlineUs, scaling);
}

/** S34: 10 minutes for automatic scaling, 24 h for basic/manual. `version.service` → service. */
export function deadlineFor(settings: EngineSettings, target: string): Micros {
  const service = target.includes('.') ? target.slice(target.indexOf('.') + 1) : target;
  const scaling = (settings.targets[target] ?? settings.targets[service])?.scaling ?? 'automatic';
  return scaling === 'automatic' ? DEADLINE_AUTOMATIC_US : DEADLINE_BASIC_MANUAL_US;
}
