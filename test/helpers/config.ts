import { RETRY_DEFAULTS, type QueueConfig, type QueueFileConfig, type RetryParameters } from '../../src/config/types.js';

/** A push queue at `ratePerSecond` (an integer or a simple fraction), with overrides. */
export function pushQueue(name: string, ratePerSecond: number, extra: Partial<Omit<QueueConfig, 'retry_parameters'>> & { retry?: Partial<RetryParameters> } = {}): QueueConfig {
  const { retry, ...rest } = extra;
  // Exact rate: tokens per period, with up to 6 decimals.
  const scale = 1_000_000;
  const tokens = Math.round(ratePerSecond * scale);
  const g = gcd(tokens, 1_000_000 * scale);
  return {
    name,
    mode: 'push',
    state: ratePerSecond === 0 ? 'paused' : 'running',
    rate_per_second: ratePerSecond,
    rate_exact: ratePerSecond === 0 ? null : { tokens: tokens / g, period_us: (1_000_000 * scale) / g },
    bucket_size: 5,
    max_concurrent_requests: 1000,
    target: null,
    retry_parameters: { ...RETRY_DEFAULTS, ...(retry ?? {}) },
    ...rest,
  };
}

export function fileConfig(...queues: QueueConfig[]): QueueFileConfig {
  const hasDefault = queues.some((q) => q.name === 'default');
  return { total_storage_limit_bytes: null, queues: hasDefault ? queues : [pushQueue('default', 5), ...queues] };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
