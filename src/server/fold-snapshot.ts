/**
 * The fold snapshot: a queue service's whole folded state at a position of its stream, the engine
 * state AND every read model the service keeps (ReadModels: the attempt history the Cloud Tasks API
 * shows, dispatch counters, statistics, insight series, waits, failure reasons, markers), so a new
 * owner restores it and folds only the events after it, and ends exactly where a full replay ends
 * (test/server/fold-snapshot.test.ts compares both, deeply, at many cut points).
 *
 * Layout (a versioned format of its own; the event log's format is not touched):
 *
 *   4 bytes   "PQFS"
 *   4 bytes   u32 LE: length of the head
 *   head      JSON: format, version, pushqVersion, position (events covered), log (the stream's
 *             header, as the log format writes it), graphBytes, bodyBytes, bodyCrc32
 *   body      the graph { state, models } (src/log/graph-codec.ts), raw DEFLATE (level 1: a
 *             200,000-event queue's 5.3 MB graph becomes 1.6 MB, which PostgreSQL sends 3× faster)
 *
 * Reading checks, in order, each a SnapshotError with a stable code: the magic and head parse and
 * the body's length and CRC (SNAPSHOT_UNREADABLE); the format version and the pushq version
 * (SNAPSHOT_OTHER_VERSION: the body is the in-memory shape of this pushq's classes, so a snapshot
 * is read only by the pushq that wrote it; another replays the whole stream once and writes its
 * own); the stream's header and the position (SNAPSHOT_OTHER_LOG). A caller that gets any of them
 * replays the whole stream: a snapshot is only ever a shortcut, never a second source of truth.
 */
import { TaskTable } from '../core/task-table.js';
import { ReadyHeap } from '../core/ready-heap.js';
import { createEngineState, type EngineState } from '../core/state.js';
import { promisify } from 'node:util';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import { crc32 } from '../log/crc32.js';
import type { LogHeader } from '../log/event-log.js';
import { GraphDecodeError, GraphShapeError, decodeGraph, encodeGraph, type ClassRegistry } from '../log/graph-codec.js';
import { encodeHeader } from '../log/log-format.js';
import { AttemptHistory } from '../projections/attempt-history.js';
import { DispatchCounters, QueueCounters } from '../projections/dispatch-counters.js';
import { FailureReasons } from '../projections/failure-reasons.js';
import { LogHistogram } from '../projections/histogram.js';
import { InsightProjection } from '../projections/insight.js';
import { EtaHeap, QueueReadiness, ReadinessTracker } from '../projections/ready-tracker.js';
import { QueueColumns, SeriesRecorder } from '../projections/series.js';
import { QueueAccumulator, StatsCollector } from '../projections/stats.js';
import { TaskWaits } from '../projections/task-waits.js';
import { TimelineMarkers } from '../projections/timeline-markers.js';
import { PUSHQ_VERSION } from '../version.js';
import { newReadModels, type ReadModels } from './read-models.js';

const FOLD_SNAPSHOT_FORMAT = 'pushq-fold-snapshot';
/**
 * Raised whenever a registered class's fields change shape, since the graph codec rebuilds
 * instances field by field: 2 since QueueColumns keeps typed-array columns (a version-1 snapshot
 * is refused, and the stream is folded from its start instead); 3 since the task table holds the
 * tasks from a `base` id on and can release ended tasks (task-table.ts); 4 since the insight
 * projection keeps each queue's backlog at its latest instant (backlog_max counts instants' ends);
 * 5 since it knows whether it records the series (`keepSeries`: a run may keep none); 6 since
 * QueueColumns keeps no columns while its rows are quiet and the series recorder keeps the rows'
 * times once for every queue; 7 since a queue's readiness counts a sixth hold cause (`not_running`)
 * and keeps the latest span pushq was not running (ServiceStarted); 8 since the attempt history
 * keeps each queue's last test reset (`resetAt`).
 */
export const FOLD_SNAPSHOT_VERSION = 8;
const MAGIC = Buffer.from('PQFS', 'latin1');

/**
 * Every class whose instances the state and the read models hold, by a name that is part of the
 * format. A class missing here cannot be written (encodeFoldSnapshot throws an AssertionError);
 * the snapshot tests encode a fold of every event type, so a new one shows up there.
 */
export const FOLD_SNAPSHOT_CLASSES: ClassRegistry = {
  TaskTable,
  ReadyHeap,
  AttemptHistory,
  DispatchCounters,
  QueueCounters,
  FailureReasons,
  LogHistogram,
  InsightProjection,
  ReadinessTracker,
  QueueReadiness,
  EtaHeap,
  SeriesRecorder,
  QueueColumns,
  StatsCollector,
  QueueAccumulator,
  TaskWaits,
  TimelineMarkers,
};

export type SnapshotErrorCode =
  /** The bytes are not a fold snapshot (torn, corrupt, or not one at all). */
  | 'SNAPSHOT_UNREADABLE'
  /** Written by another snapshot format version or another pushq version. */
  | 'SNAPSHOT_OTHER_VERSION'
  /** Taken of another log (another stream header) or at a position the stream does not have. */
  | 'SNAPSHOT_OTHER_LOG';

export class SnapshotError extends Error {
  override name = 'SnapshotError';
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Head {
  format: string;
  version: number;
  pushqVersion: string;
  position: number;
  log: string;
  graphBytes: number;
  bodyBytes: number;
  bodyCrc32: number;
}

/** A restored fold: the state and read models after the stream's first `position` events. */
export interface FoldSnapshot {
  state: EngineState;
  models: ReadModels;
  position: number;
}

const deflateRawAsync = promisify(deflateRaw);

/**
 * The snapshot of a fold of a stream with header `log`: `state` and `models` after its first
 * `state.eventsApplied` events (the position). The fold is read in full before this returns (so it
 * may move on right after); only the compression runs later, on libuv's thread pool, off the event loop.
 */
export function encodeFoldSnapshot(state: EngineState, models: ReadModels, log: LogHeader): Promise<Buffer> {
  const graph = encodeGraph({ state, models }, FOLD_SNAPSHOT_CLASSES);
  const position = state.eventsApplied;
  return deflateRawAsync(graph, { level: 1 }).then((body) => {
    const head: Head = {
      format: FOLD_SNAPSHOT_FORMAT,
      version: FOLD_SNAPSHOT_VERSION,
      pushqVersion: PUSHQ_VERSION,
      position,
      log: encodeHeader(log),
      graphBytes: graph.length,
      bodyBytes: body.length,
      bodyCrc32: crc32(body),
    };
    const headBytes = Buffer.from(JSON.stringify(head), 'utf8');
    const size = Buffer.allocUnsafe(4);
    size.writeUInt32LE(headBytes.length);
    return Buffer.concat([MAGIC, size, headBytes, body]);
  });
}

/** The position a snapshot covers, from its head alone (no body decoded). Throws SnapshotError. */
export function snapshotPosition(bytes: Buffer): number {
  return readHead(bytes).head.position;
}

function readHead(bytes: Buffer): { head: Head; body: Buffer } {
  if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAGIC)) throw new SnapshotError('SNAPSHOT_UNREADABLE', 'not a pushq fold snapshot (no PQFS magic)');
  const headLength = bytes.readUInt32LE(4);
  if (8 + headLength > bytes.length) throw new SnapshotError('SNAPSHOT_UNREADABLE', `its head (${headLength} bytes) runs past its end (${bytes.length} bytes)`);
  let head: Head;
  try {
    head = JSON.parse(bytes.toString('utf8', 8, 8 + headLength)) as Head;
  } catch {
    throw new SnapshotError('SNAPSHOT_UNREADABLE', 'its head is not JSON');
  }
  if (head?.format !== FOLD_SNAPSHOT_FORMAT) throw new SnapshotError('SNAPSHOT_UNREADABLE', `its head names format ${JSON.stringify(head?.format)}, not ${FOLD_SNAPSHOT_FORMAT}`);
  if (head.version !== FOLD_SNAPSHOT_VERSION) throw new SnapshotError('SNAPSHOT_OTHER_VERSION', `snapshot format version ${head.version}; this pushq reads version ${FOLD_SNAPSHOT_VERSION}`);
  if (head.pushqVersion !== PUSHQ_VERSION) throw new SnapshotError('SNAPSHOT_OTHER_VERSION', `written by pushq ${head.pushqVersion}; this is pushq ${PUSHQ_VERSION}`);
  if (!Number.isSafeInteger(head.position) || head.position < 0) throw new SnapshotError('SNAPSHOT_UNREADABLE', `position ${String(head.position)} is not a count of events`);
  const body = bytes.subarray(8 + headLength);
  if (body.length !== head.bodyBytes) throw new SnapshotError('SNAPSHOT_UNREADABLE', `its body has ${body.length} bytes, its head says ${head.bodyBytes} (torn)`);
  if (crc32(body) !== head.bodyCrc32) throw new SnapshotError('SNAPSHOT_UNREADABLE', 'its body fails its CRC-32 (corrupt)');
  return { head, body };
}

/**
 * The fold a snapshot holds, for a stream whose header is `log` and which has `streamLength`
 * events. Fresh objects throughout (the read models' functions bound to them). Throws SnapshotError.
 */
export function decodeFoldSnapshot(bytes: Buffer, log: LogHeader, streamLength: number): FoldSnapshot {
  const { head, body } = readHead(bytes);
  if (head.log !== encodeHeader(log)) throw new SnapshotError('SNAPSHOT_OTHER_LOG', `taken of a log with header ${head.log}; this stream's is ${encodeHeader(log)}`);
  if (head.position > streamLength) throw new SnapshotError('SNAPSHOT_OTHER_LOG', `it covers ${head.position} events; the stream has ${streamLength}`);
  let graph: Buffer;
  try {
    graph = inflateRawSync(body, { maxOutputLength: head.graphBytes });
  } catch (err) {
    throw new SnapshotError('SNAPSHOT_UNREADABLE', `its body does not inflate to ${head.graphBytes} bytes: ${(err as Error).message}`);
  }
  if (graph.length !== head.graphBytes) throw new SnapshotError('SNAPSHOT_UNREADABLE', `its body inflates to ${graph.length} bytes, its head says ${head.graphBytes}`);
  let root: { state: EngineState; models: ReadModels };
  try {
    root = decodeGraph(graph, FOLD_SNAPSHOT_CLASSES, { state: createEngineState(), models: newReadModels() });
  } catch (err) {
    if (err instanceof GraphShapeError) throw new SnapshotError('SNAPSHOT_OTHER_VERSION', `its objects are shaped otherwise than this pushq's: ${err.message}`);
    // A RangeError (nesting too deep) or any other failure on bytes that passed the CRC: still unreadable.
    throw new SnapshotError('SNAPSHOT_UNREADABLE', err instanceof GraphDecodeError ? err.message : `its body does not decode: ${(err as Error).message}`);
  }
  if (root?.state?.eventsApplied !== head.position) throw new SnapshotError('SNAPSHOT_UNREADABLE', `its state has applied ${String(root?.state?.eventsApplied)} events, its head says ${head.position}`);
  return { state: root.state, models: root.models, position: head.position };
}
