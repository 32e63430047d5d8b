/**
 * `pushq simulate SCENARIO --seeds N [--jobs J]`: the scenario on N seeds in parallel on worker
 * threads; each figure's mean with a 95% confidence interval, min and max; `--series` and
 * `--report` with the series' median and 5–95% band; `--assert` on every run (or the mean).
 *
 * `--json`: `{ "seeds": [...], "queues": { Q: { FIGURE: { "mean", "ci95_low", "ci95_high",
 * "min", "max" } } }, "runs": [ each run's report ] }`, plus `"assertions"` with --assert.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { SeedRunError } from '../experiments/errors.js';
import type { Goal, GoalOn } from '../experiments/goals.js';
import { coreCount } from '../experiments/pool.js';
import { runSeeds, type SeedsResult } from '../experiments/run-seeds.js';
import { SERIES_FIELDS } from '../experiments/series-bands.js';
import { FIXED_POINTS_MAX, SeriesTooLongError, seriesTooLongMessage } from '../projections/series.js';
import { neverDispatched } from '../scenario/run.js';
import type { Scenario } from '../scenario/types.js';
import { renderBandsReport } from '../simulate/report/bands.js';
import { writeFileAtomically } from '../simulate/report/write.js';
import { csvName, csvRowOrder } from '../simulate/series-csv.js';
import { checkAssertions, EXIT_ASSERTION, reportExperimentError, runsProgress } from './experiment-cli.js';
import { formatSeeds } from './experiment-tables.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { writeOutput } from './output-paths.js';

export interface SeedsOptions {
  file: string;
  seeds: number;
  seed: number | undefined;
  jobs: number | undefined;
  json: boolean;
  series: string | undefined;
  report: string | undefined;
  resolutionUs: number | undefined;
  quiet: boolean;
  workerMemoryMb: number | undefined;
  assertions: Goal[];
  on: GoalOn;
}

export async function simulateSeeds(scenario: Scenario, o: SeedsOptions, io: CliIo): Promise<number> {
  const threads = Math.min(o.jobs ?? coreCount(), o.seeds);
  const progress = runsProgress(io, o.quiet, threads);
  const started = performance.now();
  let result: SeedsResult;
  try {
    result = await runSeeds(scenario, {
      seeds: o.seeds,
      ...(o.seed === undefined ? {} : { firstSeed: o.seed }),
      ...(o.jobs === undefined ? {} : { jobs: o.jobs }),
      ...(o.workerMemoryMb === undefined ? {} : { memoryLimitMb: o.workerMemoryMb }),
      ...(o.series !== undefined || o.report !== undefined ? { series: o.resolutionUs === undefined ? true : { resolutionSeconds: o.resolutionUs / 1e6 } } : {}),
      ...(progress === null ? {} : { onRun: progress.onRun }),
    });
  } catch (error) {
    progress?.clear();
    // Too fine a --resolution for a run without until shows only as the run passes the limit:
    // a usage error all the same, as in a single run.
    if (error instanceof SeedRunError && error.runCode === 'SERIES_TOO_LONG' && o.resolutionUs !== undefined) {
      io.stderr(`pushq simulate: seed ${error.seed}: ${resolutionRefusal(new SeriesTooLongError(o.resolutionUs, FIXED_POINTS_MAX))}; nothing was written\n`);
      return EXIT_USAGE;
    }
    return reportExperimentError('simulate', error, io, rerunFlags(o));
  }
  progress?.clear();
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.stopped_at_limit.length > 0) {
    io.stderr(`pushq simulate: seeds ${result.stopped_at_limit.join(', ')} stopped at the run limit, 31 days of virtual time after the last arrival, with tasks pending; set until: to choose when to stop\n`);
  }
  const stuck = result.runs.filter((r) => neverDispatched(scenario, r.queues) !== null);
  const why = stuck.length === 0 ? null : neverDispatched(scenario, stuck[0]!.queues);
  if (why !== null) io.stderr(`pushq simulate: seeds ${stuck.map((r) => r.seed).join(', ')} left tasks pending ${why.why}\n`);
  if (result.series !== null) {
    const { series: csvPath, report: reportPath } = o;
    const bands = result.series;
    if (csvPath !== undefined && !(await writeOutput('--series', csvPath, () => writeFileAtomically(csvPath, bandsCsv(result)), io))) return EXIT_USAGE;
    if (reportPath !== undefined) {
      const text = await readFile(o.file, 'utf8');
      const page = () => writeFileAtomically(reportPath, renderBandsReport({ command: 'pushq simulate --seeds', seeds: result.seeds, variants: [{ label: o.file, text, queues: result.queues, bands }], devServer: scenario.devServer }));
      if (!(await writeOutput('--report', reportPath, page, io))) return EXIT_USAGE;
    }
  }
  const assertions = checkAssertions('simulate', o.assertions, [{ variant: null, runs: result.runs }], o.on, io);
  if (o.json) {
    io.stdout(`${JSON.stringify({ seeds: result.seeds, queues: result.queues, runs: result.runs, ...(o.assertions.length === 0 ? {} : { assertions }) })}\n`);
  } else io.stdout(formatSeeds(o.file, result, threads, wallSeconds, scenario.devServer));
  return assertions.every((a) => a.met) ? EXIT_OK : EXIT_ASSERTION;
}

/** What a seed's run alone needs to run as it did here: the series at the same resolution. */
function rerunFlags(o: SeedsOptions): string {
  if (o.resolutionUs === undefined) return '';
  const output = o.series !== undefined ? `--series ${o.series}` : `--report ${o.report ?? ''}`;
  return ` --resolution ${o.resolutionUs / 1e6}s ${output}`;
}

/**
 * `--series FILE.csv` with --seeds: one row per interval per queue, then `*`, as a single run's
 * (series-csv.ts), each series field as
 * its median and 5–95% band over the runs: `t_seconds,queue,added_median,added_p5,added_p95,...`.
 * An empty cell is no value (tokens of a queue without a bucket).
 */
function bandsCsv(result: SeedsResult): string {
  const bands = result.series;
  if (bands === null) throw new Error('no series were kept');
  const header = ['t_seconds', 'queue', ...SERIES_FIELDS.flatMap((f) => [`${f}_median`, `${f}_p5`, `${f}_p95`])].join(',');
  const lines = [header];
  const names = csvRowOrder(Object.keys(bands.queues));
  const rows = Math.max(0, ...names.map((n) => bands.queues[n]?.t_seconds.length ?? 0));
  for (let i = 0; i < rows; i++) {
    for (const name of names) {
      const q = bands.queues[name];
      if (q === undefined || i >= q.t_seconds.length) continue;
      const cells = SERIES_FIELDS.flatMap((f) => {
        const b = q.fields[f];
        return [b.median[i], b.p5[i], b.p95[i]].map((v) => (v === null || v === undefined ? '' : String(v)));
      });
      lines.push([String(q.t_seconds[i]), csvName(name), ...cells].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** SERIES_TOO_LONG in the command's words (a single run's too): the resolution as `--resolution` gave it. */
export function resolutionRefusal(error: SeriesTooLongError): string {
  return seriesTooLongMessage(`--resolution ${error.resolutionUs / 1e6}s`, error.maxPoints);
}
