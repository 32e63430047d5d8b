/**
 * The experiments' errors, typed with stable codes (docs/errors.md, Experiments):
 * - `EXPERIMENT_ARGUMENT`: a seed count, a job count, a `vary` range, a goal or an assertion is not
 *   valid for this scenario; `option` names the library option at fault and `values` the values
 *   of it at fault, as given. Raised before anything runs.
 * - `RUN_FAILED`: one seed's run stopped with an error; `seed` names it, to reproduce it alone
 *   (`pushq simulate SCENARIO --seed N`).
 * - `WORKER_CRASHED`: the worker thread running a seed died (an uncaught error, its memory limit);
 *   `seed` names the run it was doing.
 *
 * The library is called with options and the CLI with flags, so an argument error holds the
 * option, not a name of it: the message names the library's option (`seeds`), and each front end
 * renders the error in its own words with `describe` (the CLI: `--seeds`, src/cli/experiment-cli.ts),
 * as SeriesTooLongError carries its resolution and the CLI names `--resolution`.
 */
export type ExperimentErrorCode = 'EXPERIMENT_ARGUMENT' | 'RUN_FAILED' | 'WORKER_CRASHED';

/**
 * An input an experiment checks: the options of `runSeeds`, `compare` and `tune` (`scenarios`
 * is `compare`'s first argument), and `assertions`, goals that `parseGoal` reads for a front end's
 * own checks (the CLI's `--assert`).
 */
export type ExperimentOption = 'scenarios' | 'seeds' | 'firstSeed' | 'jobs' | 'series.resolutionSeconds' | 'vary' | 'goals' | 'search' | 'assertions';

/** An option, and the values of it meant (none: the option as a whole), as given. */
export interface OptionRef {
  option: ExperimentOption;
  values?: readonly string[];
}

/** How a front end names an option and its values: the library's words are `libraryName`. */
export type OptionNamer = (ref: OptionRef) => string;

/** The library's words: the option's name, then each value meant as a JSON string (`vary "q.rate=1..501"`). */
export const libraryName: OptionNamer = ({ option, values = [] }) => (values.length === 0 ? option : `${option} ${values.map((v) => JSON.stringify(v)).join(', ')}`);

/** What is wrong, as text and references to options, which the front end names (`a directive `, {vary}, ` takes`). */
export type ArgumentDetail = readonly (string | OptionRef)[];

export class ExperimentArgumentError extends Error {
  override name = 'ExperimentArgumentError';
  readonly code: ExperimentErrorCode = 'EXPERIMENT_ARGUMENT';
  /** The values of `option` at fault, as given; empty when the option as a whole is. */
  readonly values: readonly string[];
  /** The argument at fault in the library's words: `seeds`, `vary "emails.rate=5/s..600/s"`. */
  readonly argument: string;
  /** What is wrong with it in the library's words (the message without the argument). */
  readonly detail: string;

  constructor(
    /** The option at fault. */
    readonly option: ExperimentOption,
    values: readonly string[],
    /** What is wrong, as parts; a plain string when it names no option. */
    readonly detailParts: ArgumentDetail | string,
  ) {
    const argument = libraryName({ option, values });
    const detail = renderDetail(detailParts, libraryName);
    super(`${argument}: ${detail}`);
    this.values = values;
    this.argument = argument;
    this.detail = detail;
  }

  /** The message in a front end's words: `--vary q.rate=1..501: …` for the CLI. */
  describe(name: OptionNamer): string {
    return `${name({ option: this.option, values: this.values })}: ${renderDetail(this.detailParts, name)}`;
  }
}

function renderDetail(parts: ArgumentDetail | string, name: OptionNamer): string {
  return typeof parts === 'string' ? parts : parts.map((p) => (typeof p === 'string' ? p : name(p))).join('');
}

export class SeedRunError extends Error {
  override name = 'SeedRunError';
  constructor(
    readonly code: Exclude<ExperimentErrorCode, 'EXPERIMENT_ARGUMENT'>,
    readonly seed: number,
    /** The scenario file of the run. */
    readonly file: string,
    /** The setting `tune` was running (`emails.rate=16/s`), or null. */
    readonly setting: string | null,
    readonly reason: string,
    /** RUN_FAILED: the code of the error the run stopped with (`SERIES_TOO_LONG`), or null. */
    readonly runCode: string | null = null,
  ) {
    super(`${code === 'WORKER_CRASHED' ? 'the worker thread running' : 'the run of'} seed ${seed} (${file}${setting === null ? '' : ` with ${setting}`}) ${code === 'WORKER_CRASHED' ? 'crashed' : 'stopped'}: ${reason}`);
  }
}
