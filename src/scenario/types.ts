/**
 * A validated scenario: everything `pushq simulate` needs, in the engine's units (times in
 * microseconds inside the worker model, seconds in the simulation API). Built only from a file
 * with no errors, so running it cannot meet a problem the file could have shown.
 */
import type { ConfigIssue, QueueFileConfig } from '../config/types.js';
import type { TargetSettings } from '../core/events.js';
import type { Micros } from '../core/time.js';
import type { WorkerModel } from '../dispatch/worker-model.js';
import type { WorkloadSpec } from '../simulate/simulation.js';

/** Where the queues came from. */
export type QueueSource =
  | { kind: 'queue_yaml'; /** As resolved against the scenario's directory. */ path: string }
  | { kind: 'inline' }
  | { kind: 'default' };

export interface Scenario {
  /** The scenario file's name as given (issues and reports use it). */
  file: string;
  /** null: the file does not say; the run uses the caller's seed or 1. */
  seed: number | null;
  queueSource: QueueSource;
  config: QueueFileConfig;
  /** Virtual time to stop at; null = when every task has settled. */
  untilUs: Micros | null;
  /** `dev_server: true` (or `pushq simulate --dev-server`): dev_appserver's dispatch rules (S39, src/core/dev-server.ts). */
  devServer: boolean;
  workload: WorkloadSpec[];
  worker: WorkerModel;
  targets: Record<string, TargetSettings>;
}

export interface ScenarioResult {
  /** null when there is any error. */
  scenario: Scenario | null;
  /** Errors and warnings: the scenario file's in line order, then a queue_yaml file's. */
  issues: ConfigIssue[];
}
