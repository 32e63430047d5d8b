/**
 * The normalised queue configuration: what `queue.yaml` / `queue.xml` mean once parsed, validated
 * and defaulted (reference §1, checklist S1–S6, S38). Every other part of pushq reads queues
 * through these types, never through the raw file.
 *
 * Units are the ones App Engine uses in the file (seconds, tasks per second, bytes); the core
 * converts them once, to integer microseconds, when it builds a queue actor.
 */

/** Retry parameters after defaults and the min/max backoff fix-up rules have been applied. */
export interface RetryParameters {
  /** Retries allowed after the first attempt; null = unlimited. */
  task_retry_limit: number | null;
  /** Seconds since the first attempt, int-truncated as App Engine does; null = unlimited. */
  task_age_limit_seconds: number | null;
  min_backoff_seconds: number;
  max_backoff_seconds: number;
  max_doublings: number;
}

/**
 * A rate as an exact fraction: `tokens` per `period_us` microseconds, both integers, reduced.
 * `1.5/s` is 3 per 2_000_000; `10/m` is 1 per 6_000_000. Floating point never enters the token
 * bucket (see DESIGN.md: float time can make the refill loop spin forever).
 */
export interface ExactRate {
  tokens: number;
  period_us: number;
}

export interface QueueConfig {
  name: string;
  mode: 'push' | 'pull';
  /** `paused` when the file says `rate: 0`. */
  state: 'running' | 'paused';
  /** Tasks per second, for display; null for pull queues. 0 for a paused queue. */
  rate_per_second: number | null;
  /** The same rate, exact. null for pull queues and for `rate: 0`. */
  rate_exact: ExactRate | null;
  bucket_size: number | null;
  max_concurrent_requests: number | null;
  /** `service` or `version.service`; null = the default service. */
  target: string | null;
  retry_parameters: RetryParameters;
}

export interface QueueFileConfig {
  /** Bytes; null = no limit. */
  total_storage_limit_bytes: number | null;
  /** Always contains `default`, first. */
  queues: QueueConfig[];
}

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

export const RETRY_DEFAULTS: RetryParameters = Object.freeze({
  task_retry_limit: null,
  task_age_limit_seconds: null,
  min_backoff_seconds: 0.1,
  max_backoff_seconds: 3600,
  max_doublings: 16,
});
