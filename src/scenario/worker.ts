/**
 * The value rules of `worker` (the modelled worker service) and `targets`. Every duration becomes
 * integer microseconds here; the result is the `WorkerModel` of src/dispatch/worker-model.ts.
 */
import { isValidTarget } from '../config/names.js';
import { assertNever } from '../core/assert.js';
import type { Path } from '../config/paths.js';
import type { TargetScaling, TargetSettings } from '../core/events.js';
import { DEFAULT_WORKER, type LatencyModel, type Outage, type WorkerModel, type WorkerRoute } from '../dispatch/worker-model.js';
import type { ScenarioIssues } from './issues.js';
import { checkShape, isPlainMap, LatencySchema, TargetSchema, type RawRoute, type RawWorker } from './schema.js';
import { parseDuration, parseErrorStatus, parseFraction, type Parsed } from './values.js';

type Behaviour = Pick<RawWorker, 'error_rate' | 'error_status' | 'timeout_rate'> & { latency?: unknown };

/** Reports a refused value and returns undefined, or returns the value. */
function take<T>(issues: ScenarioIssues, code: Parameters<ScenarioIssues['report']>[0], path: Path, parsed: Parsed<T>, text: string): T | undefined {
  if (parsed.ok) return parsed.value;
  const key = path[path.length - 1];
  issues.report(code, path, `${typeof key === 'string' ? key : 'value'} \`${text}\` is not valid: ${parsed.reason}`);
  return undefined;
}

export function checkWorker(raw: RawWorker | null | undefined, issues: ScenarioIssues): WorkerModel {
  const base: Path = ['worker'];
  const model: WorkerModel = { ...DEFAULT_WORKER, outages: [], routes: [] };
  if (raw == null) return model;
  Object.assign(model, checkBehaviour(raw, base, issues));
  (raw.outages ?? []).forEach((o, i) => {
    const path: Path = [...base, 'outages', i];
    const need = (key: 'from' | 'to'): number | undefined => {
      const text = o[key];
      if (text == null) {
        issues.report('required-key-missing', path, `an outage needs \`${key}\`, the time it ${key === 'from' ? 'starts' : 'ends'} (such as 60s)`, 'key');
        return undefined;
      }
      return take(issues, 'duration-invalid', [...path, key], parseDuration(text), text);
    };
    const fromUs = need('from');
    const toUs = need('to');
    const status = o.status == null ? null : take(issues, 'status-invalid', [...path, 'status'], parseErrorStatus(o.status), o.status);
    if (fromUs === undefined || toUs === undefined || status === undefined) return;
    if (toUs <= fromUs) {
      issues.report('outage-invalid', [...path, 'to'], `the outage ends (${o.to}) before or when it starts (${o.from})`);
      return;
    }
    const outage: Outage = { fromUs, toUs, status };
    model.outages.push(outage);
  });
  (raw.routes ?? []).forEach((r, i) => {
    const route = checkRoute(r, [...base, 'routes', i], issues);
    if (route !== null) model.routes.push(route);
  });
  return model;
}

function checkRoute(raw: RawRoute, path: Path, issues: ScenarioIssues): WorkerRoute | null {
  let ok = true;
  if (raw.prefix == null && raw.target == null) {
    issues.report('route-invalid', path, 'a route needs a prefix (such as /slow) or a target (a service name), or both', 'key');
    ok = false;
  }
  if (raw.prefix != null && !raw.prefix.startsWith('/')) {
    issues.report('route-invalid', [...path, 'prefix'], `prefix \`${raw.prefix}\` is not valid: a URL prefix starts with /`);
    ok = false;
  }
  if (raw.target != null && !isValidTarget(raw.target)) {
    issues.report('target-name-invalid', [...path, 'target'], `target \`${raw.target}\` is not \`service\` or \`version.service\``);
    ok = false;
  }
  const behaviour = checkBehaviour(raw, path, issues);
  if (behaviour === null || !ok) return null;
  const route: WorkerRoute = { ...behaviour };
  if (raw.prefix != null) route.prefix = raw.prefix;
  if (raw.target != null) route.target = raw.target;
  return route;
}

/** The behaviour keys shared by `worker` and its routes: only those given; null on any error. */
function checkBehaviour(raw: Behaviour, base: Path, issues: ScenarioIssues): Partial<WorkerModel> | null {
  const out: Partial<WorkerModel> = {};
  let ok = true;
  const keep = <K extends 'errorRate' | 'errorStatus' | 'timeoutRate'>(key: K, value: number | undefined) => {
    if (value === undefined) ok = false;
    else out[key] = value;
  };
  if (raw.latency !== undefined && raw.latency !== null) {
    const latency = checkLatency(raw.latency, [...base, 'latency'], issues);
    if (latency === null) ok = false;
    else out.latency = latency;
  }
  if (raw.error_rate != null) keep('errorRate', take(issues, 'fraction-invalid', [...base, 'error_rate'], parseFraction(raw.error_rate), raw.error_rate));
  if (raw.error_status != null) keep('errorStatus', take(issues, 'status-invalid', [...base, 'error_status'], parseErrorStatus(raw.error_status), raw.error_status));
  if (raw.timeout_rate != null) keep('timeoutRate', take(issues, 'fraction-invalid', [...base, 'timeout_rate'], parseFraction(raw.timeout_rate), raw.timeout_rate));
  return ok ? out : null;
}

const DISTRIBUTION_KEYS: Readonly<Record<LatencyModel['distribution'], readonly string[]>> = {
  constant: ['value'],
  uniform: ['min', 'max'],
  exponential: ['mean'],
  lognormal: ['p50', 'p99'],
};

function isDistribution(name: string): name is LatencyModel['distribution'] {
  return Object.hasOwn(DISTRIBUTION_KEYS, name);
}

/** `300ms`, or `{ distribution: constant|uniform|exponential|lognormal, ...its parameters }`. */
export function checkLatency(value: unknown, path: Path, issues: ScenarioIssues): LatencyModel | null {
  if (typeof value === 'string') {
    const us = take(issues, 'duration-invalid', path, parseDuration(value), value);
    return us === undefined ? null : { distribution: 'constant', valueUs: us };
  }
  if (!isPlainMap(value)) {
    issues.report('latency-invalid', path, 'latency must be a duration such as 300ms, or a mapping such as { distribution: lognormal, p50: 300ms, p99: 2s }');
    return null;
  }
  const { raw, isRemoved } = checkShape(LatencySchema, value, path, issues);
  const given = Object.keys(raw).filter((k) => k !== 'distribution' && !isRemoved([...path, k]));
  const name = raw.distribution ?? null;
  if (name === null) {
    issues.report('required-key-missing', path, 'a latency mapping needs distribution: constant, uniform, exponential or lognormal', 'key');
    return null;
  }
  if (!isDistribution(name)) {
    issues.report('latency-invalid', [...path, 'distribution'], `distribution \`${name}\` is not valid: expected constant, uniform, exponential or lognormal`);
    return null;
  }
  const wanted = DISTRIBUTION_KEYS[name];
  let ok = true;
  for (const key of given) {
    if (!wanted.includes(key)) {
      issues.report('latency-invalid', [...path, key], `${key} does not apply to the ${name} distribution (it takes ${wanted.join(' and ')})`, 'key');
      ok = false;
    }
  }
  const us: Record<string, number> = {};
  for (const key of wanted) {
    const text = (raw as Record<string, string | null | undefined>)[key];
    if (text == null) {
      issues.report('required-key-missing', path, `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name} latency needs ${wanted.join(' and ')}; ${key} is missing`, 'key');
      ok = false;
      continue;
    }
    const parsed = take(issues, 'duration-invalid', [...path, key], parseDuration(text), text);
    if (parsed === undefined) ok = false;
    else us[key] = parsed;
  }
  if (!ok) return null;
  const at = (key: string) => us[key] as number;
  switch (name) {
    case 'constant':
      return { distribution: 'constant', valueUs: at('value') };
    case 'uniform':
      if (at('max') < at('min')) {
        issues.report('latency-invalid', [...path, 'max'], `max (${raw.max}) is below min (${raw.min})`);
        return null;
      }
      return { distribution: 'uniform', minUs: at('min'), maxUs: at('max') };
    case 'exponential':
      if (at('mean') <= 0) {
        issues.report('latency-invalid', [...path, 'mean'], 'mean must be above zero');
        return null;
      }
      return { distribution: 'exponential', meanUs: at('mean') };
    case 'lognormal':
      if (at('p50') <= 0) {
        issues.report('latency-invalid', [...path, 'p50'], 'p50 must be above zero');
        return null;
      }
      if (at('p99') < at('p50')) {
        issues.report('latency-invalid', [...path, 'p99'], `p99 (${raw.p99}) is below p50 (${raw.p50})`);
        return null;
      }
      return { distribution: 'lognormal', p50Us: at('p50'), p99Us: at('p99') };
    default:
      return assertNever(name, 'latency distribution');
  }
}

const SCALINGS: readonly TargetScaling[] = ['automatic', 'basic', 'manual'];

/** `targets: { batch: { scaling: basic } }`: each key a service; scaling sets the attempt deadline. */
export function checkTargets(raw: Record<string, { scaling?: string | null | undefined } | null | undefined> | null | undefined, issues: ScenarioIssues): Record<string, TargetSettings> {
  const out: Record<string, TargetSettings> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const path: Path = ['targets', name];
    // A bad name does not hide a bad scaling: every issue is reported.
    const nameValid = isValidTarget(name);
    if (!nameValid) issues.report('target-name-invalid', path, `target ${name} is not \`service\` or \`version.service\` (lower-case letters, digits, hyphens)`, 'key');
    const parsed = value == null ? { scaling: null } : TargetSchema.parse(value);
    const scaling = parsed.scaling ?? 'automatic';
    const scalingValid = (SCALINGS as readonly string[]).includes(scaling);
    if (!scalingValid) issues.report('scaling-invalid', [...path, 'scaling'], `scaling \`${scaling}\` is not valid: expected automatic, basic or manual`);
    if (nameValid && scalingValid) out[name] = { scaling: scaling as TargetScaling };
  }
  return out;
}
