/**
 * A virtual clock that stops advancing: the kernel stops the run instead of spinning for ever.
 *
 * Why: virtual time moves only from one timer to the next. An attempt that ends at once (a worker
 * modelled with 0 s of latency) and retries at once (`min_backoff_seconds: 0`) schedules its next
 * attempt at the same instant, and, when nothing else limits dispatch, so on for ever: the clock
 * never reaches `until:` or the run limit, and `pushq simulate` hangs with one core busy. Under
 * production's rules the token bucket ends such a loop (a dispatch takes a token; tokens come back
 * only as time passes), but the dev-server mode reads no bucket (dev-server.ts), and a user's
 * function worker can answer in 0 s too.
 *
 * The guard counts the timers fired at the current instant. A correct run fires a few per task at
 * one instant (its arrival, an attempt's answer, a backoff's end, a wake of its queue), so past
 * STALL_TIMERS_MIN and STALL_TIMERS_PER_TASK per task held it looks (the kernel looks again at
 * twice the timers each time). A run in which some task ended since the last look at this instant
 * is moving on, however long it stays there: a worker that fails most attempts but not all ends
 * its tasks one by one, and no look can tell how many attempts the rest will take (the first look
 * at an instant only notes how many tasks have ended). Otherwise it looks at the task dispatched
 * most: one that will give up (its task_retry_limit reached, and no task_age_limit it is still
 * within: App Engine retries while either limit holds, and a frozen clock never ages a task) ends
 * the loop by itself, however many attempts that takes, so the run goes on; one that never will
 * is a run that can never end. Counting costs one comparison a timer; the tasks are looked at only
 * past the floor, and less and less often.
 */
import { shouldRetry } from '../core/retry-policy.js';
import { taskName, taskRetryPolicy, type EngineState } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import { type Micros, US_PER_SECOND } from '../core/time.js';

/** Timers at one instant below which a run is never called stalled. */
export const STALL_TIMERS_MIN = 1_000_000;
/** Timers at one instant per task held (in the table) past which it is. */
export const STALL_TIMERS_PER_TASK = 100;

export class VirtualTimeStalledError extends Error {
  override name = 'VirtualTimeStalledError';
  readonly code = 'VIRTUAL_TIME_STALLED' as const;
  constructor(
    /** The instant time stopped at, µs. */
    readonly at: Micros,
    /** Timers fired at that instant. */
    readonly timers: number,
    /** The task dispatched most often, `queue/name`, or null when no task was dispatched. */
    readonly task: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** What the guard saw at its last look (the kernel keeps it between looks): the instant, and the tasks ended by then. */
export interface StallLook {
  at: Micros;
  ended: number;
}

/** A new StallLook: none yet. */
export function noStallLook(): StallLook {
  return { at: -1, ended: 0 };
}

/** Tasks ended (succeeded, given up, deleted) in every queue: a count that only grows while time stands still. */
function endedTasks(state: EngineState): number {
  let n = 0;
  for (const q of state.queues) n += (q.countByState[TaskState.Succeeded] as number) + (q.countByState[TaskState.Failed] as number) + (q.countByState[TaskState.Deleted] as number);
  return n;
}

/**
 * Throws VirtualTimeStalledError when `timers` fired at `at` are more than the run's tasks explain,
 * no task ended since the `last` look at `at`, and a task retries there for ever. Updates `last`.
 */
export function checkStall(state: EngineState, at: Micros, timers: number, last: StallLook): void {
  const tasks = state.tasks;
  const held = tasks.count - tasks.base;
  if (timers < Math.max(STALL_TIMERS_MIN, STALL_TIMERS_PER_TASK * (held + 1))) return;
  const ended = endedTasks(state);
  const movingOn = last.at !== at || last.ended !== ended;
  last.at = at;
  last.ended = ended;
  if (movingOn) return;
  let busiest = -1;
  let most = 0;
  for (let id = tasks.base; id < tasks.count; id++) {
    const r = tasks.heldRow(id);
    if (r >= 0 && (tasks.dispatchCount[r] as number) > most) {
      most = tasks.dispatchCount[r] as number;
      busiest = id;
    }
  }
  if (busiest >= 0) {
    // Attempts at a frozen clock: the task's age stays what it is now.
    const ageUs = at - (tasks.firstAttemptAt[tasks.row(busiest)] as number);
    if (!shouldRetry(taskRetryPolicy(state, busiest), Number.MAX_SAFE_INTEGER, ageUs)) return;
  }
  const task = busiest < 0 ? null : `${state.queues[tasks.queue[tasks.row(busiest)] as number]?.name ?? '?'}/${taskName(state, busiest)}`;
  const seconds = (at / US_PER_SECOND).toFixed(6);
  const who = task === null ? '' : ` (task ${task} was dispatched ${most.toLocaleString('en')} times)`;
  const devServer = state.settings.devServer === true ? ' (the dev-server mode reads no rate or bucket_size)' : '';
  throw new VirtualTimeStalledError(
    at,
    timers,
    task,
    `virtual time stopped advancing at ${seconds} s: ${timers.toLocaleString('en')} timers fired at that instant${who}. ` +
      `Attempts that end at once (a worker latency of 0) and retry at once (min_backoff_seconds: 0) never let time move on when nothing limits dispatch${devServer}; ` +
      'give the worker a latency, the queue a min_backoff_seconds above 0, or a task_retry_limit',
  );
}
