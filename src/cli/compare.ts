/**
 * `pushq compare A.yaml B.yaml [...] [--seeds N] [--json] [--report FILE.html] [--assert ...]`:
 * the scenario files run on the same seeds (s, …, s + N − 1; s from --seed, else the first file's
 * seed, else 1); for every figure each file's mean (95% interval, min, max) and the paired
 * difference of each file against the first, with its 95% interval and a verdict in words.
 * docs/experiments.md documents the output.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { formatIssue } from '../config/issues.js';
import { compare, type CompareResult } from '../experiments/compare.js';
import type { Goal } from '../experiments/goals.js';
import { coreCount } from '../experiments/pool.js';
import { experimentSeeds } from '../experiments/run-seeds.js';
import { loadScenario } from '../scenario/load.js';
import { SEED_MAX } from '../scenario/parse.js';
import type { Scenario } from '../scenario/types.js';
import { renderBandsReport } from '../simulate/report/bands.js';
import { checkReportPath, ReportPathError, writeFileAtomically } from '../simulate/report/write.js';
import { defineCommand, parseOrExit, wholeNumber } from './args.js';
import { ASSERT_FLAG, checkAssertions, EXIT_ASSERTION, JOBS_FLAG, onFlag, parseAssertions, QUIET_FLAG, reportExperimentError, runsProgress, WORKER_MEMORY_FLAG } from './experiment-cli.js';
import { formatCompare } from './experiment-tables.js';
import { scenarioInputs, sharedPathProblem } from './output-paths.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { counted } from './counted.js';

/** Seeds per file when --seeds is not given. */
export const COMPARE_SEEDS_DEFAULT = 10;

export const COMPARE = defineCommand({
  name: 'compare',
  operands: { usage: 'A.yaml B.yaml [...]', noun: 'scenario file', min: 2, max: 16 },
  operandsFirst: true,
  about: `Runs two or more scenario files on the same seeds and compares every figure: each
file's mean with its 95% confidence interval, and the paired difference of each
file against the first, with its interval and a verdict ("b.yaml drains 18 min
sooner than a.yaml, 95% CI 15–21 min"). See docs/experiments.md.`,
  flags: {
    seeds: { type: 'string', value: 'N', parse: wholeNumber(1, 10_000), help: `seeds per file: s, s+1, ..., s+N-1 (default ${COMPARE_SEEDS_DEFAULT})` },
    seed: { type: 'string', value: 'S', parse: wholeNumber(0, SEED_MAX), help: "the first seed s (default the first file's seed, else 1)" },
    json: { type: 'boolean', help: 'print one JSON object (fields in docs/experiments.md)' },
    report: { type: 'string', value: 'FILE.html', help: "write one self-contained HTML report: the figures, the verdicts, and the files' series overlaid (median and 5–95% band)" },
    assert: ASSERT_FLAG,
    on: onFlag('assertions'),
    jobs: JOBS_FLAG,
    'worker-memory': WORKER_MEMORY_FLAG,
    quiet: QUIET_FLAG,
  },
  footer: `exit status: 0 done, 1 a scenario has errors or a run failed (its seed named),
2 usage error (nothing run), 3 an --assert failed in some file (each printed with its value).`,
});

export async function compareCommand(args: string[], io: CliIo): Promise<number> {
  const cli = parseOrExit(COMPARE, args, io);
  if (typeof cli === 'number') return cli;
  const f = cli.flags;
  const scenarios: Scenario[] = [];
  let invalid = false;
  for (const file of cli.operands) {
    const { scenario, issues } = await loadScenario(file, { refuseQueueFile: true });
    for (const issue of issues) io.stderr(`${formatIssue(issue)}\n`);
    if (scenario === null) {
      const errors = issues.filter((i) => i.severity === 'error').length;
      io.stderr(`${file}: invalid (${counted(errors, 'error')}); nothing was run\n`);
      invalid = true;
    } else scenarios.push(scenario);
  }
  if (invalid) return EXIT_FAILURE;

  const seeds = f.seeds ?? COMPARE_SEEDS_DEFAULT;
  let assertions: Goal[];
  try {
    assertions = parseAssertions(f.assert, scenarios);
    experimentSeeds({ seeds, ...(f.seed === undefined ? {} : { firstSeed: f.seed }) }, scenarios[0] as Scenario);
  } catch (error) {
    return reportExperimentError('compare', error, io);
  }
  if (f.on !== undefined && assertions.length === 0) {
    io.stderr('pushq compare: --on: says how --assert is judged: it goes with --assert; nothing was run\n');
    return EXIT_USAGE;
  }
  const shared = sharedPathProblem([['--report', f.report]], cli.operands.flatMap((file, i) => scenarioInputs(file, scenarios[i] as Scenario)));
  if (shared !== null) {
    io.stderr(`pushq compare: ${shared}; nothing was run\n`);
    return EXIT_USAGE;
  }
  if (f.report !== undefined) {
    try {
      await checkReportPath(f.report);
    } catch (error) {
      if (!(error instanceof ReportPathError)) throw error;
      io.stderr(`pushq compare: --report ${f.report}: cannot be written: ${error.reason}; nothing was run\n`);
      return EXIT_USAGE;
    }
  }

  const threads = Math.min(f.jobs ?? coreCount(), seeds * scenarios.length);
  const progress = runsProgress(io, f.quiet, threads);
  const started = performance.now();
  let result: CompareResult;
  try {
    result = await compare(scenarios, {
      seeds,
      ...(f.seed === undefined ? {} : { firstSeed: f.seed }),
      ...(f.jobs === undefined ? {} : { jobs: f.jobs }),
      ...(f['worker-memory'] === undefined ? {} : { memoryLimitMb: f['worker-memory'] }),
      ...(f.report === undefined ? {} : { series: true }),
      ...(progress === null ? {} : { onRun: progress.onRun }),
    });
  } catch (error) {
    progress?.clear();
    return reportExperimentError('compare', error, io);
  }
  progress?.clear();
  const wallSeconds = (performance.now() - started) / 1000;

  if (f.report !== undefined) {
    const texts = await Promise.all(cli.operands.map((file) => readFile(file, 'utf8')));
    const verdicts: Record<string, Record<string, string[]>> = {};
    for (const [queue, figures] of Object.entries(result.queues)) {
      verdicts[queue] = Object.fromEntries(Object.entries(figures).map(([figure, c]) => [figure, c.differences.map((d) => d.verdict)]));
    }
    await writeFileAtomically(
      f.report,
      renderBandsReport({
        command: 'pushq compare',
        seeds: result.seeds,
        variants: result.results.map((r, i) => ({ label: result.variants[i] as string, text: texts[i] as string, queues: r.queues, bands: r.series as NonNullable<typeof r.series> })),
        verdicts,
      }),
    );
  }
  const checked = checkAssertions('compare', assertions, result.variants.map((variant, i) => ({ variant, runs: result.runs[i] ?? [] })), f.on ?? 'every', io);
  if (f.json) {
    const json = { seeds: result.seeds, variants: result.variants, queues: result.queues, runs: Object.fromEntries(result.variants.map((v, i) => [v, result.runs[i]])) };
    io.stdout(`${JSON.stringify(assertions.length === 0 ? json : { ...json, assertions: checked })}\n`);
  } else io.stdout(formatCompare(result, threads, wallSeconds));
  return checked.every((a) => a.met) ? EXIT_OK : EXIT_ASSERTION;
}
