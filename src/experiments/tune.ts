/**
 * `pushq tune SCENARIO --vary QUEUE.KEY=LOW..HIGH[:STEP] ... --goal 'FIGURE OP VALUE' ...`: the
 * least setting that meets every goal, on every seed (or on the mean over the seeds).
 *
 * Search. With one key, and every goal one whose meeting goes from no to yes as the key rises
 * (to first order, and not with outages: tune-model.ts), a bisection: the first probe at the
 * analytic first guess, then its neighbour below (or above), which brackets the answer at once
 * when the guess is right; else steps of 2, 4, 8, … away from the guess until the answer is
 * bracketed, then halving. Its answer meets every goal and the step below misses one; where one
 * run's figure moves a little against the law, a lower setting can meet too. When the worker has
 * outages the law does not hold at all, so every setting below the bisection's answer is run as
 * well (all at once) and the least that meets every goal is the answer: exact, for the settings
 * up to the answer instead of the whole range. Otherwise a bounded grid: every setting (every
 * combination of several keys, at most GRID_SETTINGS_MAX), all run at once; the least is the
 * first in the order of the `vary` ranges (the first key counts most).
 *
 * Every setting runs on the same seeds, and common random numbers (src/engine/streams.ts) give
 * each the same arrivals and attempt outcomes: settings differ by their configuration, not by luck.
 */
import type { Scenario } from '../scenario/types.js';
import type { RunReport } from '../simulate/run-report.js';
import { ExperimentArgumentError } from './errors.js';
import { figureValue, summariseFigure } from './figures.js';
import { judge, parseGoal, shortfall, slack, type Goal, type GoalOn, type GoalVerdict } from './goals.js';
import type { RunPool } from './pool.js';
import { experimentJobs, experimentSeeds, runAll, withPool, type ExperimentOptions } from './run-seeds.js';
import type { FigureSummary } from './statistics.js';
import { firstGuess, hasOutages, indexAtOrAbove, metRisesWith, movedBy, tasksFor } from './tune-model.js';
import { configProblem, parseVary, variedConfig, type VaryKey, type VaryRange } from './vary.js';

/** The most settings a grid search runs. */
export const GRID_SETTINGS_MAX = 400;

export interface TuneOptions extends ExperimentOptions {
  /** `QUEUE.KEY=LOW..HIGH[:STEP]`, one or more. */
  vary: readonly string[];
  /** `FIGURE OP VALUE`, one or more. */
  goals: readonly string[];
  /** Judge the goals on every seed (default) or on the mean over the seeds. */
  on?: GoalOn;
  /**
   * `auto` (default): bisection where it applies (then every setting below its answer too, when
   * the worker has outages), else a grid; or force a plain bisection or a grid.
   */
  search?: 'auto' | 'bisection' | 'grid';
}

/** How the settings were chosen: see the module comment. */
export type TuneSearch = 'bisection' | 'bisection_then_scan' | 'grid';

export interface TuneEvaluation {
  /** `QUEUE.KEY` → value (per second for a rate, seconds for a duration). */
  setting: Record<string, number>;
  /** `QUEUE.FIGURE` → summary over the seeds, for each goal's figure (every queue for `all.`). */
  figures: Record<string, FigureSummary>;
  met: boolean;
  goals: GoalVerdict[];
}

export interface TuneRuns {
  setting: Record<string, number>;
  runs: RunReport[];
}

export interface TuneResult {
  /** The least setting that meets every goal; null when none in range does. */
  answer: Record<string, number> | null;
  /** The goal that decides the answer: missed one step below it (or, at the range's low end, the one with the least room); without an answer, one the best setting misses. */
  binding_goal: string | null;
  /** Every setting run, in the order run. */
  evaluations: TuneEvaluation[];
  search: TuneSearch;
  /** The analytic first guess where a bisection started; null without one (a grid, or no goal that gives one: the bisection then starts mid-range). */
  first_guess: Record<string, number> | null;
  on: GoalOn;
  seeds: number[];
  /** Runs in all: settings × seeds. */
  runs: number;
  at_answer: TuneRuns | null;
  /** The runs one step below the answer (the first key one step lower), when there is such a step. */
  below_answer: TuneRuns | null;
  /** Without an answer: the setting that came closest (most goals met, then the least shortfall). */
  best: TuneEvaluation | null;
}

interface Plan {
  scenario: Scenario;
  ranges: VaryRange[];
  goals: Goal[];
  seeds: number[];
  on: GoalOn;
  search: TuneSearch;
}

/** The keys dev-server mode's dispatch never reads (S39). */
const DEV_SERVER_IGNORES: ReadonlySet<VaryKey> = new Set(['rate', 'bucket_size', 'max_concurrent_requests']);

/** Every check before anything runs: ExperimentArgumentError names the argument at fault. */
function plan(scenario: Scenario, options: TuneOptions): Plan {
  const seeds = experimentSeeds(options, scenario);
  experimentJobs(options.jobs);
  if (options.vary.length === 0) throw new ExperimentArgumentError('vary', [], 'give at least one: QUEUE.KEY=LOW..HIGH[:STEP]');
  if (options.goals.length === 0) throw new ExperimentArgumentError('goals', [], "give at least one: 'FIGURE OP VALUE'");
  // Several ranges are checked together, every combination (below): one's end may need another's.
  const ranges = options.vary.map((text) => parseVary(text, scenario.config, options.vary.length === 1));
  const names = new Set<string>();
  for (const r of ranges) {
    const id = `${r.queue}.${r.key}`;
    if (names.has(id)) throw new ExperimentArgumentError('vary', [r.text], `${id} is varied twice`);
    names.add(id);
    // Dev-server mode never reads these (core/dev-server.ts): every setting would run alike, and the
    // least would be "the answer", however far from what production needs.
    if (scenario.devServer && DEV_SERVER_IGNORES.has(r.key)) {
      throw new ExperimentArgumentError('vary', [r.text], `${id}: the scenario runs dev_appserver's rules (dev_server: true), which never read rate, bucket_size or max_concurrent_requests, so every setting would run alike; tune it without dev_server, or vary a retry parameter`);
    }
  }
  const queues = scenario.config.queues.map((q) => q.name).filter((name) => tasksFor(scenario, name) > 0);
  const goals = options.goals.map((text) => parseGoal(text, 'goals', queues));
  const monotone = ranges.length === 1 && goals.every((g) => metRisesWith(g, ranges[0] as VaryRange));
  const wanted = options.search ?? 'auto';
  if (wanted === 'bisection' && !monotone) {
    throw new ExperimentArgumentError('search', ['bisection'], ranges.length > 1 ? 'a bisection varies one key; several take a grid' : 'a goal here is not known to be met only above some setting; use a grid');
  }
  // Outages break the law only for goals the varied queue moves: its own, or all queues'.
  const moved = ranges.length === 1 && goals.some((g) => movedBy(g, ranges[0] as VaryRange));
  const search: TuneSearch = wanted === 'grid' || !monotone ? 'grid' : wanted === 'auto' && hasOutages(scenario) && moved ? 'bisection_then_scan' : 'bisection';
  if (search === 'bisection_then_scan' && (ranges[0] as VaryRange).count > GRID_SETTINGS_MAX) {
    const r = ranges[0] as VaryRange;
    throw new ExperimentArgumentError('vary', [r.text], [
      `${r.count.toLocaleString('en')} settings; the worker has outages, so every setting below the bisection's answer runs too, at most ${GRID_SETTINGS_MAX}: give a larger STEP or a narrower range (or `,
      { option: 'search', values: ['bisection'] },
      ', which may not find the least)',
    ]);
  }
  if (search === 'grid') {
    const settings = ranges.reduce((n, r) => n * r.count, 1);
    if (settings > GRID_SETTINGS_MAX) {
      throw new ExperimentArgumentError('vary', ranges.map((r) => r.text), `a grid of ${settings.toLocaleString('en')} settings; a grid search runs at most ${GRID_SETTINGS_MAX}: give a larger STEP or a narrower range`);
    }
    if (ranges.length > 1) {
      for (const combination of gridOrder(ranges)) {
        const problem = configProblem(variedConfig(scenario.config, combination.map((i, k) => [ranges[k] as VaryRange, i] as const)));
        if (problem !== null) throw new ExperimentArgumentError('vary', ranges.map((r) => r.text), `${settingText(ranges, combination)}: ${problem}`);
      }
    }
  }
  return { scenario, ranges, goals, seeds, on: options.on ?? 'every', search };
}

/** Finds the least setting that meets every goal; see the module comment. The pool is closed on return. */
export async function tune(scenario: Scenario, options: TuneOptions): Promise<TuneResult> {
  const p = plan(scenario, options);
  const evaluations: TuneEvaluation[] = [];
  const runsOf = new Map<string, RunReport[]>();
  const progress = { onRun: options.onRun, done: 0, total: 0 };

  const evaluateAll = async (pool: RunPool, settings: readonly number[][]): Promise<TuneEvaluation[]> => {
    const fresh = settings.filter((s, i) => !runsOf.has(s.join(',')) && settings.findIndex((t) => t.join(',') === s.join(',')) === i);
    progress.total += fresh.length * p.seeds.length;
    const jobs = fresh.flatMap((s) => {
      const config = variedConfig(p.scenario.config, s.map((i, k) => [p.ranges[k] as VaryRange, i] as const));
      const setting = settingText(p.ranges, s);
      return p.seeds.map((seed) => ({ scenario: { ...p.scenario, config }, seed, file: p.scenario.file, setting }));
    });
    const outcomes = await runAll(pool, jobs, progress);
    fresh.forEach((s, i) => {
      const runs = outcomes.slice(i * p.seeds.length, (i + 1) * p.seeds.length).map((o) => o.report);
      runsOf.set(s.join(','), runs);
      evaluations.push(evaluation(p, s, runs));
    });
    return settings.map((s) => evaluations.find((e) => sameSetting(e.setting, settingOf(p.ranges, s))) as TuneEvaluation);
  };

  const perRun = Math.max(1, p.seeds.length);
  const settings = p.search === 'bisection' ? 1 : p.ranges.reduce((n, r) => n * r.count, 1);
  const { answer, below, guess } = await withPool(options, settings * perRun, async (pool) => {
    const many = (all: number[][]): Promise<TuneEvaluation[]> => evaluateAll(pool, all);
    if (p.search === 'grid') return grid(p, many);
    const found = await bisect(p, (i) => evaluateAll(pool, [[i]]).then((e) => e[0] as TuneEvaluation));
    return p.search === 'bisection_then_scan' ? scanBelow(p, found, many) : found;
  });

  const at = answer === null ? null : (evaluations.find((e) => sameSetting(e.setting, settingOf(p.ranges, answer))) as TuneEvaluation);
  const under = below === null ? null : (evaluations.find((e) => sameSetting(e.setting, settingOf(p.ranges, below))) ?? null);
  const best = at !== null ? null : bestOf(p.goals, evaluations);
  return {
    answer: at === null ? null : at.setting,
    binding_goal: bindingGoal(p.goals, at, under, best),
    evaluations,
    search: p.search,
    first_guess: guess === null ? null : settingOf(p.ranges, [guess]),
    on: p.on,
    seeds: p.seeds,
    runs: evaluations.length * p.seeds.length,
    at_answer: answer === null ? null : { setting: settingOf(p.ranges, answer), runs: runsOf.get(answer.join(',')) as RunReport[] },
    below_answer: below === null || !runsOf.has(below.join(',')) ? null : { setting: settingOf(p.ranges, below), runs: runsOf.get(below.join(',')) as RunReport[] },
    best,
  };
}

interface Found {
  answer: number[] | null;
  below: number[] | null;
  guess: number | null;
}

async function bisect(p: Plan, evaluate: (index: number) => Promise<TuneEvaluation>): Promise<Found> {
  const range = p.ranges[0] as VaryRange;
  const k = range.count;
  const guessed = firstGuess(p.scenario, range, p.goals);
  const start = guessed === null ? Math.floor((k - 1) / 2) : indexAtOrAbove(range, guessed);
  // Invariant: every index ≤ lo misses, every index ≥ hi meets (lo = −1, hi = k: none known yet).
  let lo = -1;
  let hi = k;
  const probe = async (i: number): Promise<boolean> => {
    const met = (await evaluate(i)).met;
    if (met) hi = Math.min(hi, i);
    else lo = Math.max(lo, i);
    return met;
  };
  if (await probe(start)) {
    if (start > 0) await probe(start - 1);
  } else if (start < k - 1) await probe(start + 1);
  // Gallop away from the guess (steps 2, 4, 8, …) until the answer is bracketed, then halve: a
  // good guess costs a few probes, a poor one a few more, never a scan.
  let step = 1;
  while (hi - lo > 1) {
    if (hi === k) {
      step *= 2;
      await probe(Math.min(k - 1, lo + step));
    } else if (lo === -1) {
      step *= 2;
      await probe(Math.max(0, hi - step));
    } else await probe(Math.floor((lo + hi) / 2));
  }
  return { answer: hi < k ? [hi] : null, below: hi < k && hi > 0 ? [hi - 1] : null, guess: guessed === null ? null : start };
}

/**
 * Runs every setting below the bisection's answer (every setting, without one) and answers the
 * least that meets every goal: the bisection's answer unless a lower setting meets them too.
 */
async function scanBelow(p: Plan, found: Found, evaluateAll: (settings: number[][]) => Promise<TuneEvaluation[]>): Promise<Found> {
  const top = found.answer === null ? (p.ranges[0] as VaryRange).count : (found.answer[0] as number);
  const results = await evaluateAll(Array.from({ length: top }, (_, i) => [i]));
  const first = results.findIndex((e) => e.met);
  if (first < 0) return found;
  return { answer: [first], below: first > 0 ? [first - 1] : null, guess: found.guess };
}

async function grid(p: Plan, evaluateAll: (settings: number[][]) => Promise<TuneEvaluation[]>): Promise<Found> {
  const order = gridOrder(p.ranges);
  const results = await evaluateAll(order);
  const first = results.findIndex((e) => e.met);
  if (first < 0) return { answer: null, below: null, guess: null };
  const answer = order[first] as number[];
  const below = (answer[0] as number) > 0 ? [(answer[0] as number) - 1, ...answer.slice(1)] : null;
  return { answer, below, guess: null };
}

/** Every combination of the ranges' indexes, least first (the first range counts most). */
function gridOrder(ranges: readonly VaryRange[]): number[][] {
  let out: number[][] = [[]];
  for (const r of ranges) out = out.flatMap((prefix) => Array.from({ length: r.count }, (_, i) => [...prefix, i]));
  return out;
}

function settingOf(ranges: readonly VaryRange[], indexes: readonly number[]): Record<string, number> {
  return Object.fromEntries(ranges.map((r, k) => [r.name, r.value(indexes[k] as number)]));
}

function settingText(ranges: readonly VaryRange[], indexes: readonly number[]): string {
  return ranges.map((r, k) => `${r.name}=${r.yaml(indexes[k] as number)}`).join(', ');
}

function sameSetting(a: Record<string, number>, b: Record<string, number>): boolean {
  return Object.keys(a).every((key) => a[key] === b[key]);
}

function evaluation(p: Plan, indexes: readonly number[], runs: readonly RunReport[]): TuneEvaluation {
  const goals = p.goals.map((g) => judge(g, runs, p.on));
  const figures: Record<string, FigureSummary> = {};
  for (const g of p.goals) {
    const queues = g.queue !== null ? [g.queue] : [...new Set(runs.flatMap((r) => Object.keys(r.queues)))];
    for (const q of queues) figures[`${q}.${g.figure}`] ??= summariseFigure(runs.map((r) => figureValue(r.queues[q], g.figure)));
  }
  return { setting: settingOf(p.ranges, indexes), figures, met: goals.every((v) => v.met), goals };
}

function bestOf(goals: readonly Goal[], evaluations: readonly TuneEvaluation[]): TuneEvaluation | null {
  let best: TuneEvaluation | null = null;
  let bestKey: [number, number] = [-1, Infinity];
  for (const e of evaluations) {
    const met = e.goals.filter((v) => v.met).length;
    const short = e.goals.reduce((s, v, i) => s + shortfall(goals[i] as Goal, v), 0);
    if (met > bestKey[0] || (met === bestKey[0] && short < bestKey[1])) {
      best = e;
      bestKey = [met, short];
    }
  }
  return best;
}

function bindingGoal(goals: readonly Goal[], at: TuneEvaluation | null, below: TuneEvaluation | null, best: TuneEvaluation | null): string | null {
  if (at === null) return best?.goals.find((v) => !v.met)?.goal ?? null;
  const missedBelow = below?.goals.find((v) => !v.met);
  if (missedBelow !== undefined) return missedBelow.goal;
  let least: { goal: string; slack: number } | null = null;
  at.goals.forEach((v, i) => {
    const s = slack(goals[i] as Goal, v);
    if (least === null || s < least.slack) least = { goal: v.goal, slack: s };
  });
  return (least as { goal: string } | null)?.goal ?? null;
}
