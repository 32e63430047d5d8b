/**
 * S25 across a reload: the bucket refills continuously, so applying queue.yaml again (unchanged, or
 * with a new rate) keeps the part of a token the queue has earned towards the next one. It used
 * to keep whole tokens only: one reload could delay the next dispatch by up to a token's period
 * (a day for `rate: 1/d`).
 */
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { QueueFileConfig } from '../../src/core/queue-config.js';
import { createSimulation } from '../../src/simulate/simulation.js';

function config(yaml: string): QueueFileConfig {
  const { config, errors } = parseQueueConfig(yaml, { file: 'queue.yaml' });
  if (config === null) throw new Error(errors.map((i) => i.message).join('; '));
  return config;
}

/** Dispatch times (s) of two tasks on a one-token queue at `rate`, with queue.yaml applied again at `reloadAt` (s) as `then`. */
function dispatchTimes(rate: string, reloadAt: number | null, then = rate): number[] {
  const yaml = (r: string) => `queue:\n- name: q\n  rate: ${r}\n  bucket_size: 1\n`;
  const sim = createSimulation({ config: config(yaml(rate)), seed: 1, worker: () => ({ status: 200, latencyMs: 1 }) });
  sim.addTasks([{ queue: 'q' }, { queue: 'q' }]);
  if (reloadAt !== null) sim.schedule(reloadAt, (s) => s.kernel.applyConfig(config(yaml(then)), s.state.settings));
  sim.runUntilIdle();
  return sim.events.filter((e) => e.type === 'AttemptDispatched').map((e) => e.t / 1e6);
}

describe('S25: a reload keeps the credit earned towards the next token', () => {
  it.each([
    ['1/m', 30, 60],
    ['1/m', 59, 60],
    ['1/h', 3599, 3600],
    ['1/d', 86_399, 86_400],
  ])('rate %s, the same file applied again at %i s: the second dispatch still at %i s', (rate, reloadAt, second) => {
    expect(dispatchTimes(rate, null)).toEqual([0, second]);
    expect(dispatchTimes(rate, reloadAt)).toEqual([0, second]);
  });

  it('a new rate converts the credit: half a token earned at 1/m, then 2/m, the token is whole 15 s later', () => {
    expect(dispatchTimes('1/m', 30, '2/m')).toEqual([0, 45]);
  });

  it('a smaller bucket still caps what is kept (a reload is no free burst)', () => {
    const yaml = (b: number) => `queue:\n- name: q\n  rate: 1/s\n  bucket_size: ${b}\n`;
    const sim = createSimulation({ config: config(yaml(10)), seed: 1, worker: () => ({ status: 200, latencyMs: 1 }) });
    sim.schedule(5, (s) => s.kernel.applyConfig(config(yaml(2)), s.state.settings));
    sim.schedule(5, (s) => s.addTasks(Array.from({ length: 5 }, () => ({ queue: 'q' }))));
    sim.runUntilIdle();
    expect(sim.events.filter((e) => e.type === 'AttemptDispatched').map((e) => e.t / 1e6)).toEqual([5, 5, 6, 7, 8]);
  });
});
