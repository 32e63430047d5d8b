/**
 * `pushq replay LOG --write-snapshot FILE [--snapshot OLD] [--repair]`: writes a snapshot of the
 * log at its last complete batch, for a later `pushq replay LOG --snapshot FILE` to start from
 * (docs/replay.md, Snapshots). The state is folded from the whole log, or from OLD plus the events
 * after it (refreshing a snapshot costs only the new events). The file is written atomically
 * (src/log/atomic-file.ts): a crash leaves the snapshot that was there, or none, never half of one.
 */
import { foldLogFile } from '../log/replay.js';
import { loadWithSnapshot, writeSnapshotFile, type LoadedState } from '../log/snapshot.js';
import { writeFailure } from '../simulate/report/write.js';
import { DirectorySyncError } from '../log/sync-directory.js';
import { counted } from './counted.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { droppedWarning } from './replay-at.js';

export interface WriteSnapshotArgs {
  log: string;
  /** Where to write the snapshot. */
  file: string;
  /** A snapshot of this log to start from (may be `file` itself). */
  snapshot: string | undefined;
  repair: boolean;
}

export function writeReplaySnapshot(a: WriteSnapshotArgs, io: CliIo): number {
  const loaded: LoadedState =
    a.snapshot === undefined ? fullFold(a.log, a.repair) : loadWithSnapshot(a.snapshot, a.log, { repair: a.repair });
  const warning = droppedWarning(a.log, loaded.recovered);
  if (warning !== null) io.stderr(warning);
  try {
    writeSnapshotFile(a.file, a.log, loaded.header, loaded.state, loaded.end);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    io.stderr(`pushq replay: --write-snapshot ${a.file}: ${error instanceof DirectorySyncError ? '' : 'cannot be written: '}${writeFailure(error)}\n`);
    return EXIT_FAILURE;
  }
  const from = a.snapshot === undefined ? '' : `, ${loaded.tailEvents} replayed after ${a.snapshot}`;
  io.stdout(`${a.log}: snapshot of ${counted(loaded.end.events, 'event')} (the log's first ${counted(loaded.end.offset, 'byte')}${from}) written to ${a.file}\n`);
  return EXIT_OK;
}

function fullFold(log: string, repair: boolean): LoadedState {
  const { fold, scan } = foldLogFile(log, [], repair ? { repair: true } : {});
  return { state: fold.state, header: scan.header, end: scan.end, recovered: scan.recovered, tailEvents: fold.events };
}
