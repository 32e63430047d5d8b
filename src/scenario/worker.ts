/**
 * The value rules of `worker` (the modelled worker service) and `targets`. Every duration becomes
 * integer microseconds here; the result is the `WorkerModel` of src/dispatch/worker-model.ts. The
 * rules between values (a latency's parameters, an outage's ends, a route's keys) are the ones a
 * model given to the library follows, written once in src/simulate/worker-rules.ts; here they
 * name the scenario's keys and the text given.
 */
import { isValidTarget } from '../config/names.js';
import type { Path } from '../config/paths.js';
import type { TargetScaling, TargetSettings } from '../core/events.js';
import { DEFAULT_WORKER, type LatencyModel, type Outage, type WorkerModel, type WorkerRoute } from '../dispatch/worker-model.js';
import {
  DISTRIBUTION_MISSING,
  distributionProblem,
  isDistribution,
  LATENCY_PARAMETERS,
  latencyModelOf,
  latencyProblem,
  outageProblem,
  parameterMissing,
  parameterNotApplicable,
  routeProblems,
  type ValueNames,
} from '../simulate/worker-rules.js';
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
    const problem = outageProblem({ fromUs, toUs }, textNames(o));
    if (problem !== null) {
      issues.report('outage-invalid', [...path, 'to'], problem.reason);
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

/** Names for a scenario's values: the key, and the text given. */
function textNames(raw: object): ValueNames {
  return { key: (k) => k, value: (k) => String((raw as Record<string, unknown>)[k]) };
}

function checkRoute(raw: RawRoute, path: Path, issues: ScenarioIssues): WorkerRoute | null {
  const problems = routeProblems({ prefix: raw.prefix ?? undefined, target: raw.target ?? undefined }, textNames(raw));
  for (const p of problems) {
    if (p.param === undefined) issues.report('route-invalid', path, p.reason, 'key');
    else issues.report(p.param === 'target' ? 'target-name-invalid' : 'route-invalid', [...path, p.param], p.reason);
  }
  const ok = problems.length === 0;
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
    issues.report('required-key-missing', path, DISTRIBUTION_MISSING, 'key');
    return null;
  }
  if (!isDistribution(name)) {
    issues.report('latency-invalid', [...path, 'distribution'], distributionProblem(name));
    return null;
  }
  const wanted = LATENCY_PARAMETERS[name];
  const names = textNames(raw);
  let ok = true;
  for (const key of given) {
    if (!wanted.includes(key)) {
      issues.report('latency-invalid', [...path, key], parameterNotApplicable(name, key, names), 'key');
      ok = false;
    }
  }
  const us: Record<string, number> = {};
  for (const key of wanted) {
    const text = (raw as Record<string, string | null | undefined>)[key];
    if (text == null) {
      issues.report('required-key-missing', path, parameterMissing(name, key, names), 'key');
      ok = false;
      continue;
    }
    const parsed = take(issues, 'duration-invalid', [...path, key], parseDuration(text), text);
    if (parsed === undefined) ok = false;
    else us[key] = parsed;
  }
  if (!ok) return null;
  const model = latencyModelOf(name, (param) => us[param] as number);
  const problem = latencyProblem(model, names);
  if (problem !== null) {
    issues.report('latency-invalid', [...path, problem.param as string], problem.reason);
    return null;
  }
  return model;
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
