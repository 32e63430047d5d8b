/**
 * What `tune` knows before it runs anything: which goals move one way only as a key rises (so a
 * bisection finds the least setting that meets them), and the analytic first guess of the
 * setting, from the same first-order arithmetic as the figures' `bound` (insight.ts):
 *
 *   N tasks at once, bucket B, rate r: the last dispatch is at (N − B) / r;
 *   cap c, mean latency L: about ⌈N / c⌉ rounds of L, the last dispatch one round before the end;
 *   and the queue drains one latency after its last dispatch.
 *
 * A guess only places the first probe; the runs decide.
 */
import type { LatencyModel } from '../dispatch/worker-model.js';
import type { Scenario } from '../scenario/types.js';
import type { FigureName } from './figures.js';
import type { Goal } from './goals.js';
import type { VaryKey, VaryRange } from './vary.js';

/** Keys that let a queue dispatch sooner as they rise. */
const SPEEDS_UP: ReadonlySet<VaryKey> = new Set<VaryKey>(['rate', 'bucket_size', 'max_concurrent_requests']);

/**
 * Figures that fall as the queue dispatches sooner (same arrivals, same outcomes: common random
 * numbers). "Fall" is a first-order law, true of the figures' expected values but not always of
 * one run: a token spent earlier is missing later, so one run's figure can move a little the other
 * way (found by a fast-check search: 3 tasks at 1/s, bucket 1 → 2, error rate 0.6, last dispatch
 * 8.0 s → 8.14 s). A bisection can then answer a step or so above the least. Outages break the law
 * outright: whether an attempt meets one depends on when it runs, so a queue that dispatches
 * sooner can send more attempts into it and drain later (measured: drain times over rates
 * 4..11/s of 1982, 1655, 1996, 1960, 1428, 1421, 1624, 1893 s). With outages, tune.ts runs every
 * setting below the bisection's answer too.
 */
const FALL_AS_IT_SPEEDS_UP: ReadonlySet<FigureName> = new Set<FigureName>([
  'last_dispatch_at_seconds', 'drained_at_seconds', 'backlog_max', 'pending',
  'wait_seconds.p50', 'wait_seconds.p90', 'wait_seconds.p99', 'wait_seconds.max', 'wait_seconds.mean',
  'completion_seconds.p50', 'completion_seconds.p99', 'completion_seconds.max',
]);

/** Figures that can only rise as it does. */
const RISE_AS_IT_SPEEDS_UP: ReadonlySet<FigureName> = new Set<FigureName>(['dispatch_rate_mean_per_second', 'dispatches_max_in_any_1s', 'in_flight_max', 'bound.throughput_per_second']);

/**
 * Whether meeting `goal` goes from no to yes as `range` rises (first order, and without outages:
 * see FALL_AS_IT_SPEEDS_UP): then the settings that meet it are an upper part of the range, and
 * a bisection finds its least. A goal on another queue is not moved by this queue's settings at
 * all (its arrivals and outcomes are its own streams).
 */
export function metRisesWith(goal: Goal, range: VaryRange): boolean {
  if (!movedBy(goal, range)) return true;
  if (!SPEEDS_UP.has(range.key)) return false;
  if (goal.op === '<' || goal.op === '<=') return FALL_AS_IT_SPEEDS_UP.has(goal.figure);
  if (goal.op === '>' || goal.op === '>=') return RISE_AS_IT_SPEEDS_UP.has(goal.figure);
  return false;
}

/** Whether `range`'s queue can move `goal`'s figure: a goal on that queue, or on all queues. */
export function movedBy(goal: Goal, range: VaryRange): boolean {
  return goal.queue === null || goal.queue === range.queue;
}

/** Whether the scenario's worker has outages (time windows in which it answers otherwise): then no figure is known to move one way. */
export function hasOutages(scenario: Scenario): boolean {
  return scenario.worker.outages.length > 0;
}

/** The mean of a latency model, seconds. */
function meanLatencySeconds(model: LatencyModel): number {
  switch (model.distribution) {
    case 'constant': return model.valueUs / 1e6;
    case 'uniform': return (model.minUs + model.maxUs) / 2e6;
    case 'exponential': return model.meanUs / 1e6;
    case 'lognormal': {
      const mu = Math.log(model.p50Us);
      const sigma = (Math.log(model.p99Us) - mu) / 2.3263478740408408;
      return Math.exp(mu + (sigma * sigma) / 2) / 1e6;
    }
  }
}

/** Tasks the scenario's workloads add to `queue`. */
export function tasksFor(scenario: Scenario, queue: string): number {
  return scenario.workload.filter((w) => w.queue === queue).reduce((n, w) => n + w.count, 0);
}

/**
 * The analytic first guess of `range`'s setting (in its unit), or null when no goal gives one:
 * the strictest of the guesses of the goals on the queue's last dispatch or drain time.
 */
export function firstGuess(scenario: Scenario, range: VaryRange, goals: readonly Goal[]): number | null {
  const q = scenario.config.queues.find((c) => c.name === range.queue);
  if (q === undefined || !SPEEDS_UP.has(range.key)) return null;
  const n = tasksFor(scenario, range.queue);
  const latency = meanLatencySeconds(scenario.worker.latency);
  let guess: number | null = null;
  for (const goal of goals) {
    if (goal.queue !== null && goal.queue !== range.queue) continue;
    if (goal.op !== '<' && goal.op !== '<=') continue;
    if (goal.figure !== 'last_dispatch_at_seconds' && goal.figure !== 'drained_at_seconds') continue;
    const t = goal.figure === 'drained_at_seconds' ? goal.value - latency : goal.value;
    if (!(t > 0)) continue;
    let g: number | null = null;
    const bucket = q.bucket_size ?? 0;
    const rate = q.rate_per_second ?? 0;
    if (range.key === 'rate') g = Math.max(0, n - bucket) / t;
    else if (range.key === 'bucket_size') g = Math.max(0, n - rate * t);
    else if (latency > 0) g = goal.figure === 'drained_at_seconds' ? (n * latency) / (t + latency) : n / (t / latency + 1);
    if (g !== null && (guess === null || g > guess)) guess = g;
  }
  return guess;
}

/** The index of the least setting at or above `value` (clamped to the range). */
export function indexAtOrAbove(range: VaryRange, value: number): number {
  let lo = 0;
  let hi = range.count - 1;
  if (range.value(hi) < value) return hi;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (range.value(mid) >= value - 1e-12 * Math.max(1, Math.abs(value))) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
