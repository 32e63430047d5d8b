/**
 * The queue configuration as the core uses it: what `queue.yaml` / `queue.xml` mean once parsed,
 * validated and defaulted (reference §1, checklist S1–S6, S38). src/config produces these from
 * the files; the core and everything after it read queues only through these types.
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
  /**
   * `false` when queue.yaml says `resume_paused_queues: false` (gcloud's deploy then leaves a
   * PAUSED or DISABLED queue as it is, reference §1.3); absent means App Engine's default, true:
   * a deploy resumes every queue whose rate is above 0. Only `false` is ever written, so a
   * configuration without it (every log before it existed) reads as before.
   */
  resume_paused_queues?: boolean;
}

/** App Engine's retry defaults (reference §1.3): a queue that says nothing retries forever. */
export const RETRY_DEFAULTS: RetryParameters = Object.freeze({
  task_retry_limit: null,
  task_age_limit_seconds: null,
  min_backoff_seconds: 0.1,
  max_backoff_seconds: 3600,
  max_doublings: 16,
});

/**
 * The keys of each object of a configuration, in the order the loader (src/config/normalise.ts)
 * sets them: the order a ConfigApplied event is written in. src/config/object-check.ts requires
 * exactly these of a configuration given in code.
 */
export const QUEUE_FILE_KEYS = ['total_storage_limit_bytes', 'queues'] as const;
/** Keys a configuration may leave out (QueueFileConfig says what their absence means). */
export const QUEUE_FILE_OPTIONAL_KEYS = ['resume_paused_queues'] as const;
export const QUEUE_KEYS = ['name', 'mode', 'state', 'rate_per_second', 'rate_exact', 'bucket_size', 'max_concurrent_requests', 'target', 'retry_parameters'] as const;
export const EXACT_RATE_KEYS = ['tokens', 'period_us'] as const;
export const RETRY_KEYS = ['task_retry_limit', 'task_age_limit_seconds', 'min_backoff_seconds', 'max_backoff_seconds', 'max_doublings'] as const;

/**
 * What deploying `file`, a queue file that has no `- name: default` entry, gives when `current` is
 * the configuration in effect: the default queue stays as it is (gcloud leaves `default` out of a
 * deploy "to retain backwards compatibility", reference §1.3), so a file that once declared
 * `default` at 1/m and no longer names it keeps 1/m rather than falling back to 5/s. The first
 * configuration (`current` null) takes the file's, App Engine's preset.
 */
export function keepDefaultQueue(file: QueueFileConfig, current: QueueFileConfig | null): QueueFileConfig {
  const kept = current?.queues.find((q) => q.name === 'default');
  if (kept === undefined) return file;
  return { ...file, queues: file.queues.map((q) => (q.name === 'default' ? kept : q)) };
}

function inOrder<T extends object>(value: T, keys: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const key of keys) out[key] = value[key];
  return out;
}

/**
 * `config` with every object's keys in the loader's order. The order keys were set in means
 * nothing (a configuration built in code may set them in any), but JSON keeps it: without this,
 * two equal configurations gave two logs that differ in their bytes and two state digests.
 */
export function configInKeyOrder(config: QueueFileConfig): QueueFileConfig {
  const file = inOrder(config, QUEUE_FILE_KEYS);
  file.queues = config.queues.map((q) => {
    const queue = inOrder(q, QUEUE_KEYS);
    if (q.rate_exact !== null) queue.rate_exact = inOrder(q.rate_exact, EXACT_RATE_KEYS);
    queue.retry_parameters = inOrder(q.retry_parameters, RETRY_KEYS);
    return queue;
  });
  // Written only when it changes something: `true` and absent mean the same, and must give the same bytes.
  if (config.resume_paused_queues === false) file.resume_paused_queues = false;
  return file;
}
