/**
 * The experiments' errors, typed with stable codes (docs/errors.md, Experiments):
 * - `EXPERIMENT_ARGUMENT`: a seed count, a job count, a `--vary`, a goal or an assertion is not
 *   valid for this scenario; `argument` names it. Raised before anything runs.
 * - `RUN_FAILED`: one seed's run stopped with an error; `seed` names it, to reproduce it alone
 *   (`pushq simulate SCENARIO --seed N`).
 * - `WORKER_CRASHED`: the worker thread running a seed died (an uncaught error, its memory limit);
 *   `seed` names the run it was doing.
 */
export type ExperimentErrorCode = 'EXPERIMENT_ARGUMENT' | 'RUN_FAILED' | 'WORKER_CRASHED';

export class ExperimentArgumentError extends Error {
  override name = 'ExperimentArgumentError';
  readonly code: ExperimentErrorCode = 'EXPERIMENT_ARGUMENT';
  constructor(
    /** The argument at fault, as the user wrote its flag or field: `--seeds`, `--vary emails.rate=…`. */
    readonly argument: string,
    /** What is wrong with it (the message without the argument). */
    readonly detail: string,
  ) {
    super(`${argument}: ${detail}`);
  }
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
