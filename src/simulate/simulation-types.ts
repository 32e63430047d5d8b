/**
 * The simulation API's types: what it takes (tasks and workloads in seconds, the options) and what
 * it shows (a queue, a task, the run's figures). Times here are seconds; the kernel keeps µs.
 */
import type { PushqErrorCode } from '../core/errors.js';
import type { TargetSettings } from '../core/events.js';
import type { QueueFileConfig } from '../core/queue-config.js';
import type { QueueStateName } from '../core/state.js';
import type { TaskStateName } from '../core/task-machine.js';
import type { TaskSpec } from '../core/task-spec.js';
import type { EventObserver } from '../engine/kernel.js';
import type { EventLog, LogHeader } from '../log/event-log.js';
import type { QueueFigures } from '../projections/figures.js';
import type { WorkerFunction, WorkerModel } from '../dispatch/worker-model.js';

/** A task as the simulation API takes it: TaskSpec with times in seconds. */
export interface SimTaskSpec extends Omit<TaskSpec, 'countdownUs' | 'etaUs' | 'dispatchDeadlineUs'> {
  countdownSeconds?: number;
  /** Absolute virtual time, seconds since the start. */
  etaSeconds?: number;
  /** The task's own handler deadline, 15 s to 24 h (Java TaskOptions); default the target's scaling deadline. */
  dispatchDeadlineSeconds?: number;
}

export interface WorkloadSpec {
  queue: string;
  count: number;
  /** Seconds from the start; default now. */
  atSeconds?: number;
  /** Arrivals per second from `at`; absent = all at once. */
  ratePerSecond?: number;
  arrivals?: 'even' | 'poisson';
  /** Generated tasks are named `<namePrefix><i>`; default unnamed. */
  namePrefix?: string;
  task?: Omit<SimTaskSpec, 'queue' | 'name'>;
}

export interface SimulationOptions {
  config: QueueFileConfig;
  seed?: number;
  /** A worker model, or a function answering each attempt. Default: 100 ms, always 200. */
  worker?: Partial<WorkerModel> | WorkerFunction;
  targets?: Record<string, TargetSettings>;
  tombstoneSeconds?: number;
  /**
   * dev_appserver parity (S39, docs/simulate.md): one attempt at a time for the whole app, in ETA
   * order across queues; rate, bucket_size, max_concurrent_requests and pause ignored; task names
   * reserved for ever (`tombstoneSeconds` is then not used). Logged, so a replay follows it.
   */
  devServer?: boolean;
  /** Where events go; default an in-memory log (read it with `events`). */
  log?: EventLog | ((header: LogHeader) => EventLog);
  /** Extra observers of every event, after the statistics. */
  observers?: EventObserver[];
  /** The series' interval, seconds; absent: chosen automatically (about 1,000 points over the run). */
  seriesResolutionSeconds?: number;
  /**
   * Record the series over time (default true). False: the run keeps none, and is ~6% faster
   * for it (a run of the experiments bench's scenario); `series()` then throws
   * SeriesNotKeptError. Every other figure is the same either way.
   */
  series?: boolean;
  /**
   * Tasks the run will add, when known (a scenario's workloads): a task table that keeps ended
   * tasks is sized for them at once, so it never grows by copying (a copy of a 10M-task table is
   * half a gigabyte at its peak). One that releases them is sized by the workloads that add all
   * their tasks at once instead.
   */
  expectedTasks?: number;
  /**
   * Keep every ended task's row, so that `task()` answers for it. Default: true with the default
   * in-memory log (which keeps every event anyway), false with a log of your own (a file, or
   * none): then an ended task's row is released for later tasks (a named one keeps its tombstone),
   * memory follows the tasks alive at once, and `task()` of a released task throws TASK_RELEASED.
   */
  keepEndedTasks?: boolean;
}

export interface QueueView {
  name: string;
  state: QueueStateName;
  mode: 'push' | 'pull';
  tokens: number | null;
  inFlight: number;
  tasks: Record<TaskStateName, number>;
}

export interface TaskView {
  id: number;
  name: string;
  queue: string;
  state: TaskStateName;
  etaSeconds: number;
  addedAtSeconds: number;
  firstAttemptAtSeconds: number | null;
  endedAtSeconds: number | null;
  /** Attempts dispatched so far, forced runs included (Cloud Tasks' `dispatchCount`). */
  dispatchCount: number;
  /** Attempts the handler answered, whatever the status (Cloud Tasks' `responseCount`). */
  responseCount: number;
  /**
   * Retries so far: attempts after the first, `max(0, dispatchCount - 1)`. As App Engine counts
   * them, it is the X-AppEngine-TaskRetryCount the latest attempt carried (0 on the first).
   */
  retryCount: number;
  /** Status of the latest answered attempt (X-AppEngine-TaskPreviousResponse of the next one). */
  previousStatus: number | null;
}

export interface SimulationStats {
  seed: number;
  virtual_seconds: number;
  events: number;
  queues: Record<string, QueueFigures>;
  /**
   * Adds of workload tasks that the engine refused, per queue and error code (see
   * WORKLOAD_REFUSALS). A refused add changes nothing, so these are not in the event log.
   */
  adds_refused: Record<string, Partial<Record<PushqErrorCode, number>>>;
}
