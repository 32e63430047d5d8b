/**
 * Law: the runtime's transition table (derived from the XState machine's config) behaves exactly
 * like XState's own `transition()` for ANY sequence of machine events, ignored ones included;
 * and `taskSnapshot` gives a real XState snapshot whose `.value` is the state's name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TASK_EVENTS,
  TASK_STATES,
  TRANSITION_TABLE,
  nextTaskState,
  taskMachine,
  taskSnapshot,
  xstateNext,
  type TaskEvent,
  type TaskMachineEventType,
  type TaskState,
} from '../src/core/task-machine.js';

const CONTEXT = { id: 7, queue: 'q', name: 'task7', dispatchCount: 0, responseCount: 0, etaUs: 0 };
const eventArbitrary = fc.constantFrom<TaskMachineEventType>('DISPATCH', 'RUN', 'SUCCEED', 'FAIL', 'GIVE_UP', 'RETRY_DUE', 'DELETE');

function tableFold(events: readonly TaskMachineEventType[]): string[] {
  let s = 0 as TaskState;
  const seen: string[] = [];
  for (const e of events) {
    const next = nextTaskState(s, TASK_EVENTS.indexOf(e) as TaskEvent);
    if (next !== -1) s = next;
    seen.push(TASK_STATES[s]!);
  }
  return seen;
}

function xstateFold(events: readonly TaskMachineEventType[]): string[] {
  let snap = taskSnapshot(0 as TaskState, CONTEXT);
  const seen: string[] = [];
  for (const e of events) {
    snap = xstateNext(snap, e);
    seen.push(String(snap.value));
  }
  return seen;
}

describe('task machine', () => {
  it('table fold = XState transition() fold, state after every event, for any event sequence', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 40 }), (events) => {
        expect(tableFold(events)).toEqual(xstateFold(events));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees from every state on every single event (the whole table)', () => {
    TASK_STATES.forEach((name, s) => {
      for (const e of TASK_EVENTS) {
        const next = nextTaskState(s as TaskState, TASK_EVENTS.indexOf(e) as TaskEvent);
        const viaXstate = xstateNext(taskSnapshot(s as TaskState, CONTEXT), e);
        expect([name, e, next === -1 ? name : TASK_STATES[next]]).toEqual([name, e, String(viaXstate.value)]);
      }
    });
  });

  it('taskSnapshot is a real XState snapshot: value is the state name, status and context hold', () => {
    TASK_STATES.forEach((name, s) => {
      const snap = taskSnapshot(s as TaskState, CONTEXT);
      expect(snap.value).toBe(name);
      expect(snap.machine).toBe(taskMachine);
      expect(snap.context).toEqual(CONTEXT);
      expect(snap.status).toBe(['succeeded', 'failed', 'deleted'].includes(name) ? 'done' : 'active');
      expect(snap.matches(name as never)).toBe(true);
    });
  });

  it('the table is not trivially empty or total: the differential check can fail', () => {
    const ignored = Array.from(TRANSITION_TABLE).filter((x) => x === -1).length;
    expect(ignored).toBeGreaterThan(0);
    expect(ignored).toBeLessThan(TRANSITION_TABLE.length);
    // A corrupted copy of the table disagrees with XState on some sequence.
    const corrupt = (events: readonly TaskMachineEventType[]): string[] => {
      let s = 0;
      return events.map((e) => {
        const next = s === 2 && e === 'RUN' ? 0 : nextTaskState(s as TaskState, TASK_EVENTS.indexOf(e) as TaskEvent);
        if (next !== -1) s = next;
        return TASK_STATES[s]!;
      });
    };
    const result = fc.check(fc.property(fc.array(eventArbitrary, { maxLength: 20 }), (events) => expect(corrupt(events)).toEqual(xstateFold(events))), { numRuns: 500, seed: 1, endOnFailure: true });
    expect(result.failed).toBe(true);
  });
});
