/**
 * Writing the report: all or nothing. The page goes to a temporary file beside the target, which
 * is then renamed over it (one step on the same file system), so a failed or interrupted write
 * leaves no half-written report and the previous file, if any, stays whole. Every output of
 * `pushq simulate` is written so, its event log too (written over the run into `tempPathBeside`
 * of src/log/atomic-file.ts, then `moveIntoPlace`): each is a new file, so whatever is at the path
 * is replaced, never written through. A symlink there is replaced, not followed (a link planted in
 * a shared directory cannot aim a run at another file), a file's other hard links keep their
 * content, and the file has the mode a new one gets (an overwritten log is its owner's alone, as
 * a new log: LOG_FILE_MODE).
 *
 * `checkReportPath` runs the same steps with an empty file before a run, so a path that cannot be
 * written is refused before minutes of simulation are spent (issue: "checked before the run starts").
 */
import { DirectorySyncError } from '../../log/sync-directory.js';
import { rename, stat, writeFile } from 'node:fs/promises';
import { discardTemp, tempPathBeside } from '../../log/atomic-file.js';
import type { ReportInput } from './input.js';
import { renderReport } from './render.js';

/** The report cannot be written at the path given; `reason` is the system's (e.g. ENOENT, EACCES). */
export class ReportPathError extends Error {
  override name = 'ReportPathError';
  readonly code = 'REPORT_PATH_UNWRITABLE';
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write the report ${path}: ${reason}`, options);
  }
}

/** Renders the report and writes it to `path` atomically (temp file, then rename). */
export async function writeReportFile(path: string, input: ReportInput): Promise<void> {
  await writeFileAtomically(path, renderReport(input));
}

/** Writes `text` to `path` atomically (temp file, then rename): any output of `pushq simulate`. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await refuseDirectory(path);
  const temp = tempPathBeside(path);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    discardTemp(temp);
    throw asPathError(path, error);
  }
}

/** Throws ReportPathError when `path` cannot be written; writes nothing that stays. */
export async function checkReportPath(path: string): Promise<void> {
  await refuseDirectory(path);
  const temp = tempPathBeside(path);
  try {
    await writeFile(temp, '', { flag: 'wx' });
  } catch (error) {
    throw asPathError(path, error);
  } finally {
    discardTemp(temp);
  }
}

/**
 * Moves a finished temporary file (from `tempPathBeside`) over `path`, for an output written over
 * time rather than at once. On failure the temporary file is removed and the error is the
 * ReportPathError a write would give.
 */
export async function moveIntoPlace(temp: string, path: string): Promise<void> {
  try {
    await refuseDirectory(path);
    await rename(temp, path);
  } catch (error) {
    discardTemp(temp);
    throw asPathError(path, error);
  }
}

async function refuseDirectory(path: string): Promise<void> {
  const found = await stat(path).catch(() => null);
  if (found?.isDirectory()) throw new ReportPathError(path, 'it is a directory');
}

function asPathError(path: string, error: unknown): ReportPathError {
  if (error instanceof ReportPathError) return error;
  return new ReportPathError(path, writeFailure(error), { cause: error });
}

/** Why a file could not be written, in the words of every "cannot be written" message (pushq simulate's outputs, pushq replay --write-snapshot). */
export function writeFailure(error: unknown): string {
  // The file is in place, and may come back old after a crash: 'EIO' alone would say it was not written.
  if (error instanceof DirectorySyncError) return `written, but its directory could not be synced (${error.code}): it may not survive a crash`;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? describe(code) : error instanceof Error ? error.message : String(error);
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  ENOSPC: 'no space left on the device',
};

function describe(code: string): string {
  const text = REASONS[code];
  return text === undefined ? code : `${text} (${code})`;
}
