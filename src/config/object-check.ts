/**
 * The check of a configuration given to the library as an object (`createSimulation`'s `config`,
 * `PushqService.start`'s, a hand-built `Scenario`'s) rather than read from a file: it must have the
 * loader's shape (normalise.ts) and every invariant the core relies on. App Engine's deploy limits
 * (500/s, a bucket of 500, 5,000 concurrent requests, 100 queues) are the files' rules, not the
 * engine's: a config in code may go past them (a test at 1,000/s), as it could not in queue.yaml.
 * Without it a wrong value ran silently: a `rate_exact` period of 0 dispatched with no rate limit,
 * a `bucket_size` of NaN or a `max_concurrent_requests` of 0 stalled every task for ever.
 *
 * The first problem found is thrown as a ConfigObjectError whose `field` names the value
 * (`config.queues[1].bucket_size`); a config that passes is returned as it is (nothing is
 * defaulted: defaults belong to the files, and `defaultQueueConfig()` gives a queue to start from).
 */
import { isValidQueueName, isValidTarget } from './names.js';
import { ratePerSecond } from './rate.js';
import { firstUnknownKey, isPlainObject, showValue as show, type Fields } from './object-fields.js';
import type { QueueFileConfig } from './types.js';
import { EXACT_RATE_KEYS, QUEUE_FILE_KEYS, QUEUE_FILE_OPTIONAL_KEYS, QUEUE_KEYS, RETRY_KEYS } from '../core/queue-config.js';

/** A configuration object the library was given that the loader could not have produced. */
export class ConfigObjectError extends RangeError {
  readonly code = 'CONFIG_OBJECT_INVALID';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ConfigObjectError';
  }
}

/** What a pull queue has in place of the push directives (reference §1.2: they apply to push queues only). */
const PULL_NULL_KEYS = ['rate_per_second', 'rate_exact', 'bucket_size', 'max_concurrent_requests', 'target'] as const;

/** The object at `field`, with exactly `keys` (each present, possibly null) and perhaps some of `optional`; throws otherwise. */
function fieldsOf(value: unknown, field: string, what: string, keys: readonly string[], optional: readonly string[] = []): Fields {
  if (!isPlainObject(value)) throw new ConfigObjectError(field, `expected ${what} (an object), got ${show(value)}`);
  const unknown = firstUnknownKey(value, [...keys, ...optional]);
  if (unknown !== null) {
    throw new ConfigObjectError(`${field}.${unknown.key}`, `not a key of ${what}${unknown.near === null ? '' : `; did you mean ${unknown.near}?`} (${what} has ${[...keys, ...optional].join(', ')})`);
  }
  for (const key of keys) {
    if (!Object.hasOwn(value, key)) throw new ConfigObjectError(`${field}.${key}`, `missing: ${what} has every one of ${keys.join(', ')} (null where the file says nothing)`);
  }
  return value;
}

function wholeNumber(value: unknown, field: string, min: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  throw new ConfigObjectError(field, `${show(value)} is not a whole number ${min} or more`);
}

function seconds(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new ConfigObjectError(field, `${show(value)} is not a number of seconds, 0 or more`);
}

function nullable<T>(value: unknown, check: (v: unknown) => T): T | null {
  return value === null ? null : check(value);
}

/** `config` itself when it is a configuration the loader could have produced; a ConfigObjectError naming the first problem otherwise. */
export function checkQueueFileConfig(config: unknown, field = 'config'): QueueFileConfig {
  const file = fieldsOf(config, field, 'a queue configuration', QUEUE_FILE_KEYS, QUEUE_FILE_OPTIONAL_KEYS);
  nullable(file['total_storage_limit_bytes'], (v) => wholeNumber(v, `${field}.total_storage_limit_bytes`, 0));
  const resume = file['resume_paused_queues'];
  if (resume !== undefined && typeof resume !== 'boolean') throw new ConfigObjectError(`${field}.resume_paused_queues`, `${show(resume)} is not true or false (or absent: true)`);
  const queues = file['queues'];
  if (!Array.isArray(queues)) throw new ConfigObjectError(`${field}.queues`, `expected an array of queues, got ${show(queues)}`);
  const seen = new Set<string>();
  queues.forEach((queue: unknown, index) => {
    const name = checkQueue(queue, `${field}.queues[${index}]`);
    if (seen.has(name)) throw new ConfigObjectError(`${field}.queues[${index}].name`, `queue name ${name} is already used by an earlier queue`);
    seen.add(name);
  });
  return config as QueueFileConfig;
}

/** Checks one queue; gives its name. */
function checkQueue(value: unknown, field: string): string {
  const queue = fieldsOf(value, field, 'a queue', QUEUE_KEYS);
  const name = queue['name'];
  if (typeof name !== 'string' || !isValidQueueName(name)) throw new ConfigObjectError(`${field}.name`, `${show(name)} is not a queue name: 1 to 100 letters, digits and hyphens`);
  const mode = queue['mode'];
  if (mode !== 'push' && mode !== 'pull') throw new ConfigObjectError(`${field}.mode`, `${show(mode)} is not push or pull`);
  const at = (key: string) => `${field}.${key}`;

  if (mode === 'pull') {
    for (const key of PULL_NULL_KEYS) {
      if (queue[key] !== null) throw new ConfigObjectError(at(key), `${show(queue[key])} on pull queue ${name}: ${key} applies to push queues only (null)`);
    }
    if (queue['state'] !== 'running') throw new ConfigObjectError(at('state'), `${show(queue['state'])} on pull queue ${name}: a pull queue's state is running`);
  } else {
    const rate = checkRate(queue, field, name);
    const state = queue['state'];
    const expected = rate === null ? 'paused' : 'running';
    // The loader's rule: `rate: 0` makes a paused queue, any other rate a running one.
    if (state !== expected) throw new ConfigObjectError(at('state'), `${show(state)} on queue ${name}: ${rate === null ? 'a queue with no rate (rate_exact null) is paused' : 'a queue with a rate is running (pause it with rate 0: rate_exact null)'}`);
    wholeNumber(queue['bucket_size'], at('bucket_size'), 0);
    wholeNumber(queue['max_concurrent_requests'], at('max_concurrent_requests'), 1);
    const target = queue['target'];
    if (target !== null && (typeof target !== 'string' || !isValidTarget(target))) throw new ConfigObjectError(at('target'), `${show(target)} is not null, \`service\` or \`version.service\``);
  }
  checkRetryParameters(queue['retry_parameters'], at('retry_parameters'));
  return name;
}

/** A push queue's rate (null for a paused one), its two spellings agreeing. */
function checkRate(queue: Fields, field: string, name: string): { tokens: number; period_us: number } | null {
  const exactValue = queue['rate_exact'];
  const perSecond = queue['rate_per_second'];
  if (exactValue === null) {
    if (perSecond !== 0) throw new ConfigObjectError(`${field}.rate_per_second`, `${show(perSecond)} on queue ${name}, whose rate_exact is null (rate 0): 0 is expected`);
    return null;
  }
  const exact = fieldsOf(exactValue, `${field}.rate_exact`, 'an exact rate', EXACT_RATE_KEYS);
  const rate = { tokens: wholeNumber(exact['tokens'], `${field}.rate_exact.tokens`, 1), period_us: wholeNumber(exact['period_us'], `${field}.rate_exact.period_us`, 1) };
  // Display only, and computed in more than one way (10 / 60 or 1e6 / 6e6): equal to a part in 10^9.
  const expected = ratePerSecond(rate);
  if (typeof perSecond !== 'number' || !(Math.abs(perSecond - expected) <= expected * 1e-9)) throw new ConfigObjectError(`${field}.rate_per_second`, `${show(perSecond)} is not rate_exact's ${expected} per second (tokens × 1,000,000 / period_us)`);
  return rate;
}

function checkRetryParameters(value: unknown, field: string): void {
  const retry = fieldsOf(value, field, 'retry parameters', RETRY_KEYS);
  nullable(retry['task_retry_limit'], (v) => wholeNumber(v, `${field}.task_retry_limit`, 0));
  nullable(retry['task_age_limit_seconds'], (v) => wholeNumber(v, `${field}.task_age_limit_seconds`, 1));
  const min = seconds(retry['min_backoff_seconds'], `${field}.min_backoff_seconds`);
  const max = seconds(retry['max_backoff_seconds'], `${field}.max_backoff_seconds`);
  if (min > max) throw new ConfigObjectError(`${field}.min_backoff_seconds`, `${min} is greater than max_backoff_seconds ${max}`);
  wholeNumber(retry['max_doublings'], `${field}.max_doublings`, 0);
}
