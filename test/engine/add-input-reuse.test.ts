import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

// The kernel runs every add through one reused input object (no garbage per arrival): nothing of
// one add may reach the next.
describe('kernel.addTasks, one input object for every add', () => {
  it('an add takes its own API flavour, not the previous add’s', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
    const k = sim.kernel;
    // Cloud Tasks accepts a POST URL with a query string; the Task Queue SDKs refuse it (S24).
    expect(k.addTasks([{ queue: 'q', url: '/h?x=1' }], 'cloud-tasks')).toHaveLength(1);
    expect(() => k.addTasks([{ queue: 'q', url: '/h?x=1' }])).toThrow(/query string/);
    expect(k.addTasks([{ queue: 'q', url: '/h?x=2' }], 'cloud-tasks')).toHaveLength(1);
  });

  it('takes the bytes stored elsewhere as they are at each add, and a refused add leaves the next one whole', () => {
    const sim = createSimulation({ config: { ...fileConfig(pushQueue('q', 10)), total_storage_limit_bytes: 1024 } });
    const k = sim.kernel;
    k.storedElsewhere = () => 1000;
    expect(() => k.addTasks([{ queue: 'q', bodyBytes: 100 }])).toThrow(/total_storage_limit/);
    k.storedElsewhere = null;
    const added = k.addTasks([{ queue: 'q', bodyBytes: 100 }, { queue: 'q' }]);
    expect(added.map((e) => e.id)).toEqual([0, 1]);
  });
});
