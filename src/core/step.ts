/**
 * The step: one input in, its events and effects out. Every change pushq makes goes through here,
 * whatever drives it (a simulation in virtual time, `pushq serve` on the wall clock):
 *
 *   input ──decide──▶ event ──ctx.apply──▶ (decide again on the new state) … ──▶ effects
 *
 * An input is a command (add tasks, delete, pause, resume, purge, run, apply a config, end the
 * attempts a crash interrupted) or something from outside (an attempt settled, a backoff or a
 * queue's wake-up came due, the transport has room again), or the mark that the service started
 * again on a log that has events.
 *
 * Invariants:
 * - Each decided event goes to `ctx.apply` before the next decision, because the next decision
 *   reads the state that event produced (the queue actor's loop: dispatch while a token, a slot and
 *   a due task are there). The kernel's `apply` evolves the state, feeds the projections and
 *   appends to the log; the step itself does no IO and reads no clock: `now` is an argument.
 * - Effects are data (effects.ts), recorded in the order they arose; the kernel performs them after
 *   the step, in that order.
 * - A refused command throws a PushqError before its first event: nothing was applied.
 * - The only question the step asks outside itself is `ctx.admit` (back-pressure): may an attempt
 *   of this queue to this target start now? A transport that says yes has reserved room for the
 *   Dispatch effect that follows; one that says no calls back later (a `room-freed` input), so
 *   no AttemptDispatched is logged for a request that could not be sent. null: always yes.
 */
import {
  decideAddTasks,
  decideBackoffElapsed,
  decideDeleteTask,
  decideDispatch,
  decidePauseQueue,
  decidePurgeQueue,
  decideResetQueue,
  decideResumeQueue,
  decideRunTask,
  decideSettle,
  nextDispatchTime,
  requireQueue,
  type AttemptOutcome,
} from './decide.js';
import { attemptTarget, RESET_ERROR } from './attempt.js';
import { decideDevServerDispatch, devServerDueAt, devServerNextQueue } from './dev-server.js';
import type { Effects } from './effects.js';
import type { EngineEvent, EngineSettings, TaskAdded } from './events.js';
import { configInKeyOrder, type QueueFileConfig } from './queue-config.js';
import { settingsInKeyOrder, type EngineState, type QueueRuntime } from './state.js';
import type { TaskApiFlavour, TaskSpec } from './task-spec.js';
import type { Micros } from './time.js';

export type StepInput =
  | { type: 'apply-config'; config: QueueFileConfig; settings: EngineSettings; settingsOnly?: true }
  /** `storedElsewhereBytes`: bytes other kernels hold under the same total_storage_limit (a cluster; decideAddTasks). */
  | { type: 'add-tasks'; specs: readonly TaskSpec[]; flavour?: TaskApiFlavour; storedElsewhereBytes?: number }
  | { type: 'delete-task'; queue: string; name: string }
  | { type: 'pause-queue'; queue: string }
  | { type: 'resume-queue'; queue: string }
  | { type: 'purge-queue'; queue: string; forgetNames?: boolean }
  /** A test reset of these queues, as one step: purge, free every name, refill the bucket (decideResetQueue), end the attempts in flight. */
  | { type: 'reset-queues'; queues: readonly string[] }
  /** A test reset of one queue (reset-queues of it; the input's name before resets took several). */
  | { type: 'reset-queue'; queue: string }
  | { type: 'run-task'; queue: string; name: string }
  /** Ends every attempt in flight as a connection failure (a restart after a crash): retried per policy. */
  | { type: 'abandon-in-flight'; error: string }
  /** The service started again on this log (a restart; `node`: the cluster node that took the queue): from its last event to now, nothing ran. */
  | { type: 'mark-started'; node?: string }
  | { type: 'settled'; id: number; outcome: AttemptOutcome }
  | { type: 'backoff-ended'; id: number }
  | { type: 'queue-wake'; queue: number }
  | { type: 'room-freed'; queue: number };

/** Whether the transport can take an attempt of queue `queueIndex` to `target` now; yes reserves room. */
export type Admission = (target: string, queueIndex: number, pinned: boolean) => boolean;

export interface StepContext {
  /** Applies one event (the kernel: evolve, projections, log). */
  apply(event: EngineEvent): void;
  admit: Admission | null;
  effects: Effects;
}

/** Runs one input. Returns the TaskAdded events of an `add-tasks`, null for every other input. */
export function step(state: EngineState, input: StepInput, now: Micros, ctx: StepContext): TaskAdded[] | null {
  switch (input.type) {
    case 'settled':
      settle(state, input.id, input.outcome, now, ctx);
      return null;
    case 'queue-wake':
    case 'room-freed':
      pump(state, state.queues[input.queue] as QueueRuntime, now, ctx);
      return null;
    case 'backoff-ended': {
      const e = decideBackoffElapsed(state, input.id, now);
      if (e === null) return null; // run or deleted since its backoff began
      ctx.apply(e);
      pump(state, queueOfTask(state, input.id), now, ctx);
      return null;
    }
    case 'add-tasks': {
      const events = decideAddTasks(state, input.specs, now, input.flavour, input.storedElsewhereBytes);
      // Indexed loops: V8 did not optimize away these loops' iterators (`for…of`), garbage on every add.
      for (let i = 0; i < events.length; i++) ctx.apply(events[i] as TaskAdded);
      let last: string | undefined;
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as TaskAdded;
        if (e.queue === last) continue; // a batch is usually for one queue: pump it once
        last = e.queue;
        pump(state, state.queueByName.get(e.queue) as QueueRuntime, now, ctx);
      }
      return events;
    }
    case 'apply-config': {
      // In one key order whatever order the caller set them in: equal inputs, equal log bytes.
      const config = configInKeyOrder(input.config);
      const settings = settingsInKeyOrder(input.settings);
      ctx.apply(input.settingsOnly === true ? { type: 'ConfigApplied', t: now, config, settings, settingsOnly: true } : { type: 'ConfigApplied', t: now, config, settings });
      for (const q of state.queues) pump(state, q, now, ctx);
      return null;
    }
    case 'delete-task': {
      const e = decideDeleteTask(state, input.queue, input.name, now);
      ctx.apply(e);
      pump(state, queueOfTask(state, e.id), now, ctx);
      return null;
    }
    case 'pause-queue':
      ctx.apply(decidePauseQueue(state, input.queue, now));
      return null;
    case 'resume-queue':
      ctx.apply(decideResumeQueue(state, input.queue, now));
      pump(state, requireQueue(state, input.queue), now, ctx);
      return null;
    case 'purge-queue':
      ctx.apply(decidePurgeQueue(state, input.queue, now, input.forgetNames === true));
      pump(state, requireQueue(state, input.queue), now, ctx);
      return null;
    case 'reset-queue':
    case 'reset-queues': {
      const names = input.type === 'reset-queue' ? [input.queue] : input.queues;
      // Every queue is checked before the first event (a refused reset changes nothing).
      const purges = names.map((name) => decideResetQueue(state, name, now));
      const queues = names.map((name) => requireQueue(state, name));
      const inFlight = queues.flatMap((q) => attemptsInFlight(state, q));
      for (const e of purges) ctx.apply(e);
      // The attempts in flight end with the reset, in its batch, and their requests are aborted:
      // a previous test's request is not left open at the worker, and its late answer has no
      // attempt left to settle (docs/serve.md, Test hooks). Only then do the queues dispatch
      // again, every one purged first: in dev-server mode a slot one queue frees is the app's,
      // and a queue not yet purged would take it for a task of the test before.
      for (const id of inFlight) {
        ctx.apply(decideSettle(state, id, { status: null, reason: 'connection', error: RESET_ERROR, latencyUs: 0 }, now));
        ctx.effects.abort(id, now);
      }
      for (const q of queues) pump(state, q, now, ctx);
      return null;
    }
    case 'run-task': {
      // A forced run takes no token and asks no transport for room (Cloud Tasks RunTask).
      const e = decideRunTask(state, input.queue, input.name, now);
      ctx.apply(e);
      ctx.effects.dispatch(e);
      return null;
    }
    case 'abandon-in-flight': {
      const tasks = state.tasks;
      const ended: EngineEvent[] = [];
      for (let id = tasks.base; id < tasks.count; id++) {
        const r = tasks.heldRow(id);
        if (r < 0 || tasks.attemptOpen[r] !== 1) continue;
        const e = decideSettle(state, id, { status: null, reason: 'connection', error: input.error, latencyUs: 0 }, now);
        ctx.apply(e);
        ended.push(e);
      }
      for (const e of ended) afterSettle(state, e, now, ctx);
      return null;
    }
    case 'mark-started':
      // Read before the event is applied: evolve moves lastEventAt to it.
      ctx.apply(input.node === undefined ? { type: 'ServiceStarted', t: now, stoppedAfter: state.lastEventAt } : { type: 'ServiceStarted', t: now, stoppedAfter: state.lastEventAt, node: input.node });
      return null;
  }
}

/** The tasks of `q` with an attempt in flight (deleted ones' included), in id order. */
function attemptsInFlight(state: EngineState, q: QueueRuntime): number[] {
  const tasks = state.tasks;
  const ids: number[] = [];
  if (q.inFlight === 0) return ids;
  for (let id = tasks.base; id < tasks.count; id++) {
    const r = tasks.heldRow(id);
    if (r >= 0 && tasks.attemptOpen[r] === 1 && tasks.queue[r] === q.index) ids.push(id);
  }
  return ids;
}

/** An attempt ended: its settle event, then its backoff (if it will retry) and its queue's next dispatches. */
function settle(state: EngineState, id: number, outcome: AttemptOutcome, now: Micros, ctx: StepContext): void {
  const e = decideSettle(state, id, outcome, now);
  ctx.apply(e);
  afterSettle(state, e, now, ctx);
}

function afterSettle(state: EngineState, e: EngineEvent, now: Micros, ctx: StepContext): void {
  if (e.type === 'AttemptFailed') ctx.effects.endBackoff(e.id, e.retryAt);
  if ('id' in e) pump(state, queueOfTask(state, e.id), now, ctx);
}

/**
 * The queue actor's loop: dispatches from `q` while its rules allow (decideDispatch: running, a
 * due task, a token, a free slot), then asks to be woken when they next might.
 */
function pump(state: EngineState, q: QueueRuntime, now: Micros, ctx: StepContext): void {
  if (state.settings.devServer === true) {
    pumpDevServer(state, now, ctx);
    return;
  }
  const admit = ctx.admit;
  for (;;) {
    const e = decideDispatch(state, q, now);
    if (e === null) break;
    // The transport is full: the task stays pending, and the transport offers room later (a
    // `room-freed` input), so no wake is asked for: it would only find the transport full again.
    if (admit !== null && !admit(attemptTarget(state, q, e.id), q.index, q.config.target !== null)) return;
    ctx.apply(e);
    ctx.effects.dispatch(e);
  }
  const next = nextDispatchTime(state, q);
  if (next !== null) ctx.effects.wakeQueue(q.index, Math.max(next, now));
}

/**
 * The pump of dev-server mode (dev-server.ts): whichever queue asked, the app-wide first task is
 * dispatched when due and nothing is in flight, or its queue is woken when it is due.
 */
function pumpDevServer(state: EngineState, now: Micros, ctx: StepContext): void {
  const q = devServerNextQueue(state);
  if (q === null) return;
  const e = decideDevServerDispatch(state, q, now);
  if (e === null) {
    ctx.effects.wakeQueue(q.index, Math.max(devServerDueAt(state, q), now));
    return;
  }
  if (ctx.admit !== null && !ctx.admit(attemptTarget(state, q, e.id), q.index, q.config.target !== null)) return;
  ctx.apply(e);
  ctx.effects.dispatch(e);
}

function queueOfTask(state: EngineState, id: number): QueueRuntime {
  return state.queues[state.tasks.queue[state.tasks.row(id)] as number] as QueueRuntime;
}
