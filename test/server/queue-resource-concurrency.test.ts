/**
 * S38's clamp of max_concurrent_requests to [1, 5000] has one home, the config loader
 * (src/config/normalise.ts); the Queue resource (src/server/resources.ts, queueResource) shows the
 * cap the engine dispatches under, not a second clamp of its own. A queue.yaml value outside the
 * range is clamped once, by the loader (test/server/queue-resource-retry.test.ts sees it through
 * a real server); a configuration built in code skips the loader, and its queue then dispatches
 * with the value it was given: the resource must say that value, where a second clamp said 5000.
 */
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { QueueFileConfig } from '../../src/config/types.js';
import { queueResource } from '../../src/server/resources.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const LOC = { project: 'p', location: 'l' };

function concurrency(config: QueueFileConfig, queue: string): { shown: unknown; enforced: number } {
  const sim = createSimulation({ config, seed: 1 });
  const q = sim.state.queueByName.get(queue)!;
  return { shown: (queueResource(LOC, q, undefined)['rateLimits'] as Record<string, unknown>)['maxConcurrentDispatches'], enforced: q.maxConcurrent };
}

describe('maxConcurrentDispatches is the cap the engine dispatches under', () => {
  it('a queue.yaml value outside [1, 5000] is clamped by the loader, and shown as clamped', () => {
    const parsed = parseQueueConfig('queue:\n- name: wide\n  rate: 5/s\n  max_concurrent_requests: 10000\n- name: narrow\n  rate: 5/s\n  max_concurrent_requests: 0\n', { file: 'queue.yaml' });
    expect(parsed.warnings.map((w) => w.code)).toEqual(['max-concurrent-requests-clamped', 'max-concurrent-requests-clamped']);
    expect(concurrency(parsed.config!, 'wide')).toEqual({ shown: 5000, enforced: 5000 });
    expect(concurrency(parsed.config!, 'narrow')).toEqual({ shown: 1, enforced: 1 });
  });

  it('a configuration built in code (no loader): the resource shows the value the engine enforces, not a clamp of its own', () => {
    expect(concurrency(fileConfig(pushQueue('wide', 5, { max_concurrent_requests: 6000 })), 'wide')).toEqual({ shown: 6000, enforced: 6000 });
  });
});
