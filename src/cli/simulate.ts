/**
 * `pushq simulate SCENARIO.yaml [--seed N] [--json] [--log FILE] [--series FILE.csv]
 * [--report FILE.html] [--resolution DURATION] [--quiet]`: runs a scenario file in virtual time
 * and reports per-queue figures, the series over time and an HTML report. Exit 0 after a completed
 * run, 1 when the scenario has errors (every one printed to stderr as `file:line:column error
 * message (code)`, nothing runs) or the run cannot complete, 2 on usage errors (a bad
 * --resolution, an output path (--log, --series, --report) that cannot be written: checked
 * before anything runs; a --resolution that passes its limit of points in a run without `until`:
 * found as it does).
 * docs/simulate.md documents the output.
 *
 * Wall time is read here, in the shell, only to report how long the run took; the simulation
 * itself never sees it.
 */
import { performance } from 'node:perf_hooks';
import { formatIssue } from '../config/issues.js';
import { DEV_SERVER_RULES } from '../core/dev-server.js';
import { PushqError } from '../core/errors.js';
import { VirtualTimeStalledError } from '../engine/stall-guard.js';
import { runReport } from '../simulate/run-report.js';
import { DiscardEventLog } from '../log/discard-log.js';
import { createFileEventLog, type FileEventLog } from '../log/file-log.js';
import { loadScenario } from '../scenario/load.js';
import { SEED_MAX } from '../scenario/parse.js';
import { DEFAULT_SEED, RUN_LIMIT_US, runScenario, scenarioLogHeader, scenarioSeed, neverDispatched, type ScenarioRun } from '../scenario/run.js';
import { US_PER_DAY } from '../core/time.js';
import { FIXED_POINTS_MAX, SeriesTooLongError } from '../projections/series.js';
import { checkReportPath, moveIntoPlace, ReportPathError, writeFileAtomically, writeReportFile } from '../simulate/report/write.js';
import { tempPathBeside } from '../log/atomic-file.js';
import { seriesCsv } from '../simulate/series-csv.js';
import { parseDuration } from '../scenario/values.js';
import { readFile, rm } from 'node:fs/promises';
import { CliUsageError, defineCommand, parseOrExit, wholeNumber } from './args.js';
import { scenarioInputs, sharedPathProblem, writeOutput } from './output-paths.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { ProgressLine } from './progress.js';
import { formatSummary } from './simulate-summary.js';
import { resolutionRefusal, simulateSeeds } from './simulate-seeds.js';
import type { Goal } from '../experiments/goals.js';
import { experimentSeeds } from '../experiments/run-seeds.js';
import { ASSERT_FLAG, checkAssertions, EXIT_ASSERTION, JOBS_FLAG, onFlag, parseAssertions, reportExperimentError, SEEDS_FLAG, WORKER_MEMORY_FLAG } from './experiment-cli.js';
import { counted } from './counted.js';

/** `--resolution`: a duration above zero. */
function resolution(text: string, flag: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new CliUsageError(`${flag} ${text}: ${parsed.reason}`);
  if (parsed.value <= 0) throw new CliUsageError(`${flag} ${text}: must be above zero`);
  return parsed.value;
}

export const SIMULATE = defineCommand({
  name: 'simulate',
  operands: { usage: 'SCENARIO.yaml', noun: 'scenario file', min: 1, max: 1 },
  operandsFirst: true,
  about: `Runs a scenario (queues, workloads, a modelled worker; see docs/simulate.md) in
virtual time and prints per-queue figures: tasks, outcomes, attempts, dispatch
rates, concurrency, latency and completion percentiles.`,
  flags: {
    seed: { type: 'string', value: 'N', parse: wholeNumber(0, SEED_MAX), help: `seed for the run (0..${SEED_MAX}); overrides the scenario's seed. Neither given: ${DEFAULT_SEED}.` },
    json: { type: 'boolean', help: 'print one JSON object (fields in docs/simulate.md)' },
    log: { type: 'string', value: 'FILE', help: "write the run's event log to FILE (JSON lines, replaces FILE)" },
    series: { type: 'string', value: 'FILE.csv', help: 'write the series over time to FILE.csv: one row per interval per queue, and `*` for all queues (columns in docs/simulate.md)' },
    report: { type: 'string', value: 'FILE.html', help: 'write one self-contained HTML report: the scenario, the figures and charts over time' },
    resolution: { type: 'string', value: 'DURATION', parse: resolution, help: `the interval of the series that --series and --report write (e.g. 1s, 500ms, 1m); default: chosen for about 1,000 points over the run; at most ${FIXED_POINTS_MAX.toLocaleString('en')} points` },
    quiet: { type: 'boolean', help: 'no progress line on stderr (it is shown only when stderr is a terminal)' },
    'dev-server': { type: 'boolean', help: `dispatch as dev_appserver does (as dev_server: true in the scenario): ${DEV_SERVER_RULES}` },
    seeds: SEEDS_FLAG,
    jobs: JOBS_FLAG,
    assert: ASSERT_FLAG,
    on: onFlag('assertions'),
    'worker-memory': WORKER_MEMORY_FLAG,
  },
  footer: `exit status: 0 the run completed, 1 the scenario has errors (each printed as
file:line:column error message (code)) or the run stopped (with --seeds: the seed named),
2 usage error (nothing run), 3 an --assert failed (each printed with its value).`,
});

export async function simulateCommand(args: string[], io: CliIo): Promise<number> {
  const cli = parseOrExit(SIMULATE, args, io);
  if (typeof cli === 'number') return cli;
  const parsed = { file: cli.operands[0] as string, ...cli.flags };

  const loaded = await loadScenario(parsed.file, { refuseQueueFile: true });
  for (const issue of loaded.issues) io.stderr(`${formatIssue(issue)}\n`);
  if (loaded.scenario === null) {
    const errors = loaded.issues.filter((i) => i.severity === 'error').length;
    io.stderr(`${parsed.file}: invalid (${counted(errors, 'error')}); nothing was run\n`);
    return EXIT_FAILURE;
  }
  // --dev-server is the scenario's dev_server: true, for one run of a scenario written for production.
  const scenario = parsed['dev-server'] ? { ...loaded.scenario, devServer: true } : loaded.scenario;

  // Experiment arguments are checked before anything runs, as outputs are.
  let assertions: Goal[];
  try {
    assertions = parseAssertions(parsed.assert, [scenario]);
  } catch (error) {
    return reportExperimentError('simulate', error, io);
  }
  // Flags that go only with others: the command line's own rules (the library has no such options).
  const misplaced =
    parsed.seeds === undefined && parsed.jobs !== undefined ? '--jobs: runs seeds on worker threads: it goes with --seeds N'
    : parsed.seeds === undefined && parsed['worker-memory'] !== undefined ? '--worker-memory: limits the worker threads of --seeds N: it goes with --seeds'
    : parsed.seeds !== undefined && parsed.log !== undefined ? "--log: writes one run's log: run that seed alone (--seed N) to write it"
    : parsed.on !== undefined && assertions.length === 0 ? '--on: says how --assert is judged: it goes with --assert'
    : null;
  if (misplaced !== null) {
    io.stderr(`pushq simulate: ${misplaced}; nothing was run\n`);
    return EXIT_USAGE;
  }
  try {
    if (parsed.seeds !== undefined) experimentSeeds({ seeds: parsed.seeds, ...(parsed.seed === undefined ? {} : { firstSeed: parsed.seed }) }, scenario);
  } catch (error) {
    return reportExperimentError('simulate', error, io);
  }

  // Outputs are checked before anything runs: a bad path costs no simulation, and leaves nothing behind.
  // --resolution alone would shape a series nobody writes (and could stop the run for it).
  if (parsed.resolution !== undefined && parsed.series === undefined && parsed.report === undefined) {
    io.stderr(`pushq simulate: --resolution sets the interval of the series that --series and --report write: it goes with one of them; nothing was run\n`);
    return EXIT_USAGE;
  }
  // A run to `until` covers [0, until]: what happens at `until` itself falls in the interval that
  // starts there, so the series can hold ⌊until / Δ⌋ + 1 rows.
  const untilPoints = parsed.resolution === undefined || scenario.untilUs === null ? 0 : Math.floor(scenario.untilUs / parsed.resolution) + 1;
  if (parsed.resolution !== undefined && scenario.untilUs !== null && untilPoints > FIXED_POINTS_MAX) {
    io.stderr(`pushq simulate: --resolution ${parsed.resolution / 1e6}s gives ${untilPoints.toLocaleString('en')} points over the run (until: ${scenario.untilUs / 1e6}s); at most ${FIXED_POINTS_MAX.toLocaleString('en')}: choose a coarser resolution\n`);
    return EXIT_USAGE;
  }
  const outputs = [['--log', parsed.log], ['--series', parsed.series], ['--report', parsed.report]] as const;
  const shared = sharedPathProblem(outputs, scenarioInputs(parsed.file, scenario));
  if (shared !== null) {
    io.stderr(`pushq simulate: ${shared}; nothing was run\n`);
    return EXIT_USAGE;
  }
  for (const [flag, path] of outputs) {
    if (path === undefined) continue;
    try {
      await checkReportPath(path);
    } catch (error) {
      if (!(error instanceof ReportPathError)) throw error;
      io.stderr(`pushq simulate: ${flag} ${path}: cannot be written: ${error.reason}; nothing was run\n`);
      return EXIT_USAGE;
    }
  }

  if (parsed.seeds !== undefined) {
    return simulateSeeds(scenario, {
      file: parsed.file,
      seeds: parsed.seeds,
      seed: parsed.seed,
      jobs: parsed.jobs,
      json: parsed.json,
      series: parsed.series,
      report: parsed.report,
      resolutionUs: parsed.resolution,
      quiet: parsed.quiet,
      workerMemoryMb: parsed['worker-memory'],
      assertions,
      on: parsed.on ?? 'every',
    }, io);
  }

  const { seed, seedSource } = scenarioSeed(scenario, parsed.seed);
  if (seedSource === 'default' && parsed.json) io.stderr(`pushq simulate: no seed given (--seed or seed: in the scenario); using ${DEFAULT_SEED}\n`);

  // Without --log nobody reads the events: they are not kept (the projections still see each one).
  // With it, the log is written beside its path and moved over it once the run is over, as every
  // output is (src/simulate/report/write.ts: the path is replaced, never written through).
  let log: FileEventLog | DiscardEventLog = new DiscardEventLog(scenarioLogHeader(scenario, seed));
  const logTemp = parsed.log === undefined ? undefined : tempPathBeside(parsed.log);
  if (logTemp !== undefined) {
    try {
      log = await createFileEventLog(logTemp, scenarioLogHeader(scenario, seed), { durable: false, exclusive: true });
    } catch (error) {
      io.stderr(`pushq simulate: cannot write the log ${parsed.log}: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT_FAILURE;
    }
  }
  /** Moves the closed log into place (true), or says why it cannot be (false). */
  const keepLog = async (): Promise<boolean> => {
    const path = parsed.log;
    return logTemp === undefined || path === undefined || (await writeOutput('--log', path, () => moveIntoPlace(logTemp, path), io));
  };
  try {
    const started = performance.now();
    const progress = !parsed.quiet && io.stderrIsTerminal === true ? new ProgressLine({ write: io.stderr }, scenario.untilUs) : null;
    let run: ScenarioRun;
    try {
      run = runScenario(scenario, {
        seed,
        log,
        series: parsed.series !== undefined || parsed.report !== undefined,
        ...(parsed.resolution === undefined ? {} : { seriesResolutionUs: parsed.resolution }),
        ...(progress === null ? {} : { onProgress: progress.tick }),
      });
    } catch (error) {
      progress?.clear();
      await log.close();
      // The log was begun before the series outgrew its limit: a partial log is not a result
      // (its temporary file goes; a log at --log's path stays as it was).
      if (error instanceof SeriesTooLongError) {
        io.stderr(`pushq simulate: ${resolutionRefusal(error)}; nothing was written\n`);
        return EXIT_USAGE;
      }
      if (!(error instanceof PushqError || error instanceof VirtualTimeStalledError)) throw error;
      // A run the engine stopped keeps its log: the events up to the stop are what replay shows of it.
      await keepLog();
      io.stderr(`pushq simulate: the run stopped: ${error.message} (${error.code})\n`);
      return EXIT_FAILURE;
    }
    progress?.clear();
    await log.close();
    if (!(await keepLog())) return EXIT_USAGE;
    const wallSeconds = (performance.now() - started) / 1000;
    const { stats } = run;
    if (run.stoppedBy === 'limit') {
      const pending = Object.values(stats.queues).reduce((n, q) => n + q.pending, 0);
      io.stderr(
        `pushq simulate: stopped at the run limit, ${RUN_LIMIT_US / US_PER_DAY} days of virtual time after the last arrival, with ${counted(pending, 'task')} pending ` +
          '(tasks that fail every attempt retry forever without task_retry_limit or task_age_limit); set until: to choose when to stop\n',
      );
    }
    const stuck = neverDispatched(scenario, stats.queues);
    if (stuck !== null) io.stderr(`pushq simulate: ${counted(stuck.pending, 'task')} left pending ${stuck.why}\n`);

    if (parsed.series !== undefined || parsed.report !== undefined) {
      let series;
      try {
        series = run.simulation.series();
      } catch (error) {
        if (!(error instanceof SeriesTooLongError)) throw error;
        io.stderr(`pushq simulate: ${resolutionRefusal(error)}; nothing was written\n`);
        return EXIT_USAGE;
      }
      const { series: csvPath, report: reportPath } = parsed;
      if (csvPath !== undefined && !(await writeOutput('--series', csvPath, () => writeFileAtomically(csvPath, seriesCsv(series)), io))) return EXIT_USAGE;
      if (reportPath !== undefined) {
        const text = await readFile(parsed.file, 'utf8');
        const page = () => writeReportFile(reportPath, { scenario: { file: parsed.file, text }, seed: stats.seed, stats: toJsonReport(stats, wallSeconds, scenario.devServer), series, devServer: scenario.devServer });
        if (!(await writeOutput('--report', reportPath, page, io))) return EXIT_USAGE;
      }
    }

    const report = toJsonReport(stats, wallSeconds, scenario.devServer);
    const checked = checkAssertions('simulate', assertions, [{ variant: null, runs: [report] }], parsed.on ?? 'every', io);
    if (parsed.json) io.stdout(`${JSON.stringify(assertions.length === 0 ? report : { ...report, assertions: checked })}\n`);
    else io.stdout(formatSummary({ file: parsed.file, stats, seedSource, wallSeconds, logFile: parsed.log ?? null, devServer: scenario.devServer }));
    return checked.every((a) => a.met) ? EXIT_OK : EXIT_ASSERTION;
  } finally {
    if (logTemp !== undefined) await rm(logTemp, { force: true }); // a log not kept (refused, an internal error); once moved, gone already
  }
}

/** The `--json` object (src/simulate/run-report.ts: one definition, shared with the experiments). */
export const toJsonReport = runReport;
