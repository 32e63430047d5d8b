/**
 * The one fold: projections see each event right after `evolve`, in order, with the state after
 * it; `until` stops before the first later event; a start state continues a fold; an event that
 * does not fit raises what the caller chose (EventMisfitError naming it, or the core's AssertionError).
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.js';
import type { EngineEvent } from '../../src/core/events.js';
import type { EngineState } from '../../src/core/state.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { replay, stateLines } from '../../src/log/replay.js';
import { EventMisfitError, fold } from '../../src/projections/fold.js';
import type { Projection } from '../../src/projections/projection.js';
import { fileConfig } from '../helpers/config.js';
import { richSimulation } from '../helpers/rich-sim.js';

/** Records what it was shown: the event, and the state's event count and last event time then. */
class Recorder implements Projection {
  readonly seen: { event: EngineEvent; applied: number; lastEventAt: number }[] = [];
  readonly observe = (event: EngineEvent, state: EngineState): void => {
    this.seen.push({ event, applied: state.eventsApplied, lastEventAt: state.lastEventAt });
  };
}

const sim = richSimulation(11);
const events = sim.events;

/** Events that each pass the codec but do not fit together: a task deleted twice. */
const misfit: EngineEvent[] = [
  { type: 'ConfigApplied', t: 0, config: fileConfig(), settings: { targets: {}, tombstoneSeconds: 60 } },
  { type: 'TaskAdded', t: 0, id: 0, queue: 'default', eta: 10, size: 1 },
  { type: 'TaskDeleted', t: 1, id: 0 },
  { type: 'TaskDeleted', t: 2, id: 0 },
] as EngineEvent[];

describe('fold', () => {
  it('rebuilds the live state, showing every projection each event after it is applied, in order', () => {
    const a = new Recorder();
    const b = new Recorder();
    const f = fold(events, [a, b]);
    expect(stateLines(f.state)).toEqual(stateLines(sim.state));
    expect(f.events).toBe(events.length);
    expect(a.seen.map((s) => s.event)).toEqual(events);
    // The state a projection reads already holds the event (evolve ran first).
    expect(a.seen.map((s) => s.applied)).toEqual(events.map((_, i) => i + 1));
    expect(a.seen.map((s) => s.lastEventAt)).toEqual(events.map((e) => e.t));
    expect(b.seen).toEqual(a.seen);
  });

  it('folds a memory log as it folds the array of its events', () => {
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'virtual', configHash: '' });
    for (const e of events) log.append(e);
    log.commit();
    expect(stateLines(fold(log, []).state)).toEqual(stateLines(sim.state));
  });

  it('until: stops before the first later event, applies and shows none after it', () => {
    const cut = events[Math.floor(events.length / 2)]!.t;
    const r = new Recorder();
    const f = fold(events, [r], { until: cut });
    const kept = events.findIndex((e) => e.t > cut);
    expect(kept).toBeGreaterThan(0);
    expect(f.events).toBe(kept);
    expect(f.done).toBe(true);
    expect(r.seen.map((s) => s.event)).toEqual(events.slice(0, kept));
    expect(stateLines(f.state)).toEqual(stateLines(replay(events.slice(0, kept))));
    // Pushed events later than the cut change nothing either.
    f.apply(events[0]!);
    expect(f.events).toBe(kept);
  });

  it('continues onto a given state: a fold of a prefix, then of the rest, is the fold of all', () => {
    const k = Math.floor(events.length / 3);
    const head = fold(events.slice(0, k), []);
    const tail = fold(events.slice(k), [], { state: head.state });
    expect(tail.state).toBe(head.state);
    expect(tail.events).toBe(events.length - k);
    expect(stateLines(tail.state)).toEqual(stateLines(sim.state));
  });

  it('a misfit is an EventMisfitError naming the event by default, and projections never see it', () => {
    const r = new Recorder();
    expect(() => fold(misfit, [r])).toThrow(EventMisfitError);
    expect(() => fold(misfit, [])).toThrow(/^event 4 \(TaskDeleted at t=2\) does not apply to the state before it: /);
    expect(r.seen.map((s) => s.event)).toEqual(misfit.slice(0, 3));
  });

  it("misfit 'assert': the core's AssertionError as evolve threw it (a log this engine wrote itself)", () => {
    let thrown: unknown;
    try {
      fold(misfit, [], { misfit: 'assert' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AssertionError);
    expect(thrown).not.toBeInstanceOf(EventMisfitError);
    // replay() trusts its log the same way.
    expect(() => replay(misfit)).toThrow(AssertionError);
  });
});
