/**
 * A command's output files, before and after its run.
 *
 * Before: two outputs of one command that name the same file, or an output that names an input:
 * the later write would silently replace the earlier file (a report over the series CSV, a log
 * over the scenario or over the queue.yaml it reads). Refused before anything runs, as the other
 * path checks are. Paths are compared resolved to absolute form, so `out.csv` and
 * `./dir/../out.csv` are one file, and an existing file is known by its identity, whatever links
 * lead to it (sameFile).
 *
 * After: an output that cannot be written once the run is done (writeOutput).
 */
import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { ReportPathError } from '../simulate/report/write.js';
import type { Scenario } from '../scenario/types.js';
import type { CliIo } from './io.js';

type Named = readonly [name: string, path: string | undefined];

/**
 * The files a scenario is read from, which no output may name: the scenario file and the queue
 * file its `queue_yaml` names (a `--log queue.yaml` beside the scenario replaced the app's real
 * queue.yaml with an event log).
 */
export function scenarioInputs(file: string, scenario: Scenario): Named[] {
  const inputs: Named[] = [['scenario file', file]];
  if (scenario.queueSource.kind === 'queue_yaml') inputs.push([`queue file ${file} reads (queue_yaml)`, scenario.queueSource.path]);
  return inputs;
}

/** The problem as one line (without the command's prefix), or null when every path is its own. */
export function sharedPathProblem(outputs: readonly Named[], inputs: readonly Named[]): string | null {
  const given = outputs.filter((o): o is readonly [string, string] => o[1] !== undefined);
  for (const [i, [flag, path]] of given.entries()) {
    const absolute = resolve(path);
    for (const [otherFlag, otherPath] of given.slice(i + 1)) {
      if (sameFile(otherPath, path)) return `${flag} ${path} and ${otherFlag} ${otherPath} name the same file (${absolute}): one would overwrite the other; give each its own path`;
    }
    for (const [what, input] of inputs) {
      if (input !== undefined && sameFile(input, path)) return `${flag} ${path} is the ${what} (${absolute}): writing it would overwrite it; give ${flag} another path`;
    }
  }
  return null;
}

/**
 * Whether two paths name one file: the same once resolved, or one existing regular file by two
 * names (a link to it or to a directory on its way, a hard link; /dev/stdout and /dev/stderr on
 * one terminal are not "one file"). Compared by name only, a snapshot written through a link to
 * the log's directory was renamed over the log, which was lost.
 */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const x = existingFile(a);
  const y = x === undefined ? undefined : existingFile(b);
  return x !== undefined && y !== undefined && x.isFile() && x.dev === y.dev && x.ino === y.ino;
}

/**
 * The file at `path`, or undefined when none can be seen there: missing, or a stat that failed
 * otherwise (a regular file on its way, ENOTDIR; a directory not searchable, EACCES). Such a path
 * is no existing file; whether it can be written is the outputs' own check, which names why not.
 */
function existingFile(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Writes one output of `pushq simulate` after its run(s). A path that passed the check before the
 * run but cannot be written now (made immutable, its directory removed, the disk full meanwhile)
 * is the same error as an unwritable path found before: one line naming the flag (the caller
 * exits 2), not an internal error. Returns false when it was refused.
 */
export async function writeOutput(flag: '--log' | '--series' | '--report', path: string, write: () => Promise<void>, io: CliIo): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (!(error instanceof ReportPathError)) throw error;
    io.stderr(`pushq simulate: ${flag} ${path}: cannot be written: ${error.reason}\n`);
    return false;
  }
}
