/**
 * One run's figures as `pushq simulate --json` prints them (docs/simulate.md, JSON output): the
 * simulation's stats with the wall time, queues without the library-only `deleted`. Field order
 * is part of the format. The experiments (`--seeds`, `compare`, `tune`) report each run in this
 * same shape. A run under dev_appserver's rules (S39) ends with `dev_server: true`, its figures
 * being that mode's; a production run has no such key, so its bytes are what they always were.
 */
import type { QueueFigures, SimulationStats } from './simulation.js';

/** A queue's figures in a run report. */
export type RunReportQueue = Omit<QueueFigures, 'deleted'>;

export interface RunReport {
  seed: number;
  virtual_seconds: number;
  wall_seconds: number;
  events: number;
  queues: Record<string, RunReportQueue>;
  adds_refused: SimulationStats['adds_refused'];
  /** Present, and true, only when the run followed dev_appserver's rules (`--dev-server`, `dev_server: true`). */
  dev_server?: true;
}

export function runReport(stats: SimulationStats, wallSeconds: number, devServer = false): RunReport {
  const queues: Record<string, RunReportQueue> = {};
  for (const [name, q] of Object.entries(stats.queues)) {
    queues[name] = {
      tasks_added: q.tasks_added,
      succeeded: q.succeeded,
      failed: q.failed,
      pending: q.pending,
      attempts: q.attempts,
      retries: q.retries,
      dispatch_rate_mean_per_second: q.dispatch_rate_mean_per_second,
      dispatches_max_in_any_1s: q.dispatches_max_in_any_1s,
      in_flight_max: q.in_flight_max,
      first_dispatch_at_seconds: q.first_dispatch_at_seconds,
      last_dispatch_at_seconds: q.last_dispatch_at_seconds,
      latency_seconds: { p50: q.latency_seconds.p50, p99: q.latency_seconds.p99 },
      completion_seconds: { p50: q.completion_seconds.p50, p99: q.completion_seconds.p99, max: q.completion_seconds.max },
      backlog_max: q.backlog_max,
      backlog_max_at_seconds: q.backlog_max_at_seconds,
      drained_at_seconds: q.drained_at_seconds,
      wait_seconds: q.wait_seconds,
      wait_by_cause_task_seconds: q.wait_by_cause_task_seconds,
      bound: q.bound,
    };
  }
  return {
    seed: stats.seed,
    virtual_seconds: stats.virtual_seconds,
    wall_seconds: wallSeconds,
    events: stats.events,
    queues,
    adds_refused: stats.adds_refused,
    ...(devServer ? { dev_server: true as const } : {}),
  };
}
