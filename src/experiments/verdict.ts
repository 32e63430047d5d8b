/**
 * Figures in words: values for reading (durations in one unit: `18 min`, `4.1 s`) and the plain
 * verdict on a paired difference ("b.yaml drains 18 min sooner than a.yaml, 95% CI 15–21 min").
 * A difference whose 95% interval holds zero is called no clear difference.
 */
import { isSecondsFigure, type FigureName } from './figures.js';
import { holds, type Goal } from './goals.js';
import type { FigureSummary } from './statistics.js';

/** Figures that are the time of an event: earlier and later read as sooner and later. */
const EVENTS: Partial<Record<FigureName, string>> = {
  drained_at_seconds: 'drains',
  last_dispatch_at_seconds: 'dispatches its last task',
  first_dispatch_at_seconds: 'dispatches its first task',
  backlog_max_at_seconds: 'reaches its largest backlog',
};

/** Figures that count things: more and fewer. */
const COUNTS: ReadonlySet<FigureName> = new Set<FigureName>(['tasks_added', 'succeeded', 'failed', 'pending', 'attempts', 'retries', 'backlog_max', 'in_flight_max', 'dispatches_max_in_any_1s']);

const UNITS: readonly { name: string; seconds: number; below: number }[] = [
  { name: 'ms', seconds: 0.001, below: 1 },
  { name: 's', seconds: 1, below: 120 },
  { name: 'min', seconds: 60, below: 7_200 },
  { name: 'h', seconds: 3_600, below: Infinity },
];

/** Whole numbers as they are, others to three significant figures, or to the unit from 100 up (19960.4 is 19960, not 2e4). */
function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (Math.abs(v) >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** The unit a duration of `seconds` reads best in. */
function unitFor(seconds: number): (typeof UNITS)[number] {
  const a = Math.abs(seconds);
  if (a === 0) return UNITS[1] as (typeof UNITS)[number];
  return UNITS.find((u) => a < u.below) as (typeof UNITS)[number];
}

/** A figure's value for reading: durations with a unit, `—` for null. */
export function formatValue(figure: FigureName, v: number | null): string {
  if (v === null) return '—';
  if (!isSecondsFigure(figure)) return formatNumber(v);
  const unit = unitFor(v);
  return `${formatNumber(v / unit.seconds)} ${unit.name}`;
}

/** The most digits a value judged against a goal is given (a double's 17). */
const DIGITS_MAX = 17;

/**
 * A figure's value judged against `goal`, in the goal's unit (every value compared with one goal
 * reads in one unit: `119.6 s` and `121.2 s` against `<= 2m` are `1.99 min` and `2.02 min`, not
 * `120 s` next to `2.02 min`), with more digits where the rounding would read on the other side
 * of the goal than the value is: 100.496 s reads `100 s`, which meets `<= 100s`, a goal the value
 * misses, so it is `100.5 s`. The number shown meets the goal exactly when the value does (a
 * value equal to the goal's reads as it).
 */
export function formatValueAgainst(goal: Pick<Goal, 'figure' | 'op' | 'value'>, v: number | null): string {
  if (v === null) return formatValue(goal.figure, v);
  const met = holds(v, goal.op, goal.value);
  const unit = isSecondsFigure(goal.figure) ? unitFor(goal.value) : null;
  const plain = unit === null ? formatNumber(v) : `${formatNumber(v / unit.seconds)} ${unit.name}`;
  const n = unit === null ? v : v / unit.seconds;
  const whole = n === 0 ? 1 : Math.max(1, Math.floor(Math.log10(Math.abs(n))) + 1);
  for (let digits = 0; digits <= DIGITS_MAX; digits++) {
    const text = digits === 0 ? formatNumber(n) : String(Number(n.toPrecision(Math.min(100, Math.max(3, whole) + digits))));
    if (readsAs(Number(text) * (unit?.seconds ?? 1), goal.op, goal.value) === met) return unit === null ? text : `${text} ${unit.name}`;
  }
  return plain;
}

/** Whether a number as shown holds against `target`: equal when they differ only by the unit's binary noise (100 × 0.001 s). */
function readsAs(shown: number, op: Goal['op'], target: number): boolean {
  const equal = Math.abs(shown - target) <= 1e-12 * Math.max(1, Math.abs(target));
  return equal ? op === '<=' || op === '>=' || op === '==' : holds(shown, op, target);
}

/** Several values of one figure in one unit (the first's): `15–21 min`. */
function inOneUnit(figure: FigureName, reference: number, values: readonly number[], separator: string): string {
  if (!isSecondsFigure(figure)) return values.map(formatNumber).join(separator);
  const unit = unitFor(reference);
  return `${values.map((v) => formatNumber(v / unit.seconds)).join(separator)} ${unit.name}`;
}

/**
 * `values` and `baseValues`: the figure in the variant's and the base's runs, seed by seed; `d`:
 * their paired differences summarised. Runs that agree on every seed are the same, null on the
 * same seeds included (a queue neither drains, or that has no backlog on some seed in both).
 */
export function verdict(figure: FigureName, label: string, base: string, d: FigureSummary, values: readonly (number | null)[], baseValues: readonly (number | null)[]): string {
  if (values.every((v, s) => v === baseValues[s])) return `${label}: the same as ${base} on every seed`;
  if (d.mean === null) return `${label}: not comparable with ${base} (${figure} is null in some run: ${whereNull(figure, label, base, values, baseValues)})`;
  const mean = d.mean;
  const amount = inOneUnit(figure, mean, [Math.abs(mean)], '');
  const change = phrase(figure, label, mean, amount, base);
  if (d.ci95_low === null || d.ci95_high === null) return `${change} on the one seed (no interval from one seed)`;
  if (d.ci95_low <= 0 && d.ci95_high >= 0) {
    return `${label}: no clear difference from ${base} in ${figure} (mean ${mean > 0 ? '+' : ''}${inOneUnit(figure, mean, [mean], '')}, 95% CI ${inOneUnit(figure, mean, [d.ci95_low, d.ci95_high], ' to ')})`;
  }
  const [near, far] = [Math.abs(d.ci95_low), Math.abs(d.ci95_high)].sort((a, b) => a - b) as [number, number];
  return `${change}, 95% CI ${inOneUnit(figure, mean, [near, far], '–')}`;
}

/**
 * Which file's runs have no value, and on how many seeds: the question a user asked ("which
 * drains sooner?") is answered by one draining where the other does not.
 */
function whereNull(figure: FigureName, label: string, base: string, values: readonly (number | null)[], baseValues: readonly (number | null)[]): string {
  const on = (vs: readonly (number | null)[]) => {
    const k = vs.filter((v) => v === null).length;
    return k === 0 ? 'none' : `${k} of ${vs.length} seeds`;
  };
  const what = figure === 'drained_at_seconds' ? 'the queue has not drained by the end of the run' : 'no value';
  return `${what} in ${label} on ${on(values)}, in ${base} on ${on(baseValues)}`;
}

function phrase(figure: FigureName, label: string, mean: number, amount: string, base: string): string {
  const event = EVENTS[figure];
  if (event !== undefined) return `${label} ${event} ${amount} ${mean < 0 ? 'sooner' : 'later'} than ${base}`;
  if (isSecondsFigure(figure)) return `${label}: ${figure} ${amount} ${mean < 0 ? 'shorter' : 'longer'} than ${base}`;
  if (COUNTS.has(figure)) return `${label}: ${figure} ${amount} ${mean < 0 ? 'fewer' : 'more'} than ${base}`;
  return `${label}: ${figure} ${amount} ${mean < 0 ? 'lower' : 'higher'} than ${base}`;
}
