/**
 * The figures an experiment aggregates, compares and sets goals on: every numeric field of a
 * queue in a run report (`pushq simulate --json`'s `queues[Q]`), named by its dotted path
 * (`wait_seconds.p99`). The list is checked against the report's type by the compiler (a field
 * added to the report and not listed here, or listed and not there, breaks the build).
 */
import type { RunReport, RunReportQueue } from '../simulate/run-report.js';
import { summarise, type FigureSummary } from './statistics.js';

/** Dotted paths to the number-or-null leaves of T. */
type NumericLeaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends number | null ? `${P}${K}` : T[K] extends object ? NumericLeaves<T[K], `${P}${K}.`> : never;
}[keyof T & string];

export type FigureName = NumericLeaves<RunReportQueue>;

/** Every figure, in the report's order. */
export const FIGURE_NAMES = [
  'tasks_added', 'succeeded', 'failed', 'pending', 'attempts', 'retries',
  'dispatch_rate_mean_per_second', 'dispatches_max_in_any_1s', 'in_flight_max',
  'first_dispatch_at_seconds', 'last_dispatch_at_seconds',
  'latency_seconds.p50', 'latency_seconds.p99',
  'completion_seconds.p50', 'completion_seconds.p99', 'completion_seconds.max',
  'backlog_max', 'backlog_max_at_seconds', 'drained_at_seconds',
  'wait_seconds.p50', 'wait_seconds.p90', 'wait_seconds.p99', 'wait_seconds.max', 'wait_seconds.mean',
  'wait_by_cause_task_seconds.tokens', 'wait_by_cause_task_seconds.concurrency', 'wait_by_cause_task_seconds.paused',
  'wait_by_cause_task_seconds.disabled', 'wait_by_cause_task_seconds.transport', 'wait_by_cause_task_seconds.not_running',
  'bound.rate_per_second', 'bound.bucket_size', 'bound.max_concurrent_requests', 'bound.mean_latency_seconds',
  'bound.throughput_per_second', 'bound.drain_lower_bound_seconds',
] as const satisfies readonly FigureName[];

// Every FigureName is listed: otherwise `Unlisted` names it and this line does not compile.
type Unlisted = Exclude<FigureName, (typeof FIGURE_NAMES)[number]>;
const everyFigureListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyFigureListed;

const FIGURE_SET: ReadonlySet<string> = new Set(FIGURE_NAMES);

export function isFigureName(name: string): name is FigureName {
  return FIGURE_SET.has(name);
}

/**
 * Whether a figure is a time or a duration in seconds (a goal's value may then be a duration:
 * `30s`, `1h`). Not a rate (`_per_second`), nor the wait by cause (task-seconds: tasks × time).
 */
export function isSecondsFigure(name: FigureName): boolean {
  return name.includes('seconds') && !name.includes('per_second') && !name.startsWith('wait_by_cause_task_seconds');
}

/** A figure of one queue of a run: null when the queue is absent from the run or the figure is null. */
export function figureValue(queue: RunReportQueue | undefined, name: FigureName): number | null {
  if (queue === undefined) return null;
  let value: unknown = queue;
  for (const part of name.split('.')) value = (value as Record<string, unknown>)[part];
  return typeof value === 'number' ? value : null;
}

/**
 * The least value of every figure: each is a count, a time, a rate or task-seconds, none below 0.
 * Their intervals are cut there (statistics.ts, summarise); paired differences are not.
 */
const FIGURE_FLOOR = 0;

/** A figure's mean, interval, min and max over the runs; the interval cut at {@link FIGURE_FLOOR}. */
export function summariseFigure(values: readonly (number | null)[]): FigureSummary {
  return summarise(values, FIGURE_FLOOR);
}

/** Queue → figure → summary over the runs, for every queue that appears in any run. */
export type QueueSummaries = Record<string, Record<FigureName, FigureSummary>>;

export function summariseRuns(runs: readonly RunReport[]): QueueSummaries {
  const out: QueueSummaries = {};
  for (const queue of queueNames([runs])) {
    const figures = {} as Record<FigureName, FigureSummary>;
    for (const name of FIGURE_NAMES) figures[name] = summariseFigure(runs.map((r) => figureValue(r.queues[queue], name)));
    out[queue] = figures;
  }
  return out;
}

/** The queues of all the runs, in the order they first appear. */
export function queueNames(runSets: readonly (readonly RunReport[])[]): string[] {
  const names = new Set<string>();
  for (const runs of runSets) for (const run of runs) for (const name of Object.keys(run.queues)) names.add(name);
  return [...names];
}
