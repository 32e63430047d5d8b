/**
 * Dev-server mode (S39, reference §7): the dispatch rules of the Python dev_appserver's task queue
 * stub (taskqueue_stub.py), for an app that wants to see what it did under dev_appserver, or a
 * developer replacing dev_appserver with `pushq serve`. It is on when the logged settings say
 * `devServer: true` (EngineSettings), so a replay applies the same rules.
 *
 * What the stub does, and so what this mode does:
 * - one background thread takes the push task with the lowest ETA across every queue
 *   (`_Group.GetNextPushTask`) and runs it synchronously: one attempt at a time for the whole app;
 * - `rate`, `bucket_size`, `max_concurrent_requests` and a pause are stored and never read when
 *   dispatching (a rate-0 queue runs too); ETAs, retries (§2) and give-ups are kept;
 * - equal ETAs across queues: the first queue wins (the stub keeps the lowest strictly below the
 *   others, scanning queues in the order they were made), here the lowest queue index: the first
 *   configuration's order (`default` first when the file leaves it out), then queues added by
 *   reloads in the order they came. Within a queue the stub orders equal ETAs by task name; pushq by
 *   when the task was added (the queue's ready heap): the one difference, documented;
 * - a task name is kept for ever (`task_name_archive`, never pruned): decide.ts's tombstones.
 * What pushq keeps although the stub does not: the handler deadline (S34), so one handler that
 * never answers does not stall every queue for ever; a queue left out of a reloaded queue.yaml is
 * disabled (tasks kept, not dispatched), where the stub drops it with its tasks.
 *
 * Invariant: in this mode at most one non-forced attempt is in flight in the whole state; a forced
 * run (RunTask) still starts at once, beside it, as it does in the default mode.
 */
import type { AttemptDispatched } from './events.js';
import type { EngineState, QueueRuntime } from './state.js';
import type { Micros } from './time.js';

/**
 * The mode's rules in one line, as every output of a dev-server run states them (the run's
 * summary, the --seeds table, the HTML reports, serve's startup line): a run's figures read
 * differently under them, and a flag given on the command line is not in the scenario text shown.
 */
export const DEV_SERVER_RULES = 'one task at a time for the whole app, in ETA order; rate, bucket_size, max_concurrent_requests and pause ignored; names reserved for ever';

/** DEV_SERVER_RULES as the first words of a line about a run. */
export const DEV_SERVER_RUN_LINE = `dev-server mode (dev_appserver's rules): ${DEV_SERVER_RULES}`;

/** Attempts in flight in the whole state (forced runs and orphans included: each holds the stub's one thread). */
function anyInFlight(state: EngineState): boolean {
  for (const q of state.queues) if (q.inFlight > 0) return true;
  return false;
}

/**
 * The queue whose ready task comes first across the app (lowest ETA, then lowest queue index;
 * pull and disabled queues take no part), or null when an attempt is in flight or no push queue
 * has a pending task: then nothing is dispatched, and a settle or an add looks again.
 */
export function devServerNextQueue(state: EngineState): QueueRuntime | null {
  if (anyInFlight(state)) return null;
  const tasks = state.tasks;
  let best: QueueRuntime | null = null;
  let bestEta = Infinity;
  for (const q of state.queues) {
    if (!q.isPush || q.disabled) continue;
    const id = q.ready.peek();
    if (id < 0) continue;
    const eta = tasks.eta[tasks.row(id)] as number;
    if (best === null || eta < bestEta) {
      best = q;
      bestEta = eta;
    }
  }
  return best;
}

/** When the first task of `q` (a queue devServerNextQueue named) is due. */
export function devServerDueAt(state: EngineState, q: QueueRuntime): Micros {
  return state.tasks.eta[state.tasks.row(q.ready.peek())] as number;
}

/** The dispatch the stub's thread makes now from `q` (devServerNextQueue's), or null when its first task is not due yet. */
export function decideDevServerDispatch(state: EngineState, q: QueueRuntime, now: Micros): AttemptDispatched | null {
  if (devServerDueAt(state, q) > now) return null;
  return { type: 'AttemptDispatched', t: now, id: q.ready.peek() };
}

/** nextDispatchTime in this mode: when `q`'s first task is due if `q` comes first app-wide, else null. */
export function devServerNextDispatchTime(state: EngineState, q: QueueRuntime): Micros | null {
  return devServerNextQueue(state) === q ? devServerDueAt(state, q) : null;
}
