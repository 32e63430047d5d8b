/**
 * `pushq compare A.yaml B.yaml [...]`: the scenario files run on the same seeds; for every
 * figure, each variant's mean (95% interval, min, max) and the paired difference of each variant
 * against the first, with its 95% interval and a verdict in words.
 *
 * Paired: the difference is taken seed by seed (B's run on seed s minus A's on seed s), then
 * summarised. With common random numbers (src/engine/streams.ts) both runs of a seed meet the
 * same arrivals and the same attempt outcomes, so the noise the two share cancels and the
 * interval of the difference is much narrower than the two intervals side by side.
 */
import type { Scenario } from '../scenario/types.js';
import type { RunReport } from '../simulate/run-report.js';
import { ExperimentArgumentError } from './errors.js';
import type { PackedSeries } from './packed-series.js';
import { FIGURE_NAMES, figureValue, queueNames, summariseFigure, type FigureName } from './figures.js';
import { experimentJobs, experimentSeeds, runAll, seedsResult, seriesJob, withPool, type ExperimentOptions, type SeedsResult, type SeriesOption } from './run-seeds.js';
import { SeriesBandsBuilder } from './series-bands.js';
import { summarise, type FigureSummary } from './statistics.js';
import { verdict } from './verdict.js';

/** A variant's paired difference against the first, for one figure. */
export interface Difference extends FigureSummary {
  /** The variant's label (its file). */
  variant: string;
  /** In words: "b.yaml drains 18 min sooner than a.yaml, 95% CI 15–21 min". */
  verdict: string;
}

export interface FigureComparison {
  /** One per variant, in order. */
  variants: FigureSummary[];
  /** One per variant after the first: its difference against the first. */
  differences: Difference[];
}

export interface CompareResult {
  seeds: number[];
  /** The variants' labels (their files), in order; the first is the baseline. */
  variants: string[];
  /** Queue → figure → comparison, for every queue of any variant. */
  queues: Record<string, Record<FigureName, FigureComparison>>;
  /** Each variant's runs, in seed order. */
  runs: RunReport[][];
  /** Each variant's own summary (and series bands, when asked for). */
  results: SeedsResult[];
}

/** Compares `scenarios` (two or more) on the same seeds. The pool is closed on return. */
export async function compare(scenarios: readonly Scenario[], options: ExperimentOptions & SeriesOption): Promise<CompareResult> {
  if (scenarios.length < 2) throw new ExperimentArgumentError('scenarios', [], `compare takes two scenario files or more (got ${scenarios.length})`);
  const first = scenarios[0] as Scenario;
  const seeds = experimentSeeds(options, first);
  const series = seriesJob(options.series);
  experimentJobs(options.jobs);
  const labels = variantLabels(scenarios);
  const jobs = scenarios.flatMap((scenario, v) => seeds.map((seed) => ({ scenario, seed, file: labels[v] as string, ...(series === undefined ? {} : { series }) })));
  // Each variant's series folded into its bands as its runs end (job i is variant ⌊i / N⌋'s run i mod N).
  const bands = series === undefined ? null : scenarios.map(() => new SeriesBandsBuilder());
  const fold = bands === null ? undefined : (i: number, s: PackedSeries) => (bands[Math.floor(i / seeds.length)] as SeriesBandsBuilder).add(s, i % seeds.length);
  const outcomes = await withPool(options, jobs.length, (pool) => runAll(pool, jobs, { onRun: options.onRun, done: 0, total: jobs.length }, fold));
  // The variants' bands on one grid, so a report can overlay them.
  const grid = bands === null ? 0 : Math.max(...bands.map((b) => b.coarsest()));
  const results = scenarios.map((_, v) => seedsResult(seeds, outcomes.slice(v * seeds.length, (v + 1) * seeds.length), bands === null ? null : (bands[v] as SeriesBandsBuilder).bands(grid)));
  const runs = results.map((r) => r.runs);
  const queues: CompareResult['queues'] = {};
  for (const queue of queueNames(runs)) {
    const figures = {} as Record<FigureName, FigureComparison>;
    for (const figure of FIGURE_NAMES) {
      const values = runs.map((variantRuns) => variantRuns.map((r) => figureValue(r.queues[queue], figure)));
      const base = values[0] as (number | null)[];
      figures[figure] = {
        variants: values.map((v) => summariseFigure(v)),
        differences: values.slice(1).map((v, i) => {
          const paired = v.map((x, s) => (x === null || base[s] === null ? null : x - (base[s] as number)));
          const summary = summarise(paired);
          const label = labels[i + 1] as string;
          return { variant: label, ...summary, verdict: verdict(figure, label, labels[0] as string, summary, v, base) };
        }),
      };
    }
    queues[queue] = figures;
  }
  return { seeds, variants: labels, queues, runs, results };
}

/** The variants' labels: their files, made distinct with `#2`, `#3` when a file is given twice. */
function variantLabels(scenarios: readonly Scenario[]): string[] {
  const seen = new Map<string, number>();
  return scenarios.map((s) => {
    const n = (seen.get(s.file) ?? 0) + 1;
    seen.set(s.file, n);
    return n === 1 ? s.file : `${s.file}#${n}`;
  });
}
