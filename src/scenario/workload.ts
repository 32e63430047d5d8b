/**
 * The value rules of `workload` entries: each entry becomes one `WorkloadSpec` for
 * `Simulation.addWorkload`. The tasks an entry would add are checked here with the engine's own
 * task rules (`checkTaskSpec`), at the key that causes the problem, so a scenario that passes
 * never has a task refused halfway through a run.
 */
import { parseTaskAgeLimitExact } from '../config/durations.js';
import type { Path } from '../config/paths.js';
import { closestKey } from '../config/suggest.js';
import type { QueueFileConfig, RetryParameters } from '../config/types.js';
import { PushqError } from '../core/errors.js';
import type { HttpMethod } from '../core/task-table.js';
import { checkTaskSpec, TASK_LIMITS, type TaskSpec } from '../core/task-spec.js';
import { US_PER_SECOND } from '../core/time.js';
import type { WorkloadSpec } from '../simulate/simulation.js';
import type { AnyIssueCode, ScenarioIssues } from './issues.js';
import type { RawTaskRetry, RawWorkload } from './schema.js';
import { parseArrivalRate, parseDuration, parseSeconds, parseWhole, type Parsed } from './values.js';

const WORKLOAD_COUNT_MAX = 10_000_000;
/** A payload alone cannot pass the task size limit, which counts it with the method, URL and headers. */
const PAYLOAD_BYTES_MAX = TASK_LIMITS.size_bytes_max;

export interface WorkloadContext {
  issues: ScenarioIssues;
  /** null when the queue configuration has errors: queue names are then not checked. */
  config: QueueFileConfig | null;
  /** Per queue, the named entries seen so far. */
  named: Map<string, NamedEntry[]>;
}

/** An entry naming its tasks `<prefix>0` … `<prefix><count − 1>`. */
export interface NamedEntry {
  prefix: string;
  count: number;
  index?: number;
}

/**
 * The smallest name two entries would both use, or null. Names `a.prefix + i` and `b.prefix + j`
 * meet when one prefix extends the other by digits `rest` and `rest + j` is the decimal `i`
 * (no leading zero); `j = 0` gives the smallest such `i`.
 */
export function clashingName(a: NamedEntry, b: NamedEntry): string | null {
  if (a.count === 0 || b.count === 0) return null;
  const [short, long] = a.prefix.length <= b.prefix.length ? [a, b] : [b, a];
  if (!long.prefix.startsWith(short.prefix)) return null;
  const rest = long.prefix.slice(short.prefix.length);
  if (rest === '') return `${short.prefix}0`;
  if (!/^[1-9]\d*$/.test(rest)) return null;
  return Number(`${rest}0`) < short.count ? `${long.prefix}0` : null;
}

function namesOverlap(a: NamedEntry, b: NamedEntry): boolean {
  return clashingName(a, b) !== null;
}

/** One entry → a WorkloadSpec, or null when it has errors (all of them reported). */
export function checkWorkload(raw: RawWorkload, index: number, ctx: WorkloadContext): WorkloadSpec | null {
  const base: Path = ['workload', index];
  const { issues } = ctx;
  let ok = true;
  const value = <T>(key: string, code: AnyIssueCode, parsed: Parsed<T>, text: string): T | undefined => {
    if (parsed.ok) return parsed.value;
    issues.report(code, [...base, key], `${key} \`${text}\` is not valid: ${parsed.reason}`);
    ok = false;
    return undefined;
  };

  const queue = raw.queue ?? 'default';
  if (ctx.config !== null) {
    const known = ctx.config.queues.find((q) => q.name === queue);
    if (known === undefined) {
      const suggestion = closestKey(queue, ctx.config.queues.map((q) => q.name));
      issues.report('workload-queue-unknown', [...base, 'queue'], `queue ${queue} is not defined in the queue configuration${suggestion === null ? '' : `; did you mean ${suggestion}?`}`);
      ok = false;
    } else if (known.mode === 'pull') {
      issues.report('workload-queue-pull', [...base, 'queue'], `queue ${queue} is a pull queue; a simulation adds push tasks`);
      ok = false;
    }
  }

  let count: number | undefined;
  if (raw.count == null) {
    issues.report('required-key-missing', base, `a workload entry needs count (how many tasks to add)`, 'key');
    ok = false;
  } else {
    count = value('count', 'count-invalid', parseWhole(raw.count, 0, WORKLOAD_COUNT_MAX), raw.count);
  }

  const atUs = raw.at == null ? 0 : value('at', 'duration-invalid', parseDuration(raw.at), raw.at);
  const ratePerSecond = raw.rate == null ? undefined : value('rate', 'workload-rate-invalid', parseArrivalRate(raw.rate), raw.rate);
  let arrivals: 'even' | 'poisson' | undefined;
  if (raw.arrivals != null) {
    const lower = raw.arrivals.toLowerCase();
    if (lower === 'even' || lower === 'poisson') arrivals = lower;
    else {
      issues.report('arrivals-invalid', [...base, 'arrivals'], `arrivals \`${raw.arrivals}\` is not valid: expected even or poisson`);
      ok = false;
    }
    if (raw.rate == null) {
      issues.report('arrivals-without-rate', [...base, 'arrivals'], 'arrivals needs a rate: without one, every task of the entry arrives at `at`', 'key');
      ok = false;
    }
  }
  const countdownUs = raw.countdown == null ? undefined : value('countdown', 'duration-invalid', parseDuration(raw.countdown), raw.countdown);
  const deadlineUs = raw.dispatch_deadline == null ? undefined : value('dispatch_deadline', 'duration-invalid', parseDuration(raw.dispatch_deadline), raw.dispatch_deadline);
  const bodyBytes = raw.payload_bytes == null ? undefined : value('payload_bytes', 'task-invalid', parseWhole(raw.payload_bytes, 0, PAYLOAD_BYTES_MAX), raw.payload_bytes);
  const retry = raw.retry_parameters == null ? undefined : checkTaskRetry(raw.retry_parameters, [...base, 'retry_parameters'], issues);
  if (retry === null) ok = false;

  if (raw.name_prefix != null && count !== undefined && count > 0) {
    const named = ctx.named.get(queue) ?? [];
    const clash = named.find((other) => namesOverlap(other, { prefix: raw.name_prefix as string, count }));
    if (clash !== undefined) {
      const name = clashingName(clash, { prefix: raw.name_prefix, count });
      issues.report('name-prefix-duplicate', [...base, 'name_prefix'], `workload[${clash.index}] (prefix ${clash.prefix}) also names a task ${name} in queue ${queue}; task names must be unique`);
      ok = false;
    } else {
      named.push({ prefix: raw.name_prefix, count, index });
      ctx.named.set(queue, named);
    }
  }
  const task: NonNullable<WorkloadSpec['task']> = {};
  if (raw.url != null) task.url = raw.url;
  if (raw.method != null) task.method = raw.method.toUpperCase() as HttpMethod;
  if (bodyBytes !== undefined) task.bodyBytes = bodyBytes;
  if (countdownUs !== undefined) task.countdownSeconds = countdownUs / US_PER_SECOND;
  if (deadlineUs !== undefined) task.dispatchDeadlineSeconds = deadlineUs / US_PER_SECOND;
  if (retry != null) task.retry = retry;
  if (raw.target != null) task.target = raw.target;
  // The task rules run even when another key failed, so every problem of the entry is listed.
  if (!checkTasks(task, queue, raw.name_prefix ?? undefined, count ?? 1, countdownUs, deadlineUs, base, issues)) return null;
  if (!ok || count === undefined) return null;

  const spec: WorkloadSpec = { queue, count, atSeconds: (atUs ?? 0) / US_PER_SECOND, task };
  if (ratePerSecond !== undefined) spec.ratePerSecond = ratePerSecond;
  if (arrivals !== undefined) spec.arrivals = arrivals;
  if (raw.name_prefix != null) spec.namePrefix = raw.name_prefix;
  return spec;
}

/** Per-task retry options, as in queue.yaml's retry_parameters; null when any is invalid. */
function checkTaskRetry(raw: RawTaskRetry, base: Path, issues: ScenarioIssues): Partial<RetryParameters> | null {
  const out: Partial<RetryParameters> = {};
  let ok = true;
  const take = (key: keyof RawTaskRetry, parsed: Parsed<number> | null, text: string) => {
    if (parsed !== null && parsed.ok) return parsed.value;
    issues.report('retry-parameter-invalid', [...base, key], `${key} \`${text}\` is not valid: ${parsed?.reason ?? ''}`);
    ok = false;
    return undefined;
  };
  if (raw.task_retry_limit != null) out.task_retry_limit = take('task_retry_limit', parseWhole(raw.task_retry_limit, 0, Number.MAX_SAFE_INTEGER), raw.task_retry_limit);
  if (raw.task_age_limit != null) {
    // A task's own limit is kept exact; the engine rounds it up as the Python SDK does.
    const age = parseTaskAgeLimitExact(raw.task_age_limit);
    out.task_age_limit_seconds = take('task_age_limit', age.ok ? { ok: true, value: age.seconds } : age, raw.task_age_limit);
  }
  if (raw.min_backoff_seconds != null) out.min_backoff_seconds = take('min_backoff_seconds', parseSeconds(raw.min_backoff_seconds), raw.min_backoff_seconds);
  if (raw.max_backoff_seconds != null) out.max_backoff_seconds = take('max_backoff_seconds', parseSeconds(raw.max_backoff_seconds), raw.max_backoff_seconds);
  if (raw.max_doublings != null) out.max_doublings = take('max_doublings', parseWhole(raw.max_doublings, 0, 1000), raw.max_doublings);
  return ok ? out : null;
}

/** Which scenario key a task-rule field comes from. */
const FIELD_KEYS: Readonly<Record<string, string>> = {
  url: 'url',
  method: 'method',
  body: 'payload_bytes',
  bodyBytes: 'payload_bytes',
  name: 'name_prefix',
  target: 'target',
  countdown: 'countdown',
  eta: 'countdown',
  dispatchDeadline: 'dispatch_deadline',
};

function fieldPath(field: string | undefined, base: Path): Path {
  if (field === undefined) return base;
  if (field.startsWith('retry.')) {
    const key = field.slice('retry.'.length);
    return [...base, 'retry_parameters', key === 'task_age_limit_seconds' ? 'task_age_limit' : key];
  }
  const key = FIELD_KEYS[field];
  return key === undefined ? base : [...base, key];
}

/**
 * Runs the engine's task rules on the entry's longest task name (the last one), which stands for
 * every task of the entry: they differ only in the name's number.
 */
function checkTasks(
  task: NonNullable<WorkloadSpec['task']>, queue: string, prefix: string | undefined, count: number,
  countdownUs: number | undefined, deadlineUs: number | undefined, base: Path, issues: ScenarioIssues,
): boolean {
  const { countdownSeconds: _countdown, dispatchDeadlineSeconds: _deadline, ...rest } = task;
  const spec: TaskSpec = { ...rest, queue };
  if (prefix !== undefined) spec.name = `${prefix}${Math.max(0, count - 1)}`;
  if (countdownUs !== undefined) spec.countdownUs = countdownUs;
  if (deadlineUs !== undefined) spec.dispatchDeadlineUs = deadlineUs;
  try {
    checkTaskSpec(spec, 0);
    return true;
  } catch (error) {
    if (!(error instanceof PushqError)) throw error;
    issues.report('task-invalid', fieldPath(error.details.field, base), `the tasks of this workload would be refused with ${error.code}: ${error.message}`);
    return false;
  }
}
