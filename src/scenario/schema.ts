/**
 * The raw shape of a scenario file, before any value is interpreted: which keys exist where and
 * whether each is a single value, a mapping or a list. Scalars are text (the file is read with the
 * YAML failsafe schema, as queue.yaml is); `null` is a key written with no value.
 *
 * `checkShape` reports every shape problem at once (unknown keys with a "did you mean",
 * wrong kinds), removes the offending parts, and hands the rest to the value rules. `queue` is
 * left unchecked here: it is a queue.yaml `queue:` list, and src/config checks it.
 */
import { z } from 'zod';
import { describeValue } from '../config/schema.js';
import { formatPath, type Path } from '../config/paths.js';
import { checkShapeAgainst, type ShapeResult } from '../config/shape-check.js';
import { closestKey } from '../config/suggest.js';
import type { ScenarioIssues } from './issues.js';

const text = z.string().nullish();

const TaskRetrySchema = z.strictObject({
  task_retry_limit: text,
  task_age_limit: text,
  min_backoff_seconds: text,
  max_backoff_seconds: text,
  max_doublings: text,
});

const WorkloadSchema = z.strictObject({
  queue: text,
  count: text,
  at: text,
  rate: text,
  arrivals: text,
  url: text,
  method: text,
  payload_bytes: text,
  countdown: text,
  dispatch_deadline: text,
  name_prefix: text,
  target: text,
  retry_parameters: TaskRetrySchema.nullish(),
});

/** A latency written as a mapping; which keys it needs depends on `distribution`. */
export const LatencySchema = z.strictObject({
  distribution: text,
  value: text,
  min: text,
  max: text,
  mean: text,
  p50: text,
  p99: text,
});

const OutageSchema = z.strictObject({ from: text, to: text, status: text });

/** `latency` is a duration or a LatencySchema mapping, checked by the value rules. */
const RouteSchema = z.strictObject({
  prefix: text,
  target: text,
  latency: z.unknown().optional(),
  error_rate: text,
  error_status: text,
  timeout_rate: text,
});

const WorkerSchema = z.strictObject({
  latency: z.unknown().optional(),
  error_rate: text,
  error_status: text,
  timeout_rate: text,
  outages: z.array(OutageSchema).nullish(),
  routes: z.array(RouteSchema).nullish(),
});

export const TargetSchema = z.strictObject({ scaling: text });

export const ScenarioSchema = z.strictObject({
  seed: text,
  queue_yaml: text,
  /** A queue.yaml `queue:` list; src/config checks it. */
  queue: z.unknown().optional(),
  total_storage_limit: text,
  until: text,
  /** `true`: dev_appserver parity (S39, src/core/dev-server.ts). */
  dev_server: text,
  workload: z.array(WorkloadSchema).nullish(),
  worker: WorkerSchema.nullish(),
  targets: z.record(z.string(), TargetSchema.nullish()).nullish(),
});

export type RawScenario = z.infer<typeof ScenarioSchema>;
export type RawWorkload = z.infer<typeof WorkloadSchema>;
export type RawTaskRetry = z.infer<typeof TaskRetrySchema>;
export type RawWorker = z.infer<typeof WorkerSchema>;
export type RawRoute = z.infer<typeof RouteSchema>;

/** The known keys of each kind of mapping, by the path's key names (`workload[2].retry_parameters`). */
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(ScenarioSchema.shape),
  workload: Object.keys(WorkloadSchema.shape),
  'workload.retry_parameters': Object.keys(TaskRetrySchema.shape),
  worker: Object.keys(WorkerSchema.shape),
  'worker.latency': Object.keys(LatencySchema.shape),
  'worker.outages': Object.keys(OutageSchema.shape),
  'worker.routes': Object.keys(RouteSchema.shape),
  'worker.routes.latency': Object.keys(LatencySchema.shape),
  'targets.*': Object.keys(TargetSchema.shape),
};

const PLACE: Readonly<Record<string, string>> = {
  '': 'at the top level',
  workload: 'in a workload entry',
  'workload.retry_parameters': 'in retry_parameters',
  worker: 'in worker',
  'worker.latency': 'in a latency',
  'worker.outages': 'in an outage',
  'worker.routes': 'in a route',
  'worker.routes.latency': 'in a latency',
  'targets.*': 'in a target',
};

/** `['workload', 3, 'retry_parameters']` → `workload.retry_parameters`; a target's name → `*`. */
function mappingKind(path: Path): string {
  const names: string[] = [];
  path.forEach((segment, i) => {
    if (typeof segment !== 'string') return;
    names.push(i === 1 && path[0] === 'targets' ? '*' : segment);
  });
  return names.join('.');
}

function unknownKeyMessage(key: string, mappingPath: Path): string {
  const kind = mappingKind(mappingPath);
  const where = PLACE[kind] ?? `in ${formatPath(mappingPath)}`;
  if (key === '') return `a key with no name ${where}: nothing stands before its colon`;
  if (kind === '' && (KNOWN_KEYS['workload'] ?? []).includes(key)) {
    return `unknown key ${key} ${where}: ${key} is a workload key, so it belongs inside an entry of workload`;
  }
  if (kind === '' && ['latency', 'error_rate', 'error_status', 'timeout_rate', 'outages', 'routes'].includes(key)) {
    return `unknown key ${key} ${where}: ${key} is a worker key, so it belongs inside worker`;
  }
  const suggestion = closestKey(key, KNOWN_KEYS[kind] ?? []);
  return `unknown key ${key} ${where}${suggestion === null ? '' : `; did you mean ${suggestion}?`}`;
}

const EXPECTED: Readonly<Record<string, string>> = { string: 'a single value', object: 'a mapping', array: 'a list' };

function wrongTypeMessage(path: Path, expected: string, actual: unknown): string {
  const found = describeValue(actual, 'yaml');
  if (path.length === 0) return `a scenario must be a mapping of top-level keys such as workload and worker, found ${found}`;
  const last = path[path.length - 1];
  const label = typeof last === 'string' ? last : formatPath(path);
  let message = `${label} must be ${EXPECTED[expected] ?? expected}, found ${found}`;
  if (expected === 'string' && Array.isArray(actual)) message += ' (YAML reads [...] as a list: quote the value if the brackets are meant literally)';
  if (label === 'workload' && expected === 'array') message += ' (each workload is a list item: `- queue: ...`)';
  return message;
}

export type { ShapeResult } from '../config/shape-check.js';

/**
 * Checks `data` against `schema`, reporting at `base` + each issue's path; unknown keys and
 * wrong kinds are removed so the rest can still be checked.
 */
export function checkShape<T>(schema: z.ZodType<T>, data: unknown, base: Path, issues: ScenarioIssues): ShapeResult<T> {
  return checkShapeAgainst(schema, data, base, {
    unknownKey: (key, path) => issues.report('unknown-key', [...path, key], unknownKeyMessage(key, path), 'key'),
    wrongType: (path, expected, actual) => issues.report('wrong-type', path, wrongTypeMessage(path, expected, actual)),
  }, 'scenario');
}

export { isPlainMap } from '../config/shape-check.js';
