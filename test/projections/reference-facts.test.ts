/**
 * The invariant checkers' facts, read from events alone, agree with the engine's own state on a
 * real run (attempts, ETA of waiting tasks, attempts in flight), and tolerate events the engine
 * would refuse (the checkers judge tampered runs).
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { TaskState } from '../../src/core/task-machine.js';
import { fold } from '../../src/projections/fold.js';
import { ReferenceFacts } from '../../src/projections/reference-facts.js';
import { richSimulation } from '../helpers/rich-sim.js';

describe('ReferenceFacts', () => {
  it('agrees with the engine state midway through a run with every event type', () => {
    const sim = richSimulation(2);
    const facts = new ReferenceFacts(undefined);
    // Midway: tasks still wait and attempts are in flight.
    const { state } = fold(sim.events, [facts], { until: 1_000_000 });
    const t = state.tasks;
    expect(t.count).toBeGreaterThan(50);
    let pending = 0;
    for (let id = 0; id < t.count; id++) {
      const f = facts.tasks.get(id);
      expect(f?.queue, `task ${id}`).toBe(state.queues[t.queue[id] as number]?.name);
      expect(f?.attempts, `task ${id}`).toBe(t.dispatchCount[id]);
      if (t.state[id] === TaskState.Pending) {
        pending++;
        expect(f?.eta, `task ${id}`).toBe(t.eta[id]);
      }
    }
    expect(pending).toBeGreaterThan(0);
    let inFlight = 0;
    for (const q of state.queues) {
      expect(facts.inFlight.get(q.name) ?? 0, q.name).toBe(q.inFlight);
      inFlight += q.inFlight;
    }
    expect(inFlight).toBeGreaterThan(0);
    expect(facts.epoch).toBe(sim.events.filter((e) => e.type === 'ConfigApplied' && e.t <= 1_000_000).length);
  });

  it('an event naming a task no TaskAdded introduced changes nothing (the checkers report it)', () => {
    const facts = new ReferenceFacts(undefined);
    const stray: EngineEvent[] = [
      { type: 'AttemptDispatched', t: 5, id: 7 },
      { type: 'AttemptFailed', t: 6, id: 7, status: 500, reason: 'status', latencyUs: 1, retry: 1, delayUs: 100_000, retryAt: 100_006 },
    ] as EngineEvent[];
    for (const e of stray) facts.observe(e);
    expect(facts.tasks.size).toBe(0);
    expect(facts.inFlight.size).toBe(0);
  });
});
