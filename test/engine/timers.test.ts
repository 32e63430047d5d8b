/**
 * The kernel's timers pop in (time, seq) order, whichever of its two heaps (queue wakes, the
 * rest) holds a timer: checked against sorting every pushed timer, with pops interleaved.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerHeap, TimerKind, Timers } from '../../src/engine/timer-heap.js';

interface Pushed {
  at: number;
  seq: number;
  kind: TimerKind;
  arg: number;
}

const op = fc.oneof(
  fc.record({ pop: fc.constant(false), at: fc.integer({ min: 0, max: 40 }), kind: fc.constantFrom(TimerKind.Response, TimerKind.BackoffEnds, TimerKind.QueueWake, TimerKind.Callback) }),
  fc.record({ pop: fc.constant(true), at: fc.constant(0), kind: fc.constant(TimerKind.Callback) }),
);

function drive(timers: Timers | TimerHeap, ops: { pop: boolean; at: number; kind: TimerKind }[]): { got: Pushed[]; want: Pushed[] } {
  const pending: Pushed[] = [];
  const got: Pushed[] = [];
  const want: Pushed[] = [];
  let seq = 0;
  let floor = 0; // timers are never set in the past of the last pop, as in the kernel
  const popOne = () => {
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    want.push(pending.shift() as Pushed);
    timers.pop();
    floor = timers.poppedAt;
    got.push({ at: timers.poppedAt, seq: -1, kind: timers.poppedKind, arg: timers.poppedArg });
  };
  for (const o of ops) {
    if (o.pop) {
      if (pending.length > 0) popOne();
      continue;
    }
    const p = { at: floor + o.at, seq: seq++, kind: o.kind, arg: seq };
    pending.push(p);
    timers.push(p.at, p.kind, p.arg, 200, 7);
  }
  while (pending.length > 0) popOne();
  return { got, want: want.map((w) => ({ ...w, seq: -1 })) };
}

describe('Timers', () => {
  it('pops wakes and other timers in one (time, seq) order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const timers = new Timers();
        const { got, want } = drive(timers, ops);
        expect(got).toEqual(want);
        expect(timers.size).toBe(0);
        expect(timers.peekAt()).toBe(Infinity);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same order as a single heap', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        expect(drive(new Timers(), ops).got).toEqual(drive(new TimerHeap(), ops).got);
      }),
      { numRuns: 200 },
    );
  });

  it('carries a response timer\'s status and latency', () => {
    const timers = new Timers();
    timers.push(5, TimerKind.QueueWake, 1);
    timers.push(5, TimerKind.Response, 9, 503, 1234);
    timers.pop();
    expect([timers.poppedKind, timers.poppedArg]).toEqual([TimerKind.QueueWake, 1]);
    timers.pop();
    expect([timers.poppedKind, timers.poppedArg, timers.poppedStatus, timers.poppedLatency]).toEqual([TimerKind.Response, 9, 503, 1234]);
  });
});
