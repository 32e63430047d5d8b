/** The queue App Engine always has, and the configuration of an app with no queue file (S1). */
import { QUEUE_LIMITS, RETRY_DEFAULTS, type QueueConfig, type QueueFileConfig } from './types.js';

export const DEFAULT_QUEUE_NAME = 'default';

/** `default`: 5/s, bucket 5, 1000 concurrent requests, default retry parameters (reference §1.3). */
export function defaultQueueConfig(): QueueConfig {
  return {
    name: DEFAULT_QUEUE_NAME,
    mode: 'push',
    state: 'running',
    rate_per_second: 5,
    rate_exact: { tokens: 1, period_us: 200_000 },
    bucket_size: QUEUE_LIMITS.bucket_size_default,
    max_concurrent_requests: QUEUE_LIMITS.max_concurrent_requests_default,
    target: null,
    retry_parameters: { ...RETRY_DEFAULTS },
  };
}

/** The configuration of an app without queue.yaml: only `default`, no storage limit. */
export function defaultQueueFileConfig(): QueueFileConfig {
  return { total_storage_limit_bytes: null, queues: [defaultQueueConfig()] };
}
