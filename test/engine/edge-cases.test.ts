import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('edge cases of the queue actor', () => {
  it('a queue with bucket_size 0 never dispatches, and the run still ends', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10, { bucket_size: 0 })) });
    sim.addWorkload({ queue: 'q', count: 3 });
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.queue('q').tasks.pending).toBe(3);
    expect(sim.stats().queues.q!.attempts).toBe(0);
  });

  it('refuses to schedule in the past with a RangeError, not an engine assertion', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
    sim.runUntil(10);
    expect(() => sim.schedule(5, () => {})).toThrow(RangeError);
    expect(() => sim.addWorkload({ queue: 'q', count: 1, atSeconds: 1 })).toThrow(/not a time from now on/);
  });
});
