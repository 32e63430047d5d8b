/**
 * Many seeds of one scenario (`pushq simulate SCENARIO --seeds N`): the runs on seeds s, s + 1,
 * …, s + N − 1 in parallel on worker threads, each figure as its mean with a 95% confidence
 * interval (Student t), min and max, and the series as their median with a 5–95% band.
 *
 * The options every experiment shares (seeds, jobs, memory, series) and the checks made on them
 * before anything runs are here too.
 */
import { SEED_MAX } from '../scenario/parse.js';
import { DEFAULT_SEED } from '../scenario/run.js';
import type { Scenario } from '../scenario/types.js';
import type { RunReport } from '../simulate/run-report.js';
import { ExperimentArgumentError } from './errors.js';
import { summariseRuns, type QueueSummaries } from './figures.js';
import { coreCount, RunPool } from './pool.js';
import type { RunJob, RunOutcome } from './run-job.js';
import type { PackedSeries } from './packed-series.js';
import { SeriesBandsBuilder, type SeriesBands } from './series-bands.js';

/** The most seeds one experiment runs (per scenario or setting). */
export const SEEDS_MAX = 10_000;

export interface ExperimentOptions {
  /** How many seeds: s, s + 1, …, s + N − 1. */
  seeds: number;
  /** s: default the (first) scenario's seed, else 1. */
  firstSeed?: number;
  /** Worker threads; default one per core, at most one per core. */
  jobs?: number;
  /** Each worker thread's heap limit, MiB: a run that needs more fails the experiment, its seed named. */
  memoryLimitMb?: number;
  /** Called after each run, with the runs done and the runs in all (a progress display). */
  onRun?: (done: number, total: number) => void;
}

export interface SeriesOption {
  /** Keep each run's series and give their bands; the interval, seconds, or automatic. */
  series?: boolean | { resolutionSeconds?: number };
}

export interface SeedsResult {
  seeds: number[];
  /** Queue → figure → mean, ci95_low, ci95_high, min, max over the runs. */
  queues: QueueSummaries;
  /** Each run's report (`pushq simulate --json`), in seed order. */
  runs: RunReport[];
  /** The series' median and 5–95% band, when asked for. */
  series: SeriesBands | null;
  /** Seeds whose run stopped at the run limit (31 days after the last arrival) rather than going idle. */
  stopped_at_limit: number[];
}

/** The seeds of an experiment, checked (ExperimentArgumentError naming `seeds` or `firstSeed`). */
export function experimentSeeds(options: Pick<ExperimentOptions, 'seeds' | 'firstSeed'>, scenario: Scenario): number[] {
  const n = options.seeds;
  if (!(Number.isInteger(n) && n >= 1 && n <= SEEDS_MAX)) throw new ExperimentArgumentError('seeds', [], `must be a whole number from 1 to ${SEEDS_MAX} (got ${n})`);
  const first = options.firstSeed ?? scenario.seed ?? DEFAULT_SEED;
  if (!(Number.isInteger(first) && first >= 0 && first + n - 1 <= SEED_MAX)) {
    const past = `seeds ${first} to ${first + n - 1} go past ${SEED_MAX}`;
    if (options.firstSeed !== undefined) throw new ExperimentArgumentError('firstSeed', [], past);
    // No first seed was given: the count is what runs past the scenario's seed, so it is named.
    throw new ExperimentArgumentError('seeds', [], [`${past} (the first is the seed of ${scenario.file}); give `, { option: 'firstSeed' }, ` ${SEED_MAX - n + 1} or lower`]);
  }
  return Array.from({ length: n }, (_, i) => first + i);
}

/** The pool's thread count, checked against the cores (ExperimentArgumentError naming `jobs`). */
export function experimentJobs(jobs: number | undefined): number {
  const cores = coreCount();
  if (jobs === undefined) return cores;
  if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= cores)) throw new ExperimentArgumentError('jobs', [], `must be a whole number from 1 to ${cores}, the cores of this machine (got ${jobs})`);
  return jobs;
}

/** The `series` option as a job's. */
export function seriesJob(option: SeriesOption['series']): RunJob['series'] {
  if (option === undefined || option === false) return undefined;
  const seconds = option === true ? undefined : option.resolutionSeconds;
  if (seconds !== undefined && !(seconds > 0)) throw new ExperimentArgumentError('series.resolutionSeconds', [], `must be above zero (got ${seconds})`);
  return { resolutionUs: seconds === undefined ? null : Math.round(seconds * 1e6) };
}

/**
 * Runs `jobs` on `pool`; the outcomes in the jobs' order. The first failure rejects (naming its
 * seed); the runs still going are left to the pool's owner to stop (by closing it). A run's series
 * goes to `fold` (with the job's index) as it comes and is not kept: its outcome's is null.
 */
export async function runAll(
  pool: RunPool,
  jobs: readonly RunJob[],
  progress: { onRun?: ExperimentOptions['onRun']; done: number; total: number },
  fold?: (index: number, series: PackedSeries) => void,
): Promise<RunOutcome[]> {
  return Promise.all(
    jobs.map(async (job, index) => {
      const outcome = await pool.run(job);
      if (outcome.series !== null) fold?.(index, outcome.series);
      progress.done++;
      progress.onRun?.(progress.done, progress.total);
      return outcome.series === null ? outcome : { ...outcome, series: null };
    }),
  );
}

/** The summary of one set of runs (a scenario's, a variant's, a setting's), with their series' bands when kept. */
export function seedsResult(seeds: number[], outcomes: readonly RunOutcome[], series: SeriesBands | null): SeedsResult {
  const runs = outcomes.map((o) => o.report);
  return {
    seeds,
    queues: summariseRuns(runs),
    runs,
    series,
    stopped_at_limit: outcomes.flatMap((o) => (o.stoppedBy === 'limit' ? [o.report.seed] : [])),
  };
}

/** Opens a pool for an experiment, runs `body` with it, and closes it whatever happens. */
export async function withPool<T>(options: Pick<ExperimentOptions, 'jobs' | 'memoryLimitMb'>, runs: number, body: (pool: RunPool) => Promise<T>): Promise<T> {
  // More threads than runs would start threads that never run anything.
  const jobs = Math.min(experimentJobs(options.jobs), Math.max(1, runs));
  const pool = new RunPool(options.memoryLimitMb === undefined ? { jobs } : { jobs, memoryLimitMb: options.memoryLimitMb });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/** Runs `scenario` on N seeds in parallel; see the module comment. The pool is closed on return. */
export async function runSeeds(scenario: Scenario, options: ExperimentOptions & SeriesOption): Promise<SeedsResult> {
  const seeds = experimentSeeds(options, scenario);
  const series = seriesJob(options.series);
  experimentJobs(options.jobs);
  const jobs: RunJob[] = seeds.map((seed) => ({ scenario, seed, file: scenario.file, ...(series === undefined ? {} : { series }) }));
  // The series are folded into their bands as the runs end: the main thread keeps none of them.
  const bands = series === undefined ? null : new SeriesBandsBuilder();
  return withPool(options, jobs.length, async (pool) => {
    const outcomes = await runAll(pool, jobs, { onRun: options.onRun, done: 0, total: jobs.length }, bands === null ? undefined : (i, s) => bands.add(s, i));
    return seedsResult(seeds, outcomes, bands === null ? null : bands.bands());
  });
}
