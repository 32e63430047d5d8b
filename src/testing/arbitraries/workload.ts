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
    fc.double({ min: 0, max: 120, noNaN: true }).map((countdownSeconds) => ({ countdownSeconds })),
    fc.double({ min: 0, max: 200, noNaN: true }).map((etaSeconds) => ({ etaSeconds })),
  ];
  if (farEtas) {
    // An absolute ETA is counted from 0, so one up to the limit is within 30 days of any add.
    const far = fc.oneof(fc.constant(ETA_AHEAD_SECONDS_MAX), fc.double({ min: DAY_SECONDS, max: ETA_AHEAD_SECONDS_MAX, noNaN: true }));
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
  const maxTasks = options.maxTasks ?? 60;
  const group = fc.record({
    queue: fc.constantFrom(...queues),
    count: fc.integer({ min: 1, max: Math.max(1, maxTasks) }),
    atSeconds: fc.oneof(fc.constant(0), fc.double({ min: 0, max: options.startSecondsMax ?? 30, noNaN: true })),
    arrival: fc.oneof(
      fc.constant(undefined),
      fc.record({ ratePerSecond: fc.double({ min: 0.05, max: 50, noNaN: true }), arrivals: fc.constantFrom('even' as const, 'poisson' as const) }),
    ),
    named: fc.boolean(),
    task: taskTemplateArbitrary(options.farEtas === true),
  });
  return fc.array(group, { minLength: 1, maxLength: options.maxGroups ?? 4 }).map((groups) => {
    let left = maxTasks;
    const out: WorkloadSpec[] = [];
    groups.forEach((g, i) => {
      const count = Math.min(g.count, left);
      left -= count;
      if (count === 0) return;
      const w: WorkloadSpec = { queue: g.queue, count, atSeconds: g.atSeconds, task: g.task };
      if (g.arrival !== undefined) {
        w.ratePerSecond = g.arrival.ratePerSecond;
        w.arrivals = g.arrival.arrivals;
      }
      if (g.named) w.namePrefix = `w${i}-`;
      out.push(w);
    });
    return out;
  });
}

/** The task names a workload gives explicitly (groups with a `namePrefix`). */
export function namedTasks(workloads: readonly WorkloadSpec[]): { queue: string; name: string }[] {
  return workloads.flatMap((w) => (w.namePrefix === undefined ? [] : Array.from({ length: w.count }, (_, i) => ({ queue: w.queue, name: `${w.namePrefix}${i}` }))));
}
