/**
 * What `pushq simulate --seeds`, `pushq compare` and `pushq tune` share: their flags (declared
 * once), assertions (`--assert`, exit 3 when one fails), the progress line of many runs, and how
 * an experiment's errors are reported (a bad argument: one line naming it, exit 2, nothing run; a
 * run that failed or a worker that crashed: its seed named, exit 1).
 */
import { PushqError } from '../core/errors.js';
import { ExperimentArgumentError, SeedRunError, type ExperimentOption, type OptionNamer } from '../experiments/errors.js';
import { judge, parseGoal, type Goal, type GoalOn, type GoalVerdict } from '../experiments/goals.js';
import { coreCount } from '../experiments/pool.js';
import { SEEDS_MAX } from '../experiments/run-seeds.js';
import { formatValueAgainst } from '../experiments/verdict.js';
import type { Scenario } from '../scenario/types.js';
import type { RunReport } from '../simulate/run-report.js';
import { CliUsageError, wholeNumber } from './args.js';
import { EXIT_FAILURE, EXIT_USAGE, type CliIo } from './io.js';
import { counted } from './counted.js';

/** A failed `--assert`. */
export const EXIT_ASSERTION = 3;

function jobs(text: string, flag: string): number {
  const cores = coreCount();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= 1 && n <= cores)) throw new CliUsageError(`${flag} must be a whole number from 1 to ${cores}, the cores of this machine (got "${text}")`);
  return n;
}

function on(text: string, flag: string): GoalOn {
  if (text !== 'every' && text !== 'mean') throw new CliUsageError(`${flag} must be every (every seed's run meets it) or mean (the mean over the seeds does) (got "${text}")`);
  return text;
}

export const SEEDS_FLAG = { type: 'string', value: 'N', parse: wholeNumber(1, SEEDS_MAX), help: `run seeds s, s+1, ..., s+N-1 (s: --seed, else the scenario's, else 1) on worker threads; report each figure's mean, 95% confidence interval, min and max (1..${SEEDS_MAX})` } as const;
export const JOBS_FLAG = { type: 'string', value: 'J', parse: jobs, help: 'worker threads running the seeds (default one per core; at most one per core)' } as const;
export const ASSERT_FLAG = { type: 'string', value: "'FIGURE OP VALUE'", multiple: true, parse: (text: string) => text, help: "a check for CI, repeatable: QUEUE.FIGURE or all.FIGURE, OP one of < <= > >= == !=, a number or a duration ('emails.wait_seconds.p99 <= 30s'); any that fails: exit 3, each printed with its value" } as const;
/** `--on`, for the command's assertions (simulate, compare) or goals (tune). */
export function onFlag(what: 'assertions' | 'goals') {
  return { type: 'string', value: 'every|mean', parse: on, help: `judge the ${what} on every seed's run (default) or on the mean over the seeds` } as const;
}
export const WORKER_MEMORY_FLAG = { type: 'string', value: 'MiB', parse: wholeNumber(16, 1_048_576), help: "each worker thread's heap limit; a run that needs more fails the command, its seed named" } as const;
export const QUIET_FLAG = { type: 'boolean', help: 'no progress line on stderr (it is shown only when stderr is a terminal)' } as const;

/** Parses `--assert`s against the queues that receive tasks in every scenario. */
export function parseAssertions(texts: readonly string[], scenarios: readonly Scenario[]): Goal[] {
  const files = scenarios.map((s) => ({ file: s.file, queues: [...new Set(s.workload.filter((w) => w.count > 0).map((w) => w.queue))] }));
  const anywhere = [...new Set(files.flatMap((f) => f.queues))];
  return texts.map((text) => {
    const goal = parseGoal(text, 'assertions', anywhere);
    // A queue some file lacks (compare): the error names that file.
    const lacking = goal.queue === null ? undefined : files.find((f) => !f.queues.includes(goal.queue as string));
    if (lacking !== undefined) {
      throw new ExperimentArgumentError('assertions', [text], `${lacking.file}: no queue ${goal.queue} receives tasks in this file (queues with tasks: ${lacking.queues.join(', ') || 'none'})`);
    }
    return goal;
  });
}

/** One assertion's outcome, as `--json` gives it. */
export interface AssertionResult {
  assertion: string;
  /** The scenario file (compare), or absent. */
  variant?: string;
  met: boolean;
  queues: { queue: string; value: number | null; met: boolean; missed_by: { seed: number; value: number | null }[] }[];
}

/** Judges every assertion on each set of runs; the failed ones are printed on stderr with their values. */
export function checkAssertions(command: string, goals: readonly Goal[], sets: readonly { variant: string | null; runs: readonly RunReport[] }[], on: GoalOn, io: CliIo): AssertionResult[] {
  const results: AssertionResult[] = [];
  for (const set of sets) {
    for (const goal of goals) {
      const v = judge(goal, set.runs, on);
      results.push({
        assertion: goal.text,
        ...(set.variant === null ? {} : { variant: set.variant }),
        met: v.met,
        queues: v.queues.map((q) => ({ queue: q.queue, value: q.value, met: q.met, missed_by: q.missed_by })),
      });
      if (!v.met) io.stderr(`pushq ${command}: assertion failed: ${set.variant === null ? '' : `${set.variant}: `}${goal.text}: ${missedText(goal, v, set.runs.length, on)}\n`);
    }
  }
  return results;
}

/** A figure's value in a failed assertion (never rounded onto the side it misses): `null` where a run has none (a queue that never drained). */
function valueText(goal: Goal, value: number | null): string {
  return value === null ? 'null' : formatValueAgainst(goal, value);
}

function missedText(goal: Goal, v: GoalVerdict, runs: number, on: GoalOn): string {
  if (v.queues.length === 0) return `no queue has a value for ${goal.figure} (no queue received a task${runs > 1 ? ' in any run' : ''}); all. needs at least one`;
  const failed = v.queues.filter((q) => !q.met);
  const anyNull = failed.some((q) => q.value === null || q.missed_by.some((m) => m.value === null));
  return missedValues(goal, failed, runs, on) + (anyNull ? ` (null: the run has no value, e.g. ${goal.figure === 'drained_at_seconds' ? 'the queue never drained' : 'nothing to measure'}; it meets no goal)` : '');
}

function missedValues(goal: Goal, failed: GoalVerdict['queues'], runs: number, on: GoalOn): string {
  return failed
    .map((q) => {
      if (on === 'mean') return `${q.queue} ${valueText(goal, q.value)} (mean of ${counted(runs, 'run')})`;
      const shown = q.missed_by.slice(0, 5).map((m) => `${valueText(goal, m.value)} at seed ${m.seed}`);
      const more = q.missed_by.length > 5 ? `, …` : '';
      return `${q.queue} ${shown.join(', ')}${more}${runs > 1 ? ` (${q.missed_by.length} of ${runs} runs)` : ''}`;
    })
    .join('; ');
}

/**
 * The flag of each option an experiment checks, and whether its values are quoted (a goal has
 * spaces): the library's errors name its options, the CLI's name these, as they always have.
 * `scenarios` is compare's operands, which the command line never gives fewer than two of.
 */
const FLAGS: Readonly<Record<ExperimentOption, { flag: string; quoted: boolean }>> = {
  scenarios: { flag: 'SCENARIO', quoted: false },
  seeds: { flag: '--seeds', quoted: false },
  firstSeed: { flag: '--seed', quoted: false },
  jobs: { flag: '--jobs', quoted: false },
  'series.resolutionSeconds': { flag: '--resolution', quoted: false },
  vary: { flag: '--vary', quoted: false },
  goals: { flag: '--goal', quoted: true },
  search: { flag: '--search', quoted: false },
  assertions: { flag: '--assert', quoted: true },
};

/** An option as the command line gave it: `--seeds`, `--vary a --vary b`, `--goal 'x <= 1'`. */
export const flagName: OptionNamer = ({ option, values = [] }) => {
  const { flag, quoted } = FLAGS[option];
  return values.length === 0 ? flag : values.map((v) => `${flag} ${quoted ? `'${v}'` : v}`).join(' ');
};

/**
 * Reports an experiment's error and gives the exit status: a bad argument (exit 2, nothing ran),
 * a run that failed or a worker that crashed (exit 1, the seed named, with the command that runs
 * it alone: `rerunFlags` are the flags beside --seed that shaped the run). Anything else is rethrown.
 */
export function reportExperimentError(command: string, error: unknown, io: CliIo, rerunFlags = ''): number {
  if (error instanceof ExperimentArgumentError) {
    io.stderr(`pushq ${command}: ${error.describe(flagName)}; nothing was run\n`);
    return EXIT_USAGE;
  }
  if (error instanceof SeedRunError) {
    const alone = `pushq simulate ${error.file} --seed ${error.seed}${rerunFlags}${error.setting === null ? '' : `, with ${error.setting} in its queue configuration`}`;
    io.stderr(`pushq ${command}: ${error.message} (${error.code}); run it alone with: ${alone}\n`);
    return EXIT_FAILURE;
  }
  if (error instanceof PushqError) {
    io.stderr(`pushq ${command}: the run stopped: ${error.message} (${error.code})\n`);
    return EXIT_FAILURE;
  }
  throw error;
}

/** The live line of many runs on a terminal: runs done of all, threads, wall time; at most 10 updates a second. */
export class RunsProgress {
  private lastMs = 0;
  private drawn = false;
  private readonly startedMs = performance.now();

  constructor(
    private readonly io: CliIo,
    private readonly threads: number,
  ) {}

  readonly onRun = (done: number, total: number): void => {
    const now = performance.now();
    if (now - this.lastMs < 100 && done < total) return;
    this.lastMs = now;
    this.io.stderr(`\r${done}/${total} runs · ${counted(this.threads, 'worker thread')} · ${((now - this.startedMs) / 1000).toFixed(1)}s\x1b[K`);
    this.drawn = true;
  };

  clear(): void {
    if (this.drawn) this.io.stderr('\r\x1b[K');
    this.drawn = false;
  }
}

/** The progress line when stderr is a terminal and --quiet is not given; else null. */
export function runsProgress(io: CliIo, quiet: boolean, threads: number): RunsProgress | null {
  return !quiet && io.stderrIsTerminal === true ? new RunsProgress(io, threads) : null;
}
