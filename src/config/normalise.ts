/**
 * The value rules of a queue file (reference §1.2–§1.4, checklist S1–S6, S38): each directive is
 * interpreted, checked against App Engine's limits and defaulted; every problem is reported, not
 * only the first. The result is meaningful only when no error was reported.
 *
 * Invariants of the returned config: `default` is present and first, followed by the file's
 * other queues in file order; pull queues have null push fields; min backoff ≤ max backoff.
 */
import { defaultQueueConfig, DEFAULT_QUEUE_NAME } from './defaults.js';
import { parseTaskAgeLimit } from './durations.js';
import type { IssueCode, IssueCollector } from './issues.js';
import { isValidQueueName, isValidTarget } from './names.js';
import { parseDecimal, parseWholeNumber } from './numbers.js';
import { formatPath, type Path } from './paths.js';
import type { PositionIndex } from './positions.js';
import { parseRate, rateExceeds } from './rate.js';
import type { RawQueueEntry, RawQueueFile, RawRetryParameters } from './schema.js';
import { spellKey, type ConfigFormat } from './source.js';
import { parseTotalStorageLimit } from './storage.js';
import { QUEUE_LIMITS, RETRY_DEFAULTS, type ExactRate, type QueueConfig, type QueueFileConfig, type RetryParameters } from './types.js';

export interface NormaliseContext {
  issues: IssueCollector;
  positions: PositionIndex;
  format: ConfigFormat;
  /** Parts the shape check already reported and removed. */
  isRemoved(path: Path): boolean;
}

/** Directives a pull queue must not have (reference §1.2; GC-MIG). */
const PUSH_ONLY_QUEUE_KEYS = ['rate', 'bucket_size', 'max_concurrent_requests', 'target'] as const;
const PUSH_ONLY_RETRY_KEYS = ['task_age_limit', 'min_backoff_seconds', 'max_backoff_seconds', 'max_doublings'] as const;

export function normaliseQueueFile(raw: RawQueueFile, ctx: NormaliseContext): QueueFileConfig {
  const { issues } = ctx;
  const key = (k: string) => spellKey(ctx.format, k);

  if (raw.application != null) {
    issues.report('application-ignored', ['application'], `${key('application')} is a legacy key: App Engine takes the application from the deployment, and pushq ignores it`, 'key');
  }

  let total_storage_limit_bytes: number | null = null;
  if (raw.total_storage_limit != null) {
    const parsed = parseTotalStorageLimit(raw.total_storage_limit);
    if (parsed.ok) total_storage_limit_bytes = parsed.bytes;
    else invalid(ctx, 'total-storage-limit-invalid', ['total_storage_limit'], raw.total_storage_limit, parsed.reason);
  }

  if (raw.resume_paused_queues != null && !/^(true|false)$/i.test(raw.resume_paused_queues)) {
    invalid(ctx, 'resume-paused-queues-invalid', ['resume_paused_queues'], raw.resume_paused_queues, 'expected true or false');
  }
  const keepsPausedQueues = raw.resume_paused_queues != null && /^false$/i.test(raw.resume_paused_queues);

  const queues: QueueConfig[] = [];
  const nameLines = new Map<string, number>();
  let besidesDefault = 0;
  (raw.queue ?? []).forEach((entry, index) => {
    const path: Path = ['queue', index];
    if (ctx.isRemoved(path)) return;
    const name = checkName(entry, path, ctx);
    if (name !== null) {
      const namePath = [...path, 'name'];
      const firstLine = nameLines.get(name);
      if (firstLine !== undefined) {
        issues.report('name-duplicate', namePath, `queue name ${name} is already used on line ${firstLine}`);
      } else {
        nameLines.set(name, ctx.positions.locate(namePath, 'value').line);
        if (name !== DEFAULT_QUEUE_NAME && ++besidesDefault === QUEUE_LIMITS.queues_max_besides_default + 1) {
          issues.report('too-many-queues', path, `queue ${name} is queue number ${besidesDefault} besides default; App Engine allows at most ${QUEUE_LIMITS.queues_max_besides_default}`);
        }
      }
    }
    queues.push(normaliseQueue(entry, name ?? '', path, ctx));
  });

  const fileDefault = queues.find((queue) => queue.name === DEFAULT_QUEUE_NAME);
  return {
    total_storage_limit_bytes,
    queues: [fileDefault ?? defaultQueueConfig(), ...queues.filter((queue) => queue !== fileDefault && queue.name !== DEFAULT_QUEUE_NAME)],
    ...(keepsPausedQueues ? { resume_paused_queues: false } : {}),
  };
}

/** The entry's name when it is present and valid; reports it otherwise. */
function checkName(entry: RawQueueEntry, path: Path, ctx: NormaliseContext): string | null {
  const namePath = [...path, 'name'];
  if (entry.name == null) {
    if (!ctx.isRemoved(namePath)) ctx.issues.report('name-missing', namePath, `${formatPath(path)} has no ${spellKey(ctx.format, 'name')}`, 'key');
    return null;
  }
  if (!isValidQueueName(entry.name)) {
    ctx.issues.report('name-invalid', namePath, `queue name \`${entry.name}\` is not valid: use 1 to 100 letters, digits and hyphens`);
    return null;
  }
  return entry.name;
}

function normaliseQueue(entry: RawQueueEntry, name: string, path: Path, ctx: NormaliseContext): QueueConfig {
  const { issues } = ctx;
  const key = (k: string) => spellKey(ctx.format, k);
  const label = name === '' ? formatPath(path) : `queue ${name}`;

  let mode: 'push' | 'pull' | null = 'push'; // null: invalid, so mode-specific rules are skipped
  if (entry.mode != null) {
    if (entry.mode === 'push' || entry.mode === 'pull') mode = entry.mode;
    else {
      invalid(ctx, 'mode-invalid', [...path, 'mode'], entry.mode, 'expected push or pull');
      mode = null;
    }
  }

  const retry = entry.retry_parameters ?? {};
  if (mode === 'pull') {
    for (const k of PUSH_ONLY_QUEUE_KEYS) {
      if (entry[k] != null) issues.report('push-only-directive', [...path, k], `${key(k)} applies to push queues only; ${label} is a pull queue`, 'key');
    }
    for (const k of PUSH_ONLY_RETRY_KEYS) {
      if (retry[k] != null) issues.report('push-only-directive', [...path, 'retry_parameters', k], `${key(k)} applies to push queues only; ${label} is a pull queue`, 'key');
    }
    return {
      name,
      mode: 'pull',
      state: 'running',
      rate_per_second: null,
      rate_exact: null,
      bucket_size: null,
      max_concurrent_requests: null,
      target: null,
      retry_parameters: { ...RETRY_DEFAULTS, task_retry_limit: retryLimit(retry, path, ctx) },
    };
  }

  if (mode === 'push' && entry.acl != null) {
    issues.report('pull-only-directive', [...path, 'acl'], `${key('acl')} applies to pull queues only; ${label} is a push queue`, 'key');
  }

  const rate = queueRate(entry, path, label, mode, ctx);
  return {
    name,
    mode: 'push',
    state: rate.per_second === 0 ? 'paused' : 'running',
    rate_per_second: rate.per_second,
    rate_exact: rate.exact,
    bucket_size: bucketSize(entry, path, ctx),
    max_concurrent_requests: maxConcurrentRequests(entry, path, ctx),
    target: target(entry, path, ctx),
    retry_parameters: retryParameters(retry, path, ctx),
  };
}

function queueRate(entry: RawQueueEntry, path: Path, label: string, mode: 'push' | null, ctx: NormaliseContext): { per_second: number; exact: ExactRate | null } {
  const ratePath = [...path, 'rate'];
  const key = spellKey(ctx.format, 'rate');
  const text = entry.rate;
  if (text == null) {
    if (mode === 'push' && !ctx.isRemoved(ratePath)) {
      ctx.issues.report('rate-missing', ratePath, `${label} has no ${key}; a push queue must set one (${key} 0 creates it paused)`, 'key');
    }
    return { per_second: 0, exact: null };
  }
  const parsed = parseRate(text);
  if (!parsed.ok) {
    invalid(ctx, 'rate-invalid', ratePath, text, parsed.reason);
    return { per_second: 0, exact: null };
  }
  if (parsed.exact !== null && rateExceeds(parsed.exact, QUEUE_LIMITS.rate_per_second_max)) {
    const perSecond = text.endsWith('/s') ? '' : ` (${Number(parsed.per_second.toFixed(3))} per second)`;
    ctx.issues.report('rate-max', ratePath, `${key} ${text}${perSecond} is above App Engine's maximum of ${QUEUE_LIMITS.rate_per_second_max} per second`);
  }
  return parsed;
}

function bucketSize(entry: RawQueueEntry, path: Path, ctx: NormaliseContext): number {
  const text = entry.bucket_size;
  if (text == null) return QUEUE_LIMITS.bucket_size_default;
  const bucketPath = [...path, 'bucket_size'];
  const max = QUEUE_LIMITS.bucket_size_max;
  const value = wholeNumber(ctx, 'bucket-size-invalid', bucketPath, text, 0, `expected a whole number from 0 to ${max}`);
  if (value === null) return QUEUE_LIMITS.bucket_size_default;
  if (value > max) ctx.issues.report('bucket-size-max', bucketPath, `${spellKey(ctx.format, 'bucket_size')} ${text} is above App Engine's maximum of ${max}`);
  return value;
}

function maxConcurrentRequests(entry: RawQueueEntry, path: Path, ctx: NormaliseContext): number {
  const text = entry.max_concurrent_requests;
  if (text == null) return QUEUE_LIMITS.max_concurrent_requests_default;
  const mcrPath = [...path, 'max_concurrent_requests'];
  // Any whole number, as App Engine's parser takes; gcloud deploys it clamped to [1, 5000]
  // (reference §8: min(5000, max(1, int(x)))), so outside that range is a warning, not an error.
  const value = parseWholeNumber(text);
  if (value === null) {
    invalid(ctx, 'max-concurrent-requests-invalid', mcrPath, text, 'expected a whole number');
    return QUEUE_LIMITS.max_concurrent_requests_default;
  }
  if (value < 1) {
    ctx.issues.report('max-concurrent-requests-clamped', mcrPath, `${spellKey(ctx.format, 'max_concurrent_requests')} ${text} is below App Engine's minimum of 1; 1 is used`);
    return 1;
  }
  const max = QUEUE_LIMITS.max_concurrent_requests_max;
  if (value > max) {
    ctx.issues.report('max-concurrent-requests-clamped', mcrPath, `${spellKey(ctx.format, 'max_concurrent_requests')} ${text} is above App Engine's maximum of ${max}; ${max} is used`);
    return max;
  }
  return value;
}

function target(entry: RawQueueEntry, path: Path, ctx: NormaliseContext): string | null {
  const text = entry.target;
  if (text == null) return null;
  if (!isValidTarget(text)) {
    invalid(ctx, 'target-invalid', [...path, 'target'], text, 'expected a service such as `worker` or `version.service`, in lower-case letters, digits and hyphens');
    return null;
  }
  return text;
}

function retryLimit(retry: RawRetryParameters, path: Path, ctx: NormaliseContext): number | null {
  const text = retry.task_retry_limit;
  if (text == null) return null;
  return wholeNumber(ctx, 'task-retry-limit-invalid', [...path, 'retry_parameters', 'task_retry_limit'], text, 0, 'expected a whole number of 0 or more');
}

function retryParameters(retry: RawRetryParameters, path: Path, ctx: NormaliseContext): RetryParameters {
  const retryPath = [...path, 'retry_parameters'];
  const key = (k: string) => spellKey(ctx.format, k);

  let task_age_limit_seconds: number | null = null;
  if (retry.task_age_limit != null) {
    const parsed = parseTaskAgeLimit(retry.task_age_limit);
    if (parsed.ok) task_age_limit_seconds = parsed.seconds;
    else invalid(ctx, 'task-age-limit-invalid', [...retryPath, 'task_age_limit'], retry.task_age_limit, parsed.reason);
  }

  const seconds = (k: 'min_backoff_seconds' | 'max_backoff_seconds', code: 'min-backoff-seconds-invalid' | 'max-backoff-seconds-invalid'): number | null => {
    const text = retry[k];
    if (text == null) return null;
    const value = parseDecimal(text);
    if (value !== null && value >= 0) return value;
    invalid(ctx, code, [...retryPath, k], text, 'expected a number of seconds, 0 or more');
    return null;
  };
  const min = seconds('min_backoff_seconds', 'min-backoff-seconds-invalid');
  const max = seconds('max_backoff_seconds', 'max-backoff-seconds-invalid');
  // App Engine's fix-up when only one side is given (PY-QI TranslateRetryParameters, GC-MIG).
  let min_backoff_seconds = min ?? RETRY_DEFAULTS.min_backoff_seconds;
  let max_backoff_seconds = max ?? RETRY_DEFAULTS.max_backoff_seconds;
  if (min !== null && max === null && min > max_backoff_seconds) max_backoff_seconds = min;
  if (min === null && max !== null && max < min_backoff_seconds) min_backoff_seconds = max;
  if (min !== null && max !== null && min > max) {
    const maxLine = ctx.positions.locate([...retryPath, 'max_backoff_seconds'], 'value').line;
    ctx.issues.report('min-backoff-above-max', [...retryPath, 'min_backoff_seconds'], `${key('min_backoff_seconds')} ${retry.min_backoff_seconds} is greater than ${key('max_backoff_seconds')} ${retry.max_backoff_seconds} (line ${maxLine})`);
  }

  const doublings = retry.max_doublings == null ? null : wholeNumber(ctx, 'max-doublings-invalid', [...retryPath, 'max_doublings'], retry.max_doublings, 0, 'expected a whole number of 0 or more');

  return {
    task_retry_limit: retryLimit(retry, path, ctx),
    task_age_limit_seconds,
    min_backoff_seconds,
    max_backoff_seconds,
    max_doublings: doublings ?? RETRY_DEFAULTS.max_doublings,
  };
}

/** `key \`text\` is not valid: expectation`, at the value, with the key spelled as in the file. */
function invalid(ctx: NormaliseContext, code: IssueCode, path: Path, text: string, expectation: string): void {
  ctx.issues.report(code, path, `${spellKey(ctx.format, String(path[path.length - 1]))} \`${text}\` is not valid: ${expectation}`);
}

/** The whole number in `text` when it is at least `min`; otherwise reports `code` and gives null. */
function wholeNumber(ctx: NormaliseContext, code: IssueCode, path: Path, text: string, min: number, expectation: string): number | null {
  const value = parseWholeNumber(text);
  if (value !== null && value >= min) return value;
  invalid(ctx, code, path, text, expectation);
  return null;
}
