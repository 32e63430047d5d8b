/**
 * `pushq tune SCENARIO --vary QUEUE.KEY=LOW..HIGH[:STEP] ... --goal 'FIGURE OP VALUE' ...
 * [--seeds N] [--on every|mean] [--json]`: the least setting that meets every goal; the goal that
 * binds; every setting run. Exit 0 with an answer, 1 when no setting in range meets the goals
 * (the best found is printed), 2 on bad input (nothing run). docs/experiments.md documents it.
 *
 * `--json`: `{ "answer": { "QUEUE.KEY": value } | null, "binding_goal": "...",
 * "evaluations": [ { "setting", "figures", "met" } ], ... }`.
 */
import { performance } from 'node:perf_hooks';
import { formatIssue } from '../config/issues.js';
import { coreCount } from '../experiments/pool.js';
import { tune, type TuneResult } from '../experiments/tune.js';
import { loadScenario } from '../scenario/load.js';
import { SEED_MAX } from '../scenario/parse.js';
import { CliUsageError, defineCommand, parseOrExit, wholeNumber } from './args.js';
import { JOBS_FLAG, onFlag, QUIET_FLAG, reportExperimentError, runsProgress, WORKER_MEMORY_FLAG } from './experiment-cli.js';
import { formatTune } from './experiment-tables.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { counted } from './counted.js';

/** Seeds per setting when --seeds is not given. */
export const TUNE_SEEDS_DEFAULT = 5;

function search(text: string, flag: string): 'auto' | 'bisection' | 'grid' {
  if (text !== 'auto' && text !== 'bisection' && text !== 'grid') throw new CliUsageError(`${flag} must be auto, bisection or grid (got "${text}")`);
  return text;
}

export const TUNE = defineCommand({
  name: 'tune',
  operands: { usage: 'SCENARIO.yaml', noun: 'scenario file', min: 1, max: 1 },
  operandsFirst: true,
  about: `Finds the least setting of queue directives that meets every goal on every seed
(or on the mean): a bisection from the analytic first guess where a goal is met
above some setting (with outages, then every setting below its answer too), a
bounded grid otherwise. Prints the answer, the goal
that binds, and every setting run. See docs/experiments.md.`,
  flags: {
    vary: { type: 'string', value: 'QUEUE.KEY=LOW..HIGH[:STEP]', multiple: true, parse: (text: string) => text, help: 'a queue.yaml directive to vary: rate, bucket_size, max_concurrent_requests, task_retry_limit, task_age_limit, min_backoff_seconds, max_backoff_seconds, max_doublings (e.g. emails.rate=5/s..100/s:1/s); repeatable' },
    goal: { type: 'string', value: "'FIGURE OP VALUE'", multiple: true, parse: (text: string) => text, help: "a goal, repeatable: QUEUE.FIGURE or all.FIGURE, OP one of < <= > >= == !=, a number or a duration ('all.drained_at_seconds <= 1h')" },
    seeds: { type: 'string', value: 'N', parse: wholeNumber(1, 10_000), help: `seeds per setting: s, s+1, ..., s+N-1 (default ${TUNE_SEEDS_DEFAULT})` },
    seed: { type: 'string', value: 'S', parse: wholeNumber(0, SEED_MAX), help: "the first seed s (default the scenario's seed, else 1)" },
    on: onFlag('goals'),
    search: { type: 'string', value: 'auto|bisection|grid', parse: search, help: 'how to search (default auto: bisection where it applies, then every setting below its answer when the worker has outages; else a grid of at most 400 settings)' },
    json: { type: 'boolean', help: 'print one JSON object (fields in docs/experiments.md)' },
    jobs: JOBS_FLAG,
    'worker-memory': WORKER_MEMORY_FLAG,
    quiet: QUIET_FLAG,
  },
  footer: `exit status: 0 a setting meets every goal, 1 none in range does (the best found is
printed) or the scenario has errors or a run failed (its seed named), 2 usage error
(nothing run).`,
});

export async function tuneCommand(args: string[], io: CliIo): Promise<number> {
  const cli = parseOrExit(TUNE, args, io);
  if (typeof cli === 'number') return cli;
  const f = cli.flags;
  const file = cli.operands[0] as string;
  const { scenario, issues } = await loadScenario(file, { refuseQueueFile: true });
  for (const issue of issues) io.stderr(`${formatIssue(issue)}\n`);
  if (scenario === null) {
    const errors = issues.filter((i) => i.severity === 'error').length;
    io.stderr(`${file}: invalid (${counted(errors, 'error')}); nothing was run\n`);
    return EXIT_FAILURE;
  }
  const seeds = f.seeds ?? TUNE_SEEDS_DEFAULT;
  const threads = Math.min(f.jobs ?? coreCount(), seeds);
  const progress = runsProgress(io, f.quiet, f.jobs ?? coreCount());
  const started = performance.now();
  let result: TuneResult;
  try {
    result = await tune(scenario, {
      vary: f.vary,
      goals: f.goal,
      seeds,
      ...(f.seed === undefined ? {} : { firstSeed: f.seed }),
      ...(f.on === undefined ? {} : { on: f.on }),
      ...(f.search === undefined ? {} : { search: f.search }),
      ...(f.jobs === undefined ? {} : { jobs: f.jobs }),
      ...(f['worker-memory'] === undefined ? {} : { memoryLimitMb: f['worker-memory'] }),
      ...(progress === null ? {} : { onRun: progress.onRun }),
    });
  } catch (error) {
    progress?.clear();
    return reportExperimentError('tune', error, io);
  }
  progress?.clear();
  const wallSeconds = (performance.now() - started) / 1000;
  if (f.json) io.stdout(`${JSON.stringify(result)}\n`);
  else io.stdout(formatTune(file, result, result.search === 'bisection' ? threads : Math.min(f.jobs ?? coreCount(), result.runs), wallSeconds));
  if (result.answer === null) io.stderr(`pushq tune: no setting in range meets every goal${result.best === null ? '' : '; the best found is shown'}\n`);
  return result.answer === null ? EXIT_FAILURE : EXIT_OK;
}
