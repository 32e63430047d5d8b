/**
 * Replay: the state a log describes is the fold of `evolve` over its events. That is the whole
 * of it, on purpose: the live engine changes state by the same `evolve`, so replay(log) equals
 * the live state exactly (spec/replay.spec.ts), and `stateDigest` lets anyone check it.
 */
import { createHash } from 'node:crypto';
import { AssertionError } from '../core/assert.js';
import type { EngineEvent } from '../core/events.js';
import { createEngineState, evolve, queueStateName, type EngineState } from '../core/state.js';
import { refill } from '../core/token-bucket.js';
import type { LogHeader } from './event-log.js';
import { scanEventLog, type ReadOptions, type ScanResult } from './log-reader.js';

export interface ReplayOptions {
  /** Stop before the first event later than this time (µs): the state as it was then. */
  until?: number;
}

export function replay(events: Iterable<EngineEvent>, options: ReplayOptions = {}): EngineState {
  const state = createEngineState();
  const until = options.until ?? Infinity;
  for (const e of events) {
    if (e.t > until) break;
    evolve(state, e);
  }
  return state;
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
    lines.push(JSON.stringify({ queue: q.name, state: queueStateName(q), inFlight: q.inFlight, counts: Array.from(q.countByState), bucket, ready: q.ready.peek(), names: [...q.names].sort() }));
  }
  const t = state.tasks;
  for (let id = 0; id < t.count; id++) {
    lines.push(JSON.stringify([id, t.state[id], t.queue[id], t.eta[id], t.addedAt[id], nanToNull(t.firstAttemptAt[id] as number), nanToNull(t.endedAt[id] as number), t.dispatchCount[id], t.executionCount[id], t.lastStatus[id], t.endReason[id], t.size[id], t.attemptOpen[id], t.meta[id] ?? null]));
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

// ---- folding with observers ---------------------------------------------------------------------

/** Sees each event right after it is applied, as the kernel's observers do live. */
export type FoldObserver = (e: EngineEvent, state: EngineState) => void;

/** An event that passed the codec's checks but does not fit the state before it. */
export class EventMisfitError extends Error {
  override name = 'EventMisfitError';
}

/**
 * The fold of `replay`, one event at a time, with observers (statistics, a task's story) shown
 * each event right after `evolve`: they read the very state `decide` saw live. Events later than
 * `until` (µs) are not applied, nor any after them.
 */
export class EventFold {
  readonly state: EngineState = createEngineState();
  /** Events applied. */
  events = 0;
  until = Infinity;
  private stopped = false;

  constructor(private readonly observers: readonly FoldObserver[]) {}

  readonly apply = (e: EngineEvent): void => {
    if (this.stopped) return;
    if (e.t > this.until) {
      this.stopped = true;
      return;
    }
    try {
      evolve(this.state, e);
    } catch (err) {
      // A log edited by hand (with its checksums redone) or written by a buggy engine: stop.
      if (err instanceof AssertionError) throw new EventMisfitError(`event ${this.events + 1} (${e.type} at t=${e.t}) does not apply to the state before it: ${err.message}`);
      throw err;
    }
    for (const observe of this.observers) observe(e, this.state);
    this.events++;
  };
}

/** Folds a log file from its start (complete batches only; see log-reader.ts for recovery). */
export function foldLogFile(path: string, observers: readonly FoldObserver[], options: ReadOptions = {}, onHeader?: (header: LogHeader, fold: EventFold) => void): { fold: EventFold; scan: ScanResult } {
  const fold = new EventFold(observers);
  const scan = scanEventLog(path, options, {
    ...(onHeader === undefined ? {} : { onHeader: (h: LogHeader) => onHeader(h, fold) }),
    onEvent: fold.apply,
  });
  return { fold, scan };
}

/** Folds events held in memory (a MemoryEventLog is iterable). */
export function foldEvents(events: Iterable<EngineEvent>, observers: readonly FoldObserver[]): EventFold {
  const fold = new EventFold(observers);
  for (const e of events) fold.apply(e);
  return fold;
}
