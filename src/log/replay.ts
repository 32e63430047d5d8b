/**
 * Replay: the state a log describes is the fold of `evolve` over its events (src/projections/fold.ts).
 * That is the whole of it, on purpose: the live engine changes state by the same `evolve`, so
 * replay(log) equals the live state exactly (spec/replay.spec.ts), and `stateDigest` lets anyone
 * check it. A log this pushq wrote is trusted here: an event that does not fit is an AssertionError
 * (`pushq replay` folds with EventMisfitError instead, naming the event).
 */
import { createHash } from 'node:crypto';
import type { EngineEvent } from '../core/events.js';
import { queueStateName, type EngineState } from '../core/state.js';
import { refill } from '../core/token-bucket.js';
import { EventFold, fold, type FoldOptions } from '../projections/fold.js';
import type { Projection } from '../projections/projection.js';
import type { LogHeader } from './event-log.js';
import { scanEventLog, type LogPosition, type ReadOptions, type ScanResult } from './log-reader.js';

export interface ReplayOptions {
  /** Stop before the first event later than this time (µs): the state as it was then. */
  until?: number;
}

export function replay(events: Iterable<EngineEvent>, options: ReplayOptions = {}): EngineState {
  return fold(events, [], { ...options, misfit: 'assert' }).state;
}

/**
 * A canonical summary of everything observable in a state (every task's every field, every
 * queue's counters and bucket), as JSON lines; equal digests mean equal states.
 */
export function stateLines(state: EngineState): string[] {
  const lines: string[] = [];
  lines.push(JSON.stringify({ config: state.config, settings: state.settings, storageBytes: state.storageBytes, lastEventAt: state.lastEventAt, eventsApplied: state.eventsApplied }));
  for (const q of state.queues) {
    let bucket = null;
    if (q.bucket) {
      // Compare buckets at the same instant: refill a copy to the last event's time.
      const b = { ...q.bucket };
      refill(b, state.lastEventAt);
      bucket = { credit: b.credit, refilledAt: b.refilledAt };
    }
    lines.push(JSON.stringify({ queue: q.name, state: queueStateName(q), inFlight: q.inFlight, counts: Array.from(q.countByState), bucket, ready: q.ready.peek(), names: [...q.names].sort(), ...(q.generatedNamesFrom === 0 ? {} : { generatedNamesFrom: q.generatedNamesFrom }) }));
  }
  const t = state.tasks;
  // The tasks the table holds: every task, unless it released ended ones (task-table.ts).
  for (let id = t.base; id < t.count; id++) {
    const r = t.row(id);
    lines.push(JSON.stringify([id, t.state[r], t.queue[r], t.eta[r], t.addedAt[r], nanToNull(t.firstAttemptAt[r] as number), nanToNull(t.endedAt[r] as number), t.dispatchCount[r], t.executionCount[r], t.lastStatus[r], t.endReason[r], t.size[r], t.attemptOpen[r], t.meta[r] ?? null]));
  }
  return lines;
}

export function stateDigest(state: EngineState): string {
  const h = createHash('sha256');
  for (const line of stateLines(state)) h.update(line).update('\n');
  return h.digest('hex');
}

function nanToNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

// ---- folding a log file ------------------------------------------------------------------------------

export interface FoldLogFileOptions extends ReadOptions, FoldOptions {
  /** Start after this position (a snapshot's), folding onto `state` (the snapshot's state). */
  from?: LogPosition;
}

/**
 * Folds a log file (complete batches only; see log-reader.ts for recovery) through `fold`'s
 * EventFold, event by event as the reader decodes them. `onHeader` sees the header before any
 * event (e.g. to set `fold.until` in the log's clock).
 */
export function foldLogFile(path: string, projections: readonly Projection[], options: FoldLogFileOptions = {}, onHeader?: (header: LogHeader, fold: EventFold) => void): { fold: EventFold; scan: ScanResult } {
  const fold = new EventFold(projections, options);
  const scan = scanEventLog(path, options, {
    ...(onHeader === undefined ? {} : { onHeader: (h: LogHeader) => onHeader(h, fold) }),
    ...(options.from === undefined ? {} : { from: options.from }),
    onEvent: fold.apply,
  });
  return { fold, scan };
}
