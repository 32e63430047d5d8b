/**
 * Workloads for simulations: groups of tasks for `Simulation.addWorkload`, arriving all at once,
 * evenly or as a Poisson stream, with countdowns, absolute ETAs (past ones included) and
 * sometimes per-task retry options and a task's own dispatch deadline (15 s to 2 min). Named groups get the prefix `w<i>-`, so commands can target
 * their tasks by name (see commands.ts). With `farEtas`, also countdowns and ETAs far ahead, up to
 * App Engine's limit of 30 days (S20), the limit itself included: opt-in, because such a task waits
 * past runScenario's one-day limit, and a property that expects every task settled would fail.
 */
import fc from 'fast-check';
import { TASK_LIMITS } from '../../core/task-spec.js';
import { US_PER_SECOND } from '../../core/time.js';
import type { WorkloadSpec } from '../../simulate/simulation.js';
import { decimalArbitrary } from './decimal.js';
import { checkKitOptions, requireQueues } from './options.js';
import { simRetryParametersArbitrary } from './sim-config.js';

export interface WorkloadArbitraryOptions {
  /** Queues tasks may go to: at least one. */
  queues: readonly string[];
  /** Total tasks over all groups, 0 to 1,000,000. Default 60. */
  maxTasks?: number;
  /** Groups, 1 to 100. Default 4. */
  maxGroups?: number;
  /** Latest arrival start, seconds, 0 to a year. Default 30. */
  startSecondsMax?: number;
  /** Also draw countdowns and ETAs from a day to 30 days ahead (App Engine's limit, included). Default false. */
  farEtas?: boolean;
}

/** The furthest ahead a task's ETA may be (S20), in seconds. */
const ETA_AHEAD_SECONDS_MAX = TASK_LIMITS.eta_ahead_us_max / US_PER_SECOND;
const DAY_SECONDS = 86_400;

type TaskTemplate = NonNullable<WorkloadSpec['task']>;

function taskTemplateArbitrary(farEtas: boolean): fc.Arbitrary<TaskTemplate> {
  const when: fc.Arbitrary<Pick<TaskTemplate, 'countdownSeconds' | 'etaSeconds'>>[] = [
    fc.constant({}),
    decimalArbitrary(0, 120).map((countdownSeconds) => ({ countdownSeconds })),
    decimalArbitrary(0, 200).map((etaSeconds) => ({ etaSeconds })),
  ];
  if (farEtas) {
    // An absolute ETA is counted from 0, so one up to the limit is within 30 days of any add.
    const far = fc.oneof(fc.constant(ETA_AHEAD_SECONDS_MAX), decimalArbitrary(DAY_SECONDS, ETA_AHEAD_SECONDS_MAX));
    when.push(
      far.map((countdownSeconds) => ({ countdownSeconds })),
      far.map((etaSeconds) => ({ etaSeconds })),
    );
  }
  return fc
    .record({
      when: fc.oneof(...when),
      retry: fc.option(simRetryParametersArbitrary(), { nil: undefined, freq: 4 }),
      dispatchDeadlineSeconds: fc.option(fc.integer({ min: 15, max: 120 }), { nil: undefined, freq: 4 }),
    })
    .map(({ when, retry, dispatchDeadlineSeconds }) => ({
      ...when,
      ...(retry === undefined ? {} : { retry }),
      ...(dispatchDeadlineSeconds === undefined ? {} : { dispatchDeadlineSeconds }),
    }));
}

export function workloadArbitrary(options: WorkloadArbitraryOptions): fc.Arbitrary<WorkloadSpec[]> {
  checkKitOptions('workloadArbitrary', options);
  const queues = requireQueues('workloadArbitrary', options.queues);
  return drawnWorkloadGroupsArbitrary(options, queues.length).map((groups) => resolveWorkloads(groups, queues, options.maxTasks ?? 60));
}

/**
 * A group as drawn before its queue is known: `queuePick` is resolved modulo the queues. So a
 * scenario draws its queues and its workloads side by side (scenario.ts), not one chained on the
 * other, and fast-check shrinks both.
 */
export interface DrawnWorkloadGroup {
  queuePick: number;
  count: number;
  atSeconds: number;
  arrival: { ratePerSecond: number; arrivals: 'even' | 'poisson' } | undefined;
  named: boolean;
  task: TaskTemplate;
}

/** Groups of workloadArbitrary's options (its `queues` aside), each picking one of `queuePicks` queues. */
export function drawnWorkloadGroupsArbitrary(options: Omit<WorkloadArbitraryOptions, 'queues'>, queuePicks: number): fc.Arbitrary<DrawnWorkloadGroup[]> {
  const group = fc.record({
    queuePick: fc.integer({ min: 0, max: Math.max(0, queuePicks - 1) }),
    count: fc.integer({ min: 1, max: Math.max(1, options.maxTasks ?? 60) }),
    atSeconds: fc.oneof(fc.constant(0), decimalArbitrary(0, options.startSecondsMax ?? 30)),
    arrival: fc.oneof(fc.constant(undefined), fc.record({ ratePerSecond: decimalArbitrary(0.05, 50), arrivals: fc.constantFrom('even' as const, 'poisson' as const) })),
    named: fc.boolean(),
    task: taskTemplateArbitrary(options.farEtas === true),
  });
  // At least one group, as a filter and not `minLength: 1`: fast-check cannot drop the last item
  // of an array at its least length, and kept a group a counterexample did not need.
  return fc.array(group, { maxLength: options.maxGroups ?? 4 }).filter((groups) => groups.length > 0);
}

/** The workloads of drawn groups over `queues`, `maxTasks` tasks at most in all (later groups cut short, or left out). */
export function resolveWorkloads(groups: readonly DrawnWorkloadGroup[], queues: readonly string[], maxTasks: number): WorkloadSpec[] {
  let left = maxTasks;
  const out: WorkloadSpec[] = [];
  groups.forEach((g, i) => {
    const count = Math.min(g.count, left);
    left -= count;
    if (count === 0) return;
    const w: WorkloadSpec = { queue: queues[g.queuePick % queues.length]!, count, atSeconds: g.atSeconds, task: g.task };
    if (g.arrival !== undefined) {
      w.ratePerSecond = g.arrival.ratePerSecond;
      w.arrivals = g.arrival.arrivals;
    }
    if (g.named) w.namePrefix = `w${i}-`;
    out.push(w);
  });
  return out;
}

/** The task names a workload gives explicitly (groups with a `namePrefix`). */
export function namedTasks(workloads: readonly WorkloadSpec[]): { queue: string; name: string }[] {
  return workloads.flatMap((w) => (w.namePrefix === undefined ? [] : Array.from({ length: w.count }, (_, i) => ({ queue: w.queue, name: `${w.namePrefix}${i}` }))));
}
