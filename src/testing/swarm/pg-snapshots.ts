/**
 * Fold snapshots in the PostgreSQL swarm (pg-run.ts; docs/testing.md, "The crash swarm on
 * PostgreSQL"), through the code a cluster node runs (src/server/stream-snapshots.ts):
 * - each owner keeps the read models a queue's service keeps (observers on its kernel) and a real
 *   `SnapshotWriter` over its log and epoch; the run makes it write at random points (never on
 *   its own timer), sometimes a zombie's (refused once its queue was taken), and a last one at a
 *   clean release (`writeFinal`), and crashes the owner's node around a put: before it reaches the
 *   store, in the middle of its statement (held on the snapshot's row, the connection then ended as
 *   a killed process's: rolled back), or right after it;
 * - a takeover restores as `OwnedQueue.take` does (`readFromSnapshot`, the tail folded onto the
 *   restored state and read models) and the new owner runs from that; the check `snapshot-differs`
 *   holds the restored fold, state AND read models (their snapshot bytes), to a full fold of the
 *   whole stream from scratch: a wrong snapshot, a wrong position or a wrong tail shows there;
 *   and every stored snapshot must be usable (none is ever torn here, and none may cover more
 *   events than the stream holds).
 */
import type { EngineState } from '../../core/state.js';
import type { LogHeader } from '../../log/event-log.js';
import type { EngineEvent } from '../../core/events.js';
import { stateDigest } from '../../log/replay.js';
import { fold } from '../../projections/fold.js';
import { encodeFoldSnapshot } from '../../server/fold-snapshot.js';
import { readFromSnapshot } from '../../server/stream-snapshots.js';
import { newReadModels, projectionsOf, type ReadModels } from '../../server/read-models.js';
import { SwarmCheckFailure } from './checks.js';
import { HeldPosition, SNAPSHOT_PUT } from './pg-cut.js';
import { crashNode, die } from './pg-faults.js';
import type { QueueOwner, SimNode, StreamTrack } from './pg-model.js';
import type { PgSwarmRun } from './pg-run.js';

export interface Restored {
  state: EngineState;
  models: ReadModels;
  /** Position the tail started at (the snapshot's; 0 without one). */
  from: number;
}

/**
 * What a new owner starts from: the stream's latest usable snapshot and the tail folded onto it,
 * checked against `events` (the whole stream, which the caller has checked folds on its own).
 */
export async function restore(run: PgSwarmRun, s: StreamTrack, node: SimNode, header: LogHeader, events: readonly EngineEvent[]): Promise<Restored> {
  let setAside: string | null = null;
  const start = await run.track(readFromSnapshot(node.store, s.stream, header, (line) => void (setAside = line)));
  // Snapshots here are written only by the real writer, never torn (a cut put is rolled back whole),
  // and cover only events already in the stream, which never shrinks: one set aside is a bug.
  if (setAside !== null) throw new SwarmCheckFailure('snapshot-differs', `${s.stream}: its latest snapshot cannot be used: ${setAside}`);
  const models = start.snapshot?.models ?? newReadModels();
  if (start.snapshot === null) {
    const state = fold(start.tail, projectionsOf(models), { misfit: 'assert' }).state;
    return { state, models, from: 0 };
  }
  run.stats.restoredFromSnapshot++;
  run.stats.eventsNotReplayed += start.from;
  let state: EngineState;
  try {
    state = fold(start.tail, projectionsOf(models), { misfit: 'assert', state: start.snapshot.state }).state;
  } catch (err) {
    throw new SwarmCheckFailure('snapshot-differs', `${s.stream}: the ${start.tail.length} events after its snapshot at position ${start.from} do not fold onto it: ${(err as Error).message}`);
  }
  const full = newReadModels();
  const fullState = fold(events, projectionsOf(full), { misfit: 'assert' }).state;
  if (stateDigest(state) !== stateDigest(fullState)) {
    throw new SwarmCheckFailure('snapshot-differs', `${s.stream}: restored from its snapshot at position ${start.from} plus ${start.tail.length} events, the state is not the full fold of its ${events.length} events`);
  }
  const [mine, theirs] = await Promise.all([encodeFoldSnapshot(state, models, header), encodeFoldSnapshot(fullState, full, header)]);
  if (!mine.equals(theirs)) {
    throw new SwarmCheckFailure('snapshot-differs', `${s.stream}: restored from its snapshot at position ${start.from}, the state is the full fold's but the read models are not`);
  }
  return { state, models, from: start.from };
}

/** The owner's writer writes a snapshot now (if it has events past its last); resolves whether one was stored. */
async function writeSnapshot(run: PgSwarmRun, o: QueueOwner): Promise<boolean> {
  const stored = await run.track(o.snapshots.maybeWrite(true));
  if (stored) run.stats.snapshotsWritten++;
  run.note(`${o} snapshot at position ${o.kernel.state.eventsApplied}: ${stored ? 'stored' : o.snapshots.written === 0 && o.fenced !== null ? 'refused (deposed)' : 'not stored'}`);
  return stored;
}

/** The run's snapshot operation: an owner (rarely a zombie) writes one, and its node may crash before, during or after the put. */
export async function snapshotOperation(run: PgSwarmRun): Promise<void> {
  const r = run.rng;
  const live = run.streams.map((s) => s.live).filter((o) => o !== null);
  const zombies = run.zombies();
  if (zombies.length > 0 && (live.length === 0 || r.chance(0.2))) {
    await writeSnapshot(run, r.pick(zombies));
    return;
  }
  if (live.length === 0) return;
  const o = r.pick(live);
  const moment = r.weighted({ plain: 6, 'crash-before': 1, 'crash-during': 2, 'crash-after': 2 });
  if (moment === 'plain') {
    await writeSnapshot(run, o);
  } else if (moment === 'crash-after') {
    const stored = await writeSnapshot(run, o);
    run.stats.snapshotCrashesAfter++;
    await crashNode(run, o.node, stored ? ' right after its snapshot was stored' : ' after a snapshot that was not stored');
  } else if (moment === 'crash-before') {
    // The snapshot is read (encoded) and on its way; the process dies before it reaches the store.
    const writing = run.track(o.snapshots.maybeWrite(true));
    run.stats.snapshotCrashesBefore++;
    die(run, o.node, ` with ${o}'s snapshot at position ${o.kernel.state.eventsApplied} on its way`);
    const closed = o.node.store.close().catch(() => undefined);
    if (await writing) throw new SwarmCheckFailure('engine-error', `${o}'s snapshot was stored after its node's store was closed`);
    await closed;
    await run.settle();
  } else {
    await crashDuringPut(run, o);
  }
}

/** The node dies in the middle of the put's statement (held on the snapshot row): the server rolls it back. */
async function crashDuringPut(run: PgSwarmRun, o: QueueOwner): Promise<void> {
  // A put is sent only for events past the last snapshot, by an owner the store still takes.
  if (o.kernel.state.eventsApplied <= o.snapshots.lastPosition || o.fenced !== null) {
    await writeSnapshot(run, o);
    return;
  }
  const held = await HeldPosition.snapshotRow(run.url, o.stream.stream);
  try {
    const writing = run.track(o.snapshots.maybeWrite(true));
    const pid = await held.waiting(o.node.name, SNAPSHOT_PUT);
    run.stats.snapshotCrashesDuring++;
    die(run, o.node, ` in the middle of ${o}'s snapshot put (position ${o.kernel.state.eventsApplied})`);
    await held.terminate(pid);
    if (await writing) throw new SwarmCheckFailure('engine-error', `${o}'s snapshot put was cut, yet the writer says it was stored`);
  } finally {
    await held.release();
  }
  await run.settle();
  await o.node.store.close().catch(() => undefined);
}
