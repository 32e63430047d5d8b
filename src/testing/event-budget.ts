/**
 * A scenario's event budget: the most events a run of it may log before the kit calls it runaway.
 *
 * Why: a scenario runs until nothing is left to happen or for a virtual day, and virtual time is
 * cheap. A task that never succeeds and never gives up (an engine that retries without backing
 * off, or drops its answers; a worker that fails every attempt on a queue with no retry limit) is
 * dispatched as fast as its queue's rate allows, up to 500/s for a whole day: 43 million attempts,
 * every one in memory. In a mutation audit one such run took 23 GB instead of failing. The budget
 * stops it after the events a correct engine could need for that input, with an error that names
 * the scenario's seed and where the run was; the property fails and fast-check prints the
 * counterexample with its own seed and path.
 *
 * The budget comes from the scenario, not from a clock (the same scenario gets the same budget, on
 * any machine, so a failure reproduces):
 * - each task: its TaskAdded and its ending (deleted, purged), and attempts, three events each
 *   (dispatched, failed, backoff over; a success takes two). Outside outages an attempt succeeds
 *   with probability p = (1 − errorRate)·(1 − timeoutRate) (the worst of the model's routes), drawn
 *   independently per attempt, so a task needs more than ln(TAIL)/ln(1 − p) attempts with
 *   probability at most TAIL; capped at ATTEMPTS_PER_TASK_MAX (a worker that almost never
 *   succeeds: such a run is long by design, and asks for a larger budget with `maxEvents`);
 * - each outage: an outage that answers an error answers at once, so attempts then are bounded by
 *   the rate law alone: bucket_size + rate·length per queue, summed over every configuration the
 *   scenario deploys; one that does not answer holds each attempt until its deadline (15 s at
 *   least), so each task gets at most length/15 s + 1 attempts in it;
 * - each command: its own event, a force-run's attempt, a reload's events per queue;
 * then doubled, with a floor of 10,000. The outage term is the rate law's own bound, and a run
 * that spends an outage retrying at full rate comes close to it, so the doubling is the margin:
 * over 7,000 scenarios drawn with the spec's options, the largest run used 49% of its budget.
 */
import type { QueueFileConfig } from '../config/types.js';
import type { EngineEvent } from '../core/events.js';
import type { EventObserver } from '../engine/kernel.js';
import { taskName, type EngineState } from '../core/state.js';
import { TASK_LIMITS } from '../core/task-spec.js';
import type { WorkerModel } from '../dispatch/worker-model.js';
import type { Scenario } from './scenario.js';

/** The chance, per task, that a correct run needs more attempts than the budget gives it. */
const TAIL = 1e-12;
/** Attempts a task is budgeted at most, whatever its worker's success rate. */
export const ATTEMPTS_PER_TASK_MAX = 1_000;
/** An attempt that fails logs AttemptDispatched, AttemptFailed and BackoffElapsed. */
const EVENTS_PER_ATTEMPT = 3;
/** A task's own events besides its attempts: TaskAdded, and TaskDeleted or its purge. */
const EVENTS_PER_TASK = 2;
/** The budget of a small scenario: room for its configurations, commands and a few retries. */
const EVENTS_MIN = 10_000;
/** Over the sum above, which is the most a correct run logs but with probability TAIL per task. */
const MARGIN = 2;

/** A scenario's run logged more events than its budget (runScenario's `maxEvents`). */
export class ScenarioBudgetError extends Error {
  readonly code = 'SCENARIO_EVENT_BUDGET_EXCEEDED';
  constructor(
    readonly seed: number,
    readonly budget: number,
    /** Virtual seconds when the budget ran out. */
    readonly atSeconds: number,
    last: string,
  ) {
    super(
      `scenario with seed ${seed} logged more than its budget of ${budget.toLocaleString('en')} events (at ${atSeconds} s of virtual time; the last: ${last}): ` +
        'its tasks are not settling. An engine that retries without backing off or loses answers does this, and so does a worker that fails ' +
        'every attempt of a task with no retry limit; if the scenario is meant to run this long, pass runScenario(scenario, { maxEvents })',
    );
    this.name = 'ScenarioBudgetError';
  }
}

/** Attempts a task of this worker needs at most, but with probability TAIL. */
function attemptsPerTask(worker: WorkerModel): number {
  const behaviours = [worker, ...worker.routes];
  const p = Math.min(...behaviours.map((b) => (1 - (b.errorRate ?? worker.errorRate)) * (1 - (b.timeoutRate ?? worker.timeoutRate))));
  if (p >= 1) return 1;
  if (p <= 0) return ATTEMPTS_PER_TASK_MAX;
  return Math.min(ATTEMPTS_PER_TASK_MAX, Math.max(1, Math.ceil(Math.log(TAIL) / Math.log1p(-p))));
}

/** Attempts every outage of `worker` may see, on the queues of `configs`. */
function outageAttempts(worker: WorkerModel, configs: readonly QueueFileConfig[], tasks: number): number {
  let attempts = 0;
  for (const o of worker.outages) {
    const seconds = Math.max(0, o.toUs - o.fromUs) / 1e6;
    if (o.status === null) {
      attempts += tasks * (Math.ceil((seconds * 1e6) / TASK_LIMITS.dispatch_deadline_us_min) + 1);
      continue;
    }
    for (const c of configs) for (const q of c.queues) attempts += (q.bucket_size ?? 0) + (q.rate_per_second ?? 0) * seconds;
  }
  return Math.ceil(attempts);
}

/** The most events a run of `scenario` may log (see the top of this file). */
export function scenarioEventBudget(scenario: Scenario): number {
  const tasks = scenario.workloads.reduce((n, w) => n + w.count, 0);
  const configs = [scenario.config, ...scenario.commands.flatMap((c) => (c.kind === 'reload' ? [c.config] : []))];
  const queuesMax = Math.max(...configs.map((c) => c.queues.length));
  const attempts = tasks * attemptsPerTask(scenario.worker) + outageAttempts(scenario.worker, configs, tasks) + scenario.commands.length;
  const events = configs.length + tasks * EVENTS_PER_TASK + scenario.commands.length * (1 + queuesMax) + attempts * EVENTS_PER_ATTEMPT;
  return Math.max(EVENTS_MIN, MARGIN * events);
}

/** An observer that throws ScenarioBudgetError at the event past `budget`. */
export function eventBudgetObserver(seed: number, budget: number): EventObserver {
  let events = 0;
  return (e: EngineEvent, state: EngineState) => {
    if (++events <= budget) return;
    throw new ScenarioBudgetError(seed, budget, e.t / 1e6, describeEvent(e, state));
  };
}

/** The event at which the budget ran out, with its task's name, queue and attempts so far. */
function describeEvent(e: EngineEvent, state: EngineState): string {
  if (!('id' in e)) return e.type;
  const tasks = state.tasks;
  const r = tasks.heldRow(e.id);
  if (r < 0) return `${e.type} of task id ${e.id}`;
  return `${e.type} of task ${taskName(state, e.id)} in queue ${state.queues[tasks.queue[r]!]?.name ?? '?'}, after ${tasks.dispatchCount[r]} attempts`;
}
