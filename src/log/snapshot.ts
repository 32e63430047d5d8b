/**
 * Snapshots: the whole engine state at a log position, so loading a big log does not replay it
 * from the start. Loading = snapshot + the events after its position, and gives exactly the
 * state a full replay gives (spec: snapshot at any batch + tail has the same `stateLines`).
 *
 * File layout:
 *   line 1   JSON: format, version, the log's header, the position (byte offset, batch, event
 *            count, next line), sha256 of the log's bytes before the position, the cold state
 *            (config, settings, counters, queues, sparse task meta) and the list of task columns
 *   then     the task table's columns as raw little-endian bytes, `count` entries each, in the
 *            listed order
 *
 * A snapshot is tied to one log: loading checks the log's header line and the prefix hash, so a
 * snapshot cannot be applied to a different or rewritten log (SNAPSHOT_INVALID). Each queue's
 * ready heap is rebuilt from its pending tasks: the heap's order is a total order on (eta, id),
 * so the rebuilt heap yields the same tasks in the same order; stale entries are not carried.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { EngineSettings } from '../core/events.js';
import { readFailure } from '../core/read-failure.js';
import { createEngineState, type EngineState, type QueueRuntime } from '../core/state.js';
import { TASK_STATES, TaskState } from '../core/task-machine.js';
import type { TaskMeta, TaskTable } from '../core/task-table.js';
import type { TokenBucket } from '../core/token-bucket.js';
import { ReadyHeap } from '../core/ready-heap.js';
import { retryPolicyFrom } from '../core/retry-policy.js';
import type { QueueConfig, QueueFileConfig } from '../core/queue-config.js';
import { writeFileAtomicallySync } from './atomic-file.js';
import type { LogHeader } from './event-log.js';
import { encodeHeader } from './log-format.js';
import { LogError } from './log-errors.js';
import type { LogPosition, Recovered } from './log-reader.js';
import { foldLogFile } from './replay.js';

const SNAPSHOT_FORMAT = 'pushq-snapshot';
/**
 * 2: the attempts column is named `dispatchCount` (version 1 called it `retryCount`; both read).
 * 3: adds the `retryReason` column (older snapshots read with it all zero: no retry reason known).
 *    Later version 3 snapshots also carry each queue's `generatedNamesFrom` (the first task id whose
 *    generated name a test reset left alone); one without it was written before resets freed
 *    generated names, and is read by loadWithSnapshot (namesFromUnknown).
 */
export const SNAPSHOT_VERSION = 3;

const COLUMNS = ['state', 'queue', 'eta', 'addedAt', 'firstAttemptAt', 'endedAt', 'dispatchCount', 'executionCount', 'lastStatus', 'endReason', 'size', 'attemptOpen', 'retryReason'] as const;
type Column = (typeof COLUMNS)[number];

/** A column name in a snapshot file → the table's column (undefined: not a column of this pushq). */
function columnNamed(name: string): Column | undefined {
  if (name === 'retryCount') return 'dispatchCount';
  return (COLUMNS as readonly string[]).includes(name) ? (name as Column) : undefined;
}

interface QueueRecord {
  name: string;
  config: QueueConfig;
  paused: boolean;
  disabled: boolean;
  bucket: TokenBucket | null;
  maxConcurrent: number;
  inFlight: number;
  names: [string, number][];
  /** Absent in a snapshot from before test resets forgot generated names: 0 unless the log has a reset before the snapshot (loadWithSnapshot). */
  generatedNamesFrom?: number;
  countByState: number[];
}

interface SnapshotHead {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  log: LogHeader;
  position: LogPosition;
  prefixSha256: string;
  config: QueueFileConfig | null;
  settings: EngineSettings;
  storageBytes: number;
  lastEventAt: number;
  eventsApplied: number;
  queues: QueueRecord[];
  taskCount: number;
  meta: [number, TaskMeta][];
  columns: { name: Column; bytes: number }[];
}

/** sha256 (hex) of the first `bytes` bytes of a file. */
function filePrefixSha256(path: string, bytes: number): string {
  const h = createHash('sha256');
  readPrefix(path, bytes, (chunk) => h.update(chunk));
  return h.digest('hex');
}

/** The log's first `bytes` bytes, in chunks, to `onChunk` (a chunk's buffer is reused after the call). */
function readPrefix(path: string, bytes: number, onChunk: (chunk: Buffer) => void): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(bytes, 1)));
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, bytes - done), done);
      if (n === 0) throw new LogError('SNAPSHOT_INVALID', `${path}: shorter than the snapshot's position (${bytes} bytes)`, { file: path });
      onChunk(chunk.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A test reset's mark in a log line (codec.ts writes the flag so, in both format versions); inside
 * a JSON string its quotes would be escaped, so a payload cannot hold it. (A false alarm would only
 * cost a replay from the start.)
 */
const RESET_MARK = Buffer.from('"forgetNames":true');

/** Whether the log's first `bytes` bytes hold a test reset (QueuePurged forgetNames). */
function prefixHoldsReset(path: string, bytes: number): boolean {
  let found = false;
  let carry = Buffer.alloc(0);
  readPrefix(path, bytes, (chunk) => {
    if (found) return;
    // The mark may straddle two chunks: search the previous chunk's tail with this one.
    const joined = Buffer.concat([carry, chunk]);
    found = joined.includes(RESET_MARK);
    carry = Buffer.from(joined.subarray(Math.max(0, joined.length - RESET_MARK.length + 1)));
  });
  return found;
}

/** The snapshot of `state`, which must be the state after the log's first `position.events` events. */
export function encodeSnapshot(state: EngineState, log: LogHeader, position: LogPosition, prefixSha256: string): Buffer {
  const t = state.tasks;
  // Rows are written from id 0: a table that released ended tasks has lost some (task-table.ts).
  if (t.releaseEnded) {
    throw new LogError('SNAPSHOT_STATE_INCOMPLETE', 'this state released its ended tasks (a simulation with a log of its own keeps only live tasks): snapshot the state that replaying its log gives, or create the simulation with keepEndedTasks: true');
  }
  const n = t.count;
  const parts: Buffer[] = [];
  const columns: { name: Column; bytes: number }[] = [];
  for (const name of COLUMNS) {
    const a = t[name];
    const b = Buffer.from(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT);
    parts.push(b);
    columns.push({ name, bytes: b.length });
  }
  const meta: [number, TaskMeta][] = [];
  for (let id = 0; id < n; id++) {
    const m = t.meta[id];
    if (m !== undefined) meta.push([id, m]);
  }
  const head: SnapshotHead = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    log,
    position,
    prefixSha256,
    config: state.config,
    settings: state.settings,
    storageBytes: state.storageBytes,
    lastEventAt: state.lastEventAt,
    eventsApplied: state.eventsApplied,
    queues: state.queues.map((q) => ({
      name: q.name,
      config: q.config,
      paused: q.paused,
      disabled: q.disabled,
      bucket: q.bucket,
      maxConcurrent: q.maxConcurrent,
      inFlight: q.inFlight,
      names: [...q.names],
      generatedNamesFrom: q.generatedNamesFrom,
      countByState: Array.from(q.countByState),
    })),
    taskCount: n,
    meta,
    columns,
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`, 'utf8'), ...parts]);
}

/** Rebuilds the state a snapshot holds. */
export function decodeSnapshot(bytes: Buffer, file = 'snapshot'): { state: EngineState; log: LogHeader; position: LogPosition; prefixSha256: string; namesFromUnknown: boolean } {
  const nl = bytes.indexOf(0x0a);
  let head: SnapshotHead;
  try {
    head = JSON.parse(bytes.toString('utf8', 0, nl < 0 ? bytes.length : nl)) as SnapshotHead;
  } catch {
    throw new LogError('SNAPSHOT_INVALID', `${file}: not a pushq snapshot`, { file });
  }
  if (head?.format !== SNAPSHOT_FORMAT) throw new LogError('SNAPSHOT_INVALID', `${file}: not a pushq snapshot`, { file });
  if (head.version > SNAPSHOT_VERSION) throw new LogError('SNAPSHOT_INVALID', `${file}: snapshot format version ${head.version} is newer than this pushq (${SNAPSHOT_VERSION})`, { file });
  const n = head.taskCount;
  const state = createEngineState(Math.max(1024, n));
  const t = state.tasks;
  let off = nl + 1;
  for (const c of head.columns) {
    const column = columnNamed(c.name);
    if (column === undefined) throw new LogError('SNAPSHOT_INVALID', `${file}: unknown column ${JSON.stringify(c.name)}`, { file });
    const a = t[column];
    if (c.bytes !== n * a.BYTES_PER_ELEMENT || off + c.bytes > bytes.length) throw new LogError('SNAPSHOT_INVALID', `${file}: column ${c.name} has the wrong size`, { file });
    // Copy through a Uint8Array view: the source offset need not be aligned.
    new Uint8Array(a.buffer, a.byteOffset, c.bytes).set(bytes.subarray(off, off + c.bytes));
    off += c.bytes;
  }
  if (off !== bytes.length) throw new LogError('SNAPSHOT_INVALID', `${file}: ${bytes.length - off} unexpected bytes after the task columns`, { file });
  t.count = n;
  for (const [id, m] of head.meta) t.meta[id] = m;
  state.config = head.config;
  state.settings = head.settings;
  state.storageBytes = head.storageBytes;
  state.lastEventAt = head.lastEventAt;
  state.eventsApplied = head.eventsApplied;
  for (const r of head.queues) {
    const q: QueueRuntime = {
      index: state.queues.length,
      name: r.name,
      config: r.config,
      isPush: r.config.mode === 'push',
      paused: r.paused,
      disabled: r.disabled,
      bucket: r.bucket,
      maxConcurrent: r.maxConcurrent,
      retryPolicy: retryPolicyFrom(r.config.retry_parameters),
      inFlight: r.inFlight,
      ready: new ReadyHeap(t),
      names: new Map(r.names),
      generatedNamesFrom: r.generatedNamesFrom ?? 0,
      countByState: Int32Array.from(r.countByState),
    };
    if (q.countByState.length !== TASK_STATES.length) throw new LogError('SNAPSHOT_INVALID', `${file}: queue ${r.name} has ${q.countByState.length} state counts`, { file });
    state.queues.push(q);
    state.queueByName.set(q.name, q);
  }
  rebuildReadyHeaps(state.queues, t);
  const namesFromUnknown = head.queues.some((r) => r.generatedNamesFrom === undefined);
  return { state, log: head.log, position: head.position, prefixSha256: head.prefixSha256, namesFromUnknown };
}

function rebuildReadyHeaps(queues: QueueRuntime[], t: TaskTable): void {
  for (let id = 0; id < t.count; id++) {
    if (t.state[id] === TaskState.Pending) (queues[t.queue[id] as number] as QueueRuntime).ready.push(id);
  }
}

/**
 * Writes a snapshot of `state`, which is the state after the complete batches up to `position` of
 * the log at `logPath`. Atomically: a crash or a failed write leaves the file as it was (or
 * absent), never a part of the new one (atomic-file.ts). Throws the system's error when it cannot.
 */
export function writeSnapshotFile(snapshotPath: string, logPath: string, log: LogHeader, state: EngineState, position: LogPosition): void {
  writeFileAtomicallySync(snapshotPath, encodeSnapshot(state, log, position, filePrefixSha256(logPath, position.offset)));
}

export interface LoadedState {
  state: EngineState;
  header: LogHeader;
  end: LogPosition;
  recovered: Recovered;
  /** Events applied after the snapshot (every event of the log when the snapshot could not be used: loadWithSnapshot). */
  tailEvents: number;
}

/**
 * The log's state, from a snapshot plus the events after it. Checks that the snapshot belongs to
 * this log (same header line, same bytes before its position).
 */
export function loadWithSnapshot(snapshotPath: string, logPath: string, options: { repair?: boolean } = {}): LoadedState {
  let bytes: Buffer;
  try {
    bytes = readFileSync(snapshotPath);
  } catch (err) {
    throw new LogError('SNAPSHOT_INVALID', `${snapshotPath}: ${readFailure(err)}`, { file: snapshotPath });
  }
  const snap = decodeSnapshot(bytes, snapshotPath);
  const prefix = filePrefixSha256(logPath, snap.position.offset);
  if (prefix !== snap.prefixSha256) {
    throw new LogError('SNAPSHOT_INVALID', `${snapshotPath}: does not belong to ${logPath} (its first ${snap.position.offset} bytes differ from the log the snapshot was taken of)`, { file: snapshotPath });
  }
  // A snapshot from before test resets freed generated names reads each queue's generatedNamesFrom
  // as 0, which is right unless the log has a reset before the snapshot: a full replay then frees
  // the names of every task added before the reset, and only the events say how many there were
  // (the task table cannot: a task added before the reset looks like one added after it). So such
  // a snapshot is not used: the log is replayed from its start, the state a full replay gives.
  if (snap.namesFromUnknown && prefixHoldsReset(logPath, snap.position.offset)) {
    const { fold, scan: r } = foldLogFile(logPath, [], options);
    return { state: fold.state, header: r.header, end: r.end, recovered: r.recovered, tailEvents: fold.events };
  }
  // The tail is this engine's own log after a snapshot that matched it: a misfit is an engine bug.
  const { fold, scan: r } = foldLogFile(logPath, [], { ...options, from: snap.position, state: snap.state, misfit: 'assert' });
  if (encodeHeader(r.header) !== encodeHeader(snap.log)) {
    throw new LogError('SNAPSHOT_INVALID', `${snapshotPath}: was taken of a log with another header`, { file: snapshotPath });
  }
  return { state: fold.state, header: r.header, end: r.end, recovered: r.recovered, tailEvents: fold.events };
}
