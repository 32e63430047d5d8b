/**
 * What loading a configuration file gives: the normalised config (its types belong to the core,
 * src/core/queue-config.ts, re-exported here), or issues located by file, line and column.
 */
export { RETRY_DEFAULTS, type ExactRate, type QueueConfig, type QueueFileConfig, type RetryParameters } from '../core/queue-config.js';
import type { QueueFileConfig } from '../core/queue-config.js';

export type IssueSeverity = 'error' | 'warning';

/** One problem found in a configuration file, located precisely. */
export interface ConfigIssue {
  severity: IssueSeverity;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Key path, e.g. `queue[3].retry_parameters.task_age_limit`. */
  path: string;
  /** Stable, kebab-case, e.g. `bucket-size-max`. Listed in docs/config.md (Issue codes) and `ISSUE_CODES`. */
  code: string;
  message: string;
}

export interface ConfigResult {
  file: string;
  valid: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** null when the file is invalid. */
  config: QueueFileConfig | null;
  /**
   * Whether the file has a `- name: default` entry. When it has none, `config`'s default is App
   * Engine's preset (S1), right for a first start only: a deploy keeps the default queue as it is
   * (reference §1.3, gcloud leaves it out of a deploy), through `keepDefaultQueue`.
   */
  declaresDefault: boolean;
}

/** App Engine's limits and defaults (reference §1.2, §1.3, §6). */
export const QUEUE_LIMITS = {
  rate_per_second_max: 500,
  bucket_size_max: 500,
  bucket_size_default: 5,
  max_concurrent_requests_default: 1000,
  max_concurrent_requests_max: 5000,
  queues_max_besides_default: 100,
  queue_name_pattern: /^[A-Za-z0-9-]{1,100}$/,
} as const;
