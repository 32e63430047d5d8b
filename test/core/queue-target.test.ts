// S37: a queue's `target` overrides a task's own target; without one the task's target is used.
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

describe('S37: the queue target overrides the task target', () => {
  it('a task with target web goes to the queue target v2.batch; in a queue without one, to web; with neither, to default', () => {
    const seen = new Map<string, string>();
    const s = createSimulation({
      config: fileConfig(pushQueue('routed', 5, { target: 'v2.batch' }), pushQueue('plain', 5)),
      worker: ({ request }) => {
        seen.set(`${request.queue}/${request.name}`, request.target);
        return { status: 200, latencyMs: 10 };
      },
    });
    s.addTasks([
      { queue: 'routed', name: 'web-task', target: 'web' },
      { queue: 'routed', name: 'no-target' },
      { queue: 'plain', name: 'web-task', target: 'web' },
      { queue: 'plain', name: 'no-target' },
    ]);
    s.runUntilIdle();
    expect(Object.fromEntries(seen)).toEqual({
      'routed/web-task': 'v2.batch',
      'routed/no-target': 'v2.batch',
      'plain/web-task': 'web',
      'plain/no-target': 'default',
    });
  });
});
