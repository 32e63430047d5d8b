/**
 * The task lifecycle: the one definition, as an XState machine.
 *
 *            DISPATCH/RUN            SUCCEED
 *   pending ─────────────▶ dispatching ───────▶ succeeded
 *      ▲                     │    │  GIVE_UP
 *      │ RETRY_DUE      FAIL │    └───────────▶ failed      (both retry limits exceeded)
 *      └──── backoff ◀───────┘
 *   DELETE from pending, dispatching or backoff ─▶ deleted  (deleted or purged)
 *   RUN from backoff ─▶ dispatching                          (force-run, ignores rate limits)
 *
 * Running XState's interpreter per event is ~1000× too slow for a million-task simulation
 * (DESIGN.md), so the runtime uses a transition table DERIVED from this machine's config: not a
 * hand-written twin. spec/task-machine.spec.ts proves the table equals XState's `transition()`
 * for any event sequence, and `taskSnapshot()` gives the real XState snapshot on demand.
 */
import { setup, transition, type SnapshotFrom } from 'xstate';
import { assert } from './assert.js';

export type TaskMachineEventType = 'DISPATCH' | 'RUN' | 'SUCCEED' | 'FAIL' | 'GIVE_UP' | 'RETRY_DUE' | 'DELETE';

/** What the dashboard and `replay --task` show about a task, carried in its snapshot context. */
export interface TaskMachineContext {
  id: number;
  queue: string;
  name: string;
  /** Attempts dispatched so far. */
  dispatchCount: number;
  /** Attempts the handler answered. */
  responseCount: number;
  etaUs: number;
}

export const taskMachine = setup({
  types: {
    context: {} as TaskMachineContext,
    events: {} as { type: TaskMachineEventType },
    input: {} as TaskMachineContext,
  },
}).createMachine({
  id: 'task',
  initial: 'pending',
  context: ({ input }) => input,
  states: {
    pending: { on: { DISPATCH: 'dispatching', RUN: 'dispatching', DELETE: 'deleted' } },
    dispatching: { on: { SUCCEED: 'succeeded', FAIL: 'backoff', GIVE_UP: 'failed', DELETE: 'deleted' } },
    backoff: { on: { RETRY_DUE: 'pending', RUN: 'dispatching', DELETE: 'deleted' } },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
    deleted: { type: 'final' },
  },
});

export type TaskMachineSnapshot = SnapshotFrom<typeof taskMachine>;

// ---- The derived table -------------------------------------------------------------------------

type StatesConfig = Record<string, { on?: Record<string, unknown>; type?: string }>;
const statesConfig = taskMachine.config.states as StatesConfig;

/** State names in the machine's declaration order; a state's code is its index here. */
export const TASK_STATES = Object.keys(statesConfig) as readonly TaskStateName[];
export type TaskStateName = 'pending' | 'dispatching' | 'backoff' | 'succeeded' | 'failed' | 'deleted';
export const TASK_EVENTS: readonly TaskMachineEventType[] = ['DISPATCH', 'RUN', 'SUCCEED', 'FAIL', 'GIVE_UP', 'RETRY_DUE', 'DELETE'];

export const enum TaskState {
  Pending = 0,
  Dispatching = 1,
  Backoff = 2,
  Succeeded = 3,
  Failed = 4,
  Deleted = 5,
}
export const enum TaskEvent {
  Dispatch = 0,
  Run = 1,
  Succeed = 2,
  Fail = 3,
  GiveUp = 4,
  RetryDue = 5,
  Delete = 6,
}

// The const enums above are the hot path's names for table indices; check they match the machine.
assert(TASK_STATES.join() === 'pending,dispatching,backoff,succeeded,failed,deleted', 'TaskState order differs from the machine');

function targetOf(transitionConfig: unknown): string {
  if (typeof transitionConfig === 'string') return transitionConfig;
  if (transitionConfig && typeof transitionConfig === 'object' && 'target' in transitionConfig) {
    return String((transitionConfig as { target: unknown }).target);
  }
  throw new Error(`unsupported transition config ${JSON.stringify(transitionConfig)}`);
}

/** table[state * TASK_EVENTS.length + event] = next state code, or -1 when the event is ignored. */
export const TRANSITION_TABLE: Int8Array = (() => {
  const table = new Int8Array(TASK_STATES.length * TASK_EVENTS.length).fill(-1);
  TASK_STATES.forEach((state, s) => {
    for (const [eventType, config] of Object.entries(statesConfig[state]?.on ?? {})) {
      const e = TASK_EVENTS.indexOf(eventType as TaskMachineEventType);
      const target = TASK_STATES.indexOf(targetOf(config) as TaskStateName);
      assert(e >= 0 && target >= 0, `machine uses unknown event or state: ${eventType}`);
      table[s * TASK_EVENTS.length + e] = target;
    }
  });
  return table;
})();

export const FINAL_STATES: ReadonlySet<TaskState> = new Set(
  TASK_STATES.flatMap((s, i) => (statesConfig[s]?.type === 'final' ? [i as TaskState] : [])),
);

/** Next state, or -1 if the machine ignores `event` in `state`. */
export function nextTaskState(state: TaskState, event: TaskEvent): TaskState | -1 {
  return TRANSITION_TABLE[state * TASK_EVENTS.length + event] as TaskState | -1;
}

export function isFinal(state: TaskState): boolean {
  return state >= TaskState.Succeeded;
}

/** The real XState snapshot of a task in `state`, for inspection (dashboard, replay, tests). */
export function taskSnapshot(state: TaskState, context: TaskMachineContext): TaskMachineSnapshot {
  const value = TASK_STATES[state];
  assert(value !== undefined, `no task state ${state}`);
  return taskMachine.resolveState({ value, context });
}

/** XState's own transition, for the differential spec. */
export function xstateNext(snapshot: TaskMachineSnapshot, event: TaskMachineEventType): TaskMachineSnapshot {
  return transition(taskMachine, snapshot, { type: event })[0];
}
