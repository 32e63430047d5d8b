/**
 * The one fold: the state a log describes is `evolve` folded over its events, and every read
 * model is a projection shown each event right after `evolve` applied it (so it reads the very
 * state `decide` saw live). Replay, snapshot loading, a service's restart, a task's story and the
 * tests all fold through here; the kernel feeds the same projections live.
 *
 * Events come in either way: pulled from an iterable (an array, a MemoryEventLog) by `fold`, or
 * pushed one at a time into `EventFold.apply` (a log file's reader calls it per event, so a file
 * of millions of events is folded without holding them; see foldLogFile in src/log/replay.ts).
 */
import { AssertionError } from '../core/assert.js';
import type { EngineEvent } from '../core/events.js';
import { createEngineState, evolve, type EngineState } from '../core/state.js';
import type { Projection } from './projection.js';

/** An event that passed the codec's checks but does not fit the state before it. */
export class EventMisfitError extends Error {
  override name = 'EventMisfitError';
}

export interface FoldOptions {
  /** Fold onto this state (a snapshot's) instead of a fresh one; it is changed in place. */
  state?: EngineState;
  /** Stop before the first event later than this time (µs), and apply none after it: the state as it was then. */
  until?: number;
  /**
   * What an event that does not fit the state before it raises. `report` (the default): an
   * EventMisfitError naming the event, for a log read from outside (a file edited by hand with its
   * checksums redone, or written by a buggy engine). `assert`: the core's AssertionError as
   * `evolve` threw it, for events this engine produced itself (a misfit there is an engine bug).
   */
  misfit?: 'report' | 'assert';
}

export class EventFold {
  readonly state: EngineState;
  /** Events applied. */
  events = 0;
  /** See FoldOptions.until; may be set before the first event (once a log's header says its clock). */
  until: number;
  private stopped = false;
  private readonly report: boolean;

  constructor(
    private readonly projections: readonly Projection[],
    options: FoldOptions = {},
  ) {
    this.state = options.state ?? createEngineState();
    this.until = options.until ?? Infinity;
    this.report = (options.misfit ?? 'report') === 'report';
  }

  /** True once an event later than `until` came: nothing more is applied. */
  get done(): boolean {
    return this.stopped;
  }

  readonly apply = (e: EngineEvent): void => {
    if (this.stopped) return;
    if (e.t > this.until) {
      this.stopped = true;
      return;
    }
    if (this.report) {
      try {
        evolve(this.state, e);
      } catch (err) {
        if (err instanceof AssertionError) throw new EventMisfitError(`event ${this.events + 1} (${e.type} at t=${e.t}) does not apply to the state before it: ${err.message}`);
        throw err;
      }
    } else {
      evolve(this.state, e);
    }
    const projections = this.projections;
    for (let i = 0; i < projections.length; i++) (projections[i] as Projection).observe(e, this.state);
    this.events++;
  };
}

/** Folds events held in memory (an array, a MemoryEventLog) into a fresh state, or `options.state`. */
export function fold(events: Iterable<EngineEvent>, projections: readonly Projection[], options: FoldOptions = {}): EventFold {
  const f = new EventFold(projections, options);
  for (const e of events) {
    f.apply(e);
    if (f.done) break;
  }
  return f;
}
