/**
 * A normalised config back to queue.yaml text. Parsing the text gives the same config again
 * (a property test checks it): rates are printed as exact decimals, push queues list rate,
 * bucket_size and max_concurrent_requests explicitly, and retry parameters only where they differ
 * from App Engine's defaults.
 */
import { formatRate } from './rate.js';
import { formatStorageLimit } from './storage.js';
import { RETRY_DEFAULTS, type QueueConfig, type QueueFileConfig, type RetryParameters } from './types.js';

export function printQueueYaml(config: QueueFileConfig): string {
  const lines: string[] = [];
  if (config.total_storage_limit_bytes !== null) lines.push(`total_storage_limit: ${formatStorageLimit(config.total_storage_limit_bytes)}`);
  if (config.resume_paused_queues === false) lines.push('resume_paused_queues: false');
  lines.push('queue:');
  for (const queue of config.queues) lines.push(...printQueue(queue));
  return `${lines.join('\n')}\n`;
}

function printQueue(queue: QueueConfig): string[] {
  const lines = [`- name: ${scalar(queue.name)}`];
  if (queue.mode === 'pull') {
    const pushFields = [queue.rate_exact, queue.rate_per_second, queue.bucket_size, queue.max_concurrent_requests, queue.target];
    const retry = queue.retry_parameters;
    const pushRetry = retry.task_age_limit_seconds !== null || retry.min_backoff_seconds !== RETRY_DEFAULTS.min_backoff_seconds
      || retry.max_backoff_seconds !== RETRY_DEFAULTS.max_backoff_seconds || retry.max_doublings !== RETRY_DEFAULTS.max_doublings;
    if (pushFields.some((field) => field !== null) || pushRetry) throw new Error(`pull queue ${queue.name} has push-queue settings; queue.yaml cannot express them`);
    lines.push('  mode: pull');
  } else {
    if ((queue.rate_exact === null) !== (queue.state === 'paused')) throw new Error(`queue ${queue.name}: state ${queue.state} contradicts its rate`);
    lines.push(`  rate: ${queue.rate_exact === null ? '0' : formatRate(queue.rate_exact)}`);
    lines.push(`  bucket_size: ${queue.bucket_size}`);
    lines.push(`  max_concurrent_requests: ${queue.max_concurrent_requests}`);
    if (queue.target !== null) lines.push(`  target: ${scalar(queue.target)}`);
  }
  const retry = printRetry(queue.retry_parameters);
  if (retry.length > 0) lines.push('  retry_parameters:', ...retry.map((line) => `    ${line}`));
  return lines;
}

function printRetry(retry: RetryParameters): string[] {
  const lines: string[] = [];
  if (retry.task_retry_limit !== null) lines.push(`task_retry_limit: ${retry.task_retry_limit}`);
  if (retry.task_age_limit_seconds !== null) lines.push(`task_age_limit: ${retry.task_age_limit_seconds}s`);
  if (retry.min_backoff_seconds !== RETRY_DEFAULTS.min_backoff_seconds) lines.push(`min_backoff_seconds: ${retry.min_backoff_seconds}`);
  if (retry.max_backoff_seconds !== RETRY_DEFAULTS.max_backoff_seconds) lines.push(`max_backoff_seconds: ${retry.max_backoff_seconds}`);
  if (retry.max_doublings !== RETRY_DEFAULTS.max_doublings) lines.push(`max_doublings: ${retry.max_doublings}`);
  return lines;
}

/** Plain when every YAML reader (1.1 included) sees text; double-quoted otherwise (`123`, `yes`, `-a`). */
function scalar(text: string): string {
  const plain = /^[A-Za-z][A-Za-z0-9.-]*$/.test(text) && !/^(?:y|n|yes|no|on|off|true|false|null)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}
