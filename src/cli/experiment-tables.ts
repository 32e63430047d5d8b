/**
 * The human output of the experiments: `simulate --seeds` (each figure's mean, 95% interval, min
 * and max), `compare` (each variant's mean and the verdict on its difference from the first) and
 * `tune` (the answer, the binding goal, the settings run). Rounded for reading; `--json` has every
 * figure exact.
 */
import { DEV_SERVER_RUN_LINE } from '../core/dev-server.js';
import type { CompareResult } from '../experiments/compare.js';
import type { FigureName, QueueSummaries } from '../experiments/figures.js';
import type { SeedsResult } from '../experiments/run-seeds.js';
import type { FigureSummary } from '../experiments/statistics.js';
import type { TuneEvaluation, TuneResult } from '../experiments/tune.js';
import { parseGoal } from '../experiments/goals.js';
import { formatValue, formatValueAgainst } from '../experiments/verdict.js';
import { counted } from './counted.js';

/** The figures the tables show (every one is in --json). */
const SHOWN: readonly FigureName[] = [
  'succeeded', 'failed', 'attempts', 'retries', 'dispatch_rate_mean_per_second', 'in_flight_max',
  'last_dispatch_at_seconds', 'drained_at_seconds', 'backlog_max',
  'wait_seconds.p50', 'wait_seconds.p99', 'latency_seconds.p99', 'completion_seconds.p99',
];

/** Columns padded to their widest cell: the first (and those in `left`) left-aligned, the rest right-aligned. */
function table(rows: readonly string[][], left: readonly number[] = []): string[] {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || left.includes(c) ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd());
}

function interval(figure: FigureName, s: FigureSummary): string {
  if (s.ci95_low === null || s.ci95_high === null) return '—';
  // Bounds a floating-point rounding apart (0.76 and 0.7600000000000001) are one value, as equal
  // ones; a narrow interval that only reads the same (9.75 min – 9.75 min) keeps both bounds.
  const roundingApart = Math.abs(s.ci95_high - s.ci95_low) <= 1e-9 * Math.max(Math.abs(s.ci95_low), Math.abs(s.ci95_high));
  if (roundingApart) return formatValue(figure, s.ci95_low);
  return `${formatValue(figure, s.ci95_low)} – ${formatValue(figure, s.ci95_high)}`;
}

function seedsRange(seeds: readonly number[]): string {
  return seeds.length === 1 ? `seed ${seeds[0]}` : `${seeds.length} seeds (${seeds[0]} to ${seeds[seeds.length - 1]})`;
}

function runsLine(runs: number, threads: number, wallSeconds: number): string {
  return `${counted(runs, 'run')} on ${counted(threads, 'worker thread')} in ${wallSeconds.toFixed(2)} wall seconds`;
}

/** `pushq simulate SCENARIO --seeds N`. */
export function formatSeeds(file: string, result: SeedsResult, threads: number, wallSeconds: number, devServer = false): string {
  const lines = [`${file}: ${seedsRange(result.seeds)}`, runsLine(result.runs.length, threads, wallSeconds)];
  // As a single run's summary says it: the figures are of dev_appserver's rules, not production's.
  if (devServer) lines.push(`${DEV_SERVER_RUN_LINE}.`);
  lines.push(...queueTables(result.queues));
  const someNull = Object.values(result.queues).some((figures) => shownFigures(figures).some((f) => figures[f].mean === null));
  if (someNull) lines.push('', '—: some run has no value (drained_at_seconds: the queue had not drained when the run ended); min and max are over the runs that have one');
  if (result.stopped_at_limit.length > 0) lines.push('', `stopped at the run limit (31 days after the last arrival): seeds ${result.stopped_at_limit.join(', ')}`);
  lines.push('', 'mean over the seeds, its 95% confidence interval (Student t), min and max; --json has every figure and every run');
  return `${lines.join('\n')}\n`;
}

/** The figures a queue's table shows: SHOWN, and `pending` after `failed` when a run left tasks pending (`until`, a paused queue). */
function shownFigures(figures: QueueSummaries[string]): FigureName[] {
  return SHOWN.flatMap((f): FigureName[] => (f === 'failed' && (figures.pending.max ?? 0) > 0 ? ['failed', 'pending'] : [f]));
}

function queueTables(queues: QueueSummaries): string[] {
  const lines: string[] = [];
  for (const [queue, figures] of Object.entries(queues)) {
    const rows = [[`queue ${queue}`, 'mean', '95% CI', 'min', 'max']];
    for (const f of shownFigures(figures)) {
      const s = figures[f];
      rows.push([f, formatValue(f, s.mean), interval(f, s), formatValue(f, s.min), formatValue(f, s.max)]);
    }
    lines.push('', ...table(rows));
  }
  return lines;
}

/** `pushq compare A B ...`: per queue, the figures that differ on some seed, each variant's mean and the verdict. */
export function formatCompare(result: CompareResult, threads: number, wallSeconds: number): string {
  const lines = [`${result.variants.join(' vs ')}: ${seedsRange(result.seeds)}, the same for each`, runsLine(result.runs.flat().length, threads, wallSeconds)];
  for (const [queue, figures] of Object.entries(result.queues)) {
    // A queue one variant has no figures for: one line, not a "not comparable" per figure.
    const without = result.variants.filter((_, v) => (result.runs[v] ?? []).every((r) => r.queues[queue] === undefined));
    if (without.length > 0) {
      lines.push('', `queue ${queue}: no figures in ${without.join(', ')} (the queue is not in the file, or no task reached it); not compared`);
      continue;
    }
    const rows = [[`queue ${queue}`, ...result.variants.map((v) => `${v} mean (95% CI)`)]];
    const verdicts: string[] = [];
    let same = 0;
    for (const [figure, c] of Object.entries(figures) as [FigureName, (typeof figures)[FigureName]][]) {
      if (c.differences.every((d) => d.verdict.endsWith('the same as ' + result.variants[0] + ' on every seed'))) {
        same++;
        continue;
      }
      rows.push([figure, ...c.variants.map((s) => `${formatValue(figure, s.mean)} (${interval(figure, s)})`)]);
      for (const d of c.differences) verdicts.push(`  ${d.verdict}`);
    }
    lines.push('');
    if (rows.length > 1) lines.push(...table(rows), '', ...verdicts);
    lines.push(`${rows.length > 1 ? '' : `queue ${queue}: `}${counted(same, 'figure')} the same on every seed (--json has them all)`);
  }
  lines.push('', 'differences are paired seed by seed (each variant against the first); a 95% interval that holds 0 is no clear difference');
  return `${lines.join('\n')}\n`;
}

const SEARCH_TEXT: Readonly<Record<TuneResult['search'], string>> = {
  bisection: 'bisection',
  bisection_then_scan: 'bisection, then every setting below its answer (the worker has outages)',
  grid: 'grid search',
};

/** `pushq tune SCENARIO --vary ... --goal ...`. */
export function formatTune(file: string, result: TuneResult, threads: number, wallSeconds: number): string {
  const lines = [
    `${file}: ${SEARCH_TEXT[result.search]}, goals judged ${result.seeds.length === 1 ? 'on' : result.on === 'mean' ? 'on the mean over' : 'on every one of'} ${seedsRange(result.seeds)}`,
    `${counted(result.evaluations.length, 'setting')}, ${runsLine(result.runs, threads, wallSeconds)}` +
      (result.first_guess === null ? '' : `; first guess ${settingText(result.first_guess)}`),
    '',
  ];
  if (result.answer !== null) {
    lines.push(`answer: ${settingText(result.answer)}`);
    // At the range's low end nothing below was run: the goal named only has the least room there.
    const atLow = result.below_answer === null && result.binding_goal !== null;
    lines.push(`binding goal: ${result.binding_goal ?? '—'}${atLow ? " (the answer is the range's low end, where every goal is met: this one has the least room; no lower setting was run)" : ''}`);
  } else {
    lines.push('answer: none: no setting in range meets every goal');
    if (result.best !== null) lines.push(`best found: ${settingText(result.best.setting)}, missing ${result.best.goals.filter((g) => !g.met).map((g) => (g.queues.length === 0 ? `${g.goal} (no queue has a value for ${g.figure})` : g.goal)).join('; ')}`);
  }
  const judged = result.seeds.length === 1 ? 'figures' : result.on === 'mean' ? 'figures (mean of the seeds)' : 'figures (worst of the seeds)';
  lines.push('', ...table([['setting', 'met', judged], ...result.evaluations.map((e) => evaluationRow(e, result))], [1, 2]));
  return `${lines.join('\n')}\n`;
}

function evaluationRow(e: TuneEvaluation, result: TuneResult): string[] {
  const mark = result.answer !== null && settingText(e.setting) === settingText(result.answer) ? '  ← answer' : result.below_answer !== null && settingText(e.setting) === settingText(result.below_answer.setting) ? '  ← one step below' : '';
  // An all. goal with no queue to judge (none received a task) shows its figure without a value.
  // Each value against its goal (parsed back from the text tune accepted): never rounded onto the side it misses.
  const figures = e.goals
    .flatMap((g) => {
      if (g.queues.length === 0) return [`all.${g.figure} ${formatValue(g.figure, null)}`];
      const goal = parseGoal(g.goal, 'goals', g.queues.map((q) => q.queue));
      return g.queues.map((q) => `${q.queue}.${g.figure} ${formatValueAgainst(goal, q.value)}`);
    })
    .join(', ');
  return [settingText(e.setting), e.met ? 'yes' : 'no', `${figures}${mark}`];
}

function settingText(setting: Record<string, number>): string {
  return Object.entries(setting)
    .map(([name, v]) => `${name} = ${Number(v.toPrecision(6))}${name.endsWith('.rate') ? '/s' : name.endsWith('.task_age_limit') ? ' s' : ''}`)
    .join(', ');
}
