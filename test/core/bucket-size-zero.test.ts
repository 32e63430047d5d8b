// Pins the bug spec/rate-law.spec.ts found: a queue with `bucket_size: 0` crashed the kernel
// (an AssertionError "dispatch without a token") when its first wake fired. A bucket that cannot
// hold one token never dispatches (reference §5: tasks run while tokens remain); adds are kept.
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('bucket_size 0', () => {
  it('keeps the tasks and dispatches none, without crashing', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 2, { bucket_size: 0 })) });
    sim.addWorkload({ queue: 'q', count: 3 });
    sim.runUntilIdle({ maxSeconds: 100 });
    expect(sim.events.filter((e) => e.type === 'AttemptDispatched')).toHaveLength(0);
    expect(sim.queue('q').tasks.pending).toBe(3);
  });

  it('still allows a force-run, which takes no token', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 2, { bucket_size: 0 })) });
    const name = sim.addTask({ queue: 'q' });
    sim.runTask('q', name);
    sim.runUntilIdle({ maxSeconds: 100 });
    expect(sim.task('q', name).state).toBe('succeeded');
  });
});
