/**
 * The rules a modelled worker's values follow, each written once, and the check of a model given
 * to the library. Two readers apply the rules:
 * - the scenario file's parser (src/scenario/worker.ts): text such as `300ms`, named by its key
 *   (`max`), reported as issues with file:line:column;
 * - `checkWorkerModel`, for a `WorkerModel` given to the library (createSimulation's `worker`, a
 *   hand-built Scenario's, pushq/testing's): numbers in µs, named by their field (`maxUs`); the
 *   first problem is thrown as a WorkerModelError, before anything runs.
 * A rule says what is wrong; its reader says where, with `ValueNames`. A model that passes never
 * stalls a run: every attempt gets a latency, a whole number of µs ≥ 0 (a missing or NaN one
 * never ends the attempt).
 */
import { firstUnknownKey, isPlainObject as isObject, showValue as show, type Fields } from '../config/object-fields.js';
import { isValidTarget } from '../config/names.js';
import { DEFAULT_WORKER, type LatencyModel, type Outage, type WorkerModel, type WorkerRoute } from '../dispatch/worker-model.js';

// ---- the rules --------------------------------------------------------------------------------

export type Distribution = LatencyModel['distribution'];

/** Each distribution's parameters, by their scenario key; a model's field is the key and `Us` (`p50` → `p50Us`). */
export const LATENCY_PARAMETERS: Readonly<Record<Distribution, readonly string[]>> = {
  constant: ['value'],
  uniform: ['min', 'max'],
  exponential: ['mean'],
  lognormal: ['p50', 'p99'],
};

export const DISTRIBUTIONS_TEXT = 'constant, uniform, exponential or lognormal';

export function isDistribution(name: unknown): name is Distribution {
  return typeof name === 'string' && Object.hasOwn(LATENCY_PARAMETERS, name);
}

/** A parameter's field in a model: `p50` → `p50Us`. */
function fieldOf(param: string): string {
  return `${param}Us`;
}

/** The latency model of `distribution` with each parameter's µs. */
export function latencyModelOf(distribution: Distribution, us: (param: string) => number): LatencyModel {
  const model: Record<string, unknown> = { distribution };
  for (const param of LATENCY_PARAMETERS[distribution]) model[fieldOf(param)] = us(param);
  return model as unknown as LatencyModel;
}

/** How a reader names a parameter (`max` or `maxUs`) and shows the value it was given (`1s` or `1000000 µs`). */
export interface ValueNames {
  key(param: string): string;
  value(param: string): string;
}

/** A rule broken: the parameter at fault (a scenario key), or none for the whole value, and why. */
export interface Problem {
  param?: string;
  reason: string;
}

export function distributionProblem(name: string): string {
  return `distribution \`${name}\` is not valid: expected ${DISTRIBUTIONS_TEXT}`;
}

export const DISTRIBUTION_MISSING = `a latency mapping needs distribution: ${DISTRIBUTIONS_TEXT}`;

export function parameterNotApplicable(distribution: Distribution, given: string, names: ValueNames): string {
  return `${given} does not apply to the ${distribution} distribution (it takes ${LATENCY_PARAMETERS[distribution].map((p) => names.key(p)).join(' and ')})`;
}

export function parameterMissing(distribution: Distribution, param: string, names: ValueNames): string {
  const wanted = LATENCY_PARAMETERS[distribution].map((p) => names.key(p)).join(' and ');
  return `${/^[aeiou]/.test(distribution) ? 'an' : 'a'} ${distribution} latency needs ${wanted}; ${names.key(param)} is missing`;
}

/** The rule between a latency's parameters, once each is a duration: a spread that is not one, a mean or median of 0. */
export function latencyProblem(model: LatencyModel, names: ValueNames): Problem | null {
  switch (model.distribution) {
    case 'constant':
      return null;
    case 'uniform':
      return model.maxUs < model.minUs ? { param: 'max', reason: `${names.key('max')} (${names.value('max')}) is below ${names.key('min')} (${names.value('min')})` } : null;
    case 'exponential':
      return model.meanUs <= 0 ? { param: 'mean', reason: `${names.key('mean')} must be above zero` } : null;
    case 'lognormal':
      if (model.p50Us <= 0) return { param: 'p50', reason: `${names.key('p50')} must be above zero` };
      return model.p99Us < model.p50Us ? { param: 'p99', reason: `${names.key('p99')} (${names.value('p99')}) is below ${names.key('p50')} (${names.value('p50')})` } : null;
  }
}

/** A fraction of attempts (error_rate, timeout_rate). */
export function fractionProblem(value: number): string | null {
  return value >= 0 && value <= 1 ? null : 'expected a number from 0 to 1, such as 0.05';
}

/** An HTTP status that App Engine counts as a failure: 100–599, not 2xx. */
export function errorStatusProblem(value: number): string | null {
  if (!(Number.isInteger(value) && value >= 100 && value <= 599)) return 'expected an HTTP status from 100 to 599';
  if (value >= 200 && value <= 299) return 'a 2xx status is a success, not an error';
  return null;
}

export function outageProblem(outage: Pick<Outage, 'fromUs' | 'toUs'>, names: ValueNames): Problem | null {
  return outage.toUs <= outage.fromUs ? { param: 'to', reason: `the outage ends (${names.value('to')}) before or when it starts (${names.value('from')})` } : null;
}

/** Every rule a route's matching keys break (a route matches by prefix, target or both). */
export function routeProblems(route: { prefix?: string | undefined; target?: string | undefined }, names: ValueNames): Problem[] {
  const problems: Problem[] = [];
  if (route.prefix === undefined && route.target === undefined) problems.push({ reason: 'a route needs a prefix (such as /slow) or a target (a service name), or both' });
  if (route.prefix !== undefined && !route.prefix.startsWith('/')) problems.push({ param: 'prefix', reason: `prefix \`${names.value('prefix')}\` is not valid: a URL prefix starts with /` });
  if (route.target !== undefined && !isValidTarget(route.target)) problems.push({ param: 'target', reason: `target \`${names.value('target')}\` is not \`service\` or \`version.service\`` });
  return problems;
}

// ---- a model given to the library -------------------------------------------------------------

/** A worker model the library was given that breaks a rule: `field` names the value (`worker.latency.valueUs`). */
export class WorkerModelError extends RangeError {
  readonly code = 'WORKER_MODEL_INVALID';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'WorkerModelError';
  }
}

const BEHAVIOUR_KEYS = ['latency', 'errorRate', 'errorStatus', 'timeoutRate'] as const;
const MODEL_KEYS = [...BEHAVIOUR_KEYS, 'outages', 'routes'] as const;
const OUTAGE_KEYS = ['fromUs', 'toUs', 'status'] as const;
const ROUTE_KEYS = ['prefix', 'target', ...BEHAVIOUR_KEYS] as const;

/** The keys of `value` not in `known` refused, with the closest one suggested. */
function onlyKeys(value: Fields, known: readonly string[], field: string, what: string): void {
  const unknown = firstUnknownKey(value, known);
  if (unknown !== null) throw new WorkerModelError(`${field}.${unknown.key}`, `not a key of ${what}${unknown.near === null ? '' : `; did you mean ${unknown.near}?`} (${what} takes ${known.join(', ')})`);
}

/** A model's duration: a whole number of µs, 0 or more. */
function durationUs(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new WorkerModelError(field, `expected a whole number of microseconds, 0 or more; got ${show(value)}`);
}

function number(value: unknown, field: string, problem: (n: number) => string | null): number {
  const reason = typeof value === 'number' ? problem(value) : `expected a number; got ${show(value)}`;
  if (reason !== null) throw new WorkerModelError(field, reason);
  return value as number;
}

/** Names for a model's values: the field (`maxUs`) and its number in µs. */
function modelNames(value: Fields): ValueNames {
  return { key: fieldOf, value: (p) => `${show(value[fieldOf(p)])} µs` };
}

function checkLatency(value: unknown, field: string): LatencyModel {
  if (!isObject(value)) throw new WorkerModelError(field, `expected a latency model such as { distribution: 'constant', valueUs: 100000 }; got ${show(value)}`);
  const distribution = value['distribution'];
  if (distribution === undefined) throw new WorkerModelError(`${field}.distribution`, DISTRIBUTION_MISSING);
  if (!isDistribution(distribution)) throw new WorkerModelError(`${field}.distribution`, distributionProblem(String(distribution)));
  const names = modelNames(value);
  const fields = LATENCY_PARAMETERS[distribution].map((p) => names.key(p));
  for (const key of Object.keys(value)) {
    if (key !== 'distribution' && !fields.includes(key)) throw new WorkerModelError(`${field}.${key}`, parameterNotApplicable(distribution, key, names));
  }
  const model = latencyModelOf(distribution, (param) => {
    const key = names.key(param);
    if (value[key] === undefined) throw new WorkerModelError(`${field}.${key}`, parameterMissing(distribution, param, names));
    return durationUs(value[key], `${field}.${key}`);
  });
  const problem = latencyProblem(model, names);
  if (problem !== null) throw new WorkerModelError(`${field}.${names.key(problem.param as string)}`, problem.reason);
  return model;
}

/** The behaviour keys a model and its routes share: those given. */
function checkBehaviour(value: Fields, field: string): Partial<WorkerModel> {
  const out: Partial<WorkerModel> = {};
  if (value['latency'] !== undefined) out.latency = checkLatency(value['latency'], `${field}.latency`);
  if (value['errorRate'] !== undefined) out.errorRate = number(value['errorRate'], `${field}.errorRate`, fractionProblem);
  if (value['errorStatus'] !== undefined) out.errorStatus = number(value['errorStatus'], `${field}.errorStatus`, errorStatusProblem);
  if (value['timeoutRate'] !== undefined) out.timeoutRate = number(value['timeoutRate'], `${field}.timeoutRate`, fractionProblem);
  return out;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new WorkerModelError(field, `expected an array; got ${show(value)}`);
  return value;
}

function checkOutage(value: unknown, field: string): Outage {
  if (!isObject(value)) throw new WorkerModelError(field, `expected an outage such as { fromUs: 0, toUs: 60000000, status: 503 }; got ${show(value)}`);
  onlyKeys(value, OUTAGE_KEYS, field, 'an outage');
  const fromUs = durationUs(value['fromUs'], `${field}.fromUs`);
  const toUs = durationUs(value['toUs'], `${field}.toUs`);
  const status = value['status'] == null ? null : number(value['status'], `${field}.status`, errorStatusProblem);
  const problem = outageProblem({ fromUs, toUs }, modelNames(value));
  if (problem !== null) throw new WorkerModelError(`${field}.toUs`, problem.reason);
  return { fromUs, toUs, status };
}

function checkRoute(value: unknown, field: string): WorkerRoute {
  if (!isObject(value)) throw new WorkerModelError(field, `expected a route such as { prefix: '/slow', errorRate: 0.5 }; got ${show(value)}`);
  onlyKeys(value, ROUTE_KEYS, field, 'a route');
  for (const key of ['prefix', 'target'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') throw new WorkerModelError(`${field}.${key}`, `expected a string; got ${show(value[key])}`);
  }
  const prefix = value['prefix'] as string | undefined;
  const target = value['target'] as string | undefined;
  const [problem] = routeProblems({ prefix, target }, { key: (p) => p, value: (p) => String(value[p]) });
  if (problem !== undefined) throw new WorkerModelError(problem.param === undefined ? field : `${field}.${problem.param}`, problem.reason);
  const route: WorkerRoute = checkBehaviour(value, field);
  if (prefix !== undefined) route.prefix = prefix;
  if (target !== undefined) route.target = target;
  return route;
}

/**
 * A worker model given to the library, checked whole; the model the run uses (DEFAULT_WORKER's
 * value for each key left out). Throws WorkerModelError naming the first value at fault.
 */
export function checkWorkerModel(value: unknown, field = 'worker'): WorkerModel {
  if (value === undefined) return { ...DEFAULT_WORKER };
  if (!isObject(value)) throw new WorkerModelError(field, `expected a worker model (such as { latency: { distribution: 'constant', valueUs: 100000 }, errorRate: 0.05 }) or a worker function; got ${show(value)}`);
  onlyKeys(value, MODEL_KEYS, field, 'a worker model');
  return {
    ...DEFAULT_WORKER,
    ...checkBehaviour(value, field),
    outages: list(value['outages'], `${field}.outages`).map((o, i) => checkOutage(o, `${field}.outages[${i}]`)),
    routes: list(value['routes'], `${field}.routes`).map((r, i) => checkRoute(r, `${field}.routes[${i}]`)),
  };
}
