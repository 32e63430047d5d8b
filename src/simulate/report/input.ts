/**
 * What the HTML report reads: the scenario as written, the seed, the figures as
 * `pushq simulate --json` prints them, and the run's series (`sim.series()`).
 *
 * The figure types are the simulation's own (QueueFigures: QueueStats, QueueInsight and QueueBound;
 * SeriesData): the report names the fields it shows and defines none of them.
 */
import type { SeriesData } from '../../projections/series-types.js';
import type { QueueFigures } from '../simulation.js';

/** The figures of one queue the report shows (a subset of `--json`'s `queues[Q]`). */
export type ReportQueueFigures = Pick<
  QueueFigures,
  | 'tasks_added'
  | 'succeeded'
  | 'failed'
  | 'pending'
  | 'attempts'
  | 'retries'
  | 'dispatch_rate_mean_per_second'
  | 'dispatches_max_in_any_1s'
  | 'in_flight_max'
  | 'latency_seconds'
  | 'completion_seconds'
  | 'backlog_max'
  | 'backlog_max_at_seconds'
  | 'drained_at_seconds'
  | 'wait_seconds'
  | 'wait_by_cause_task_seconds'
  | 'bound'
>;

/** The run's figures as `pushq simulate --json` prints them (the fields the report reads). */
export interface ReportStats {
  virtual_seconds: number;
  wall_seconds?: number;
  events: number;
  queues: Record<string, ReportQueueFigures>;
  adds_refused?: Record<string, Partial<Record<string, number>>>;
}

export interface ReportInput {
  scenario: {
    /** The scenario's file name as the user gave it. */
    file: string;
    /** The scenario's text, shown as written. */
    text: string;
  };
  seed: number;
  stats: ReportStats;
  series: SeriesData;
  /**
   * The run followed dev_appserver's rules (`--dev-server`, or the scenario's `dev_server: true`):
   * said in the header, as the flag is not in the scenario text shown.
   */
  devServer?: boolean;
}
