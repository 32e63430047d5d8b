/**
 * The invariant checkers of pushq/testing, as a user calls them, given a configuration that does
 * not hold the run's queue (docs/testing.md: "pass a config to override"): every law fails, and
 * says why: the queue is not configured. They used to say of the retry-delay and give-up laws that
 * "no TaskAdded introduced" the task (it was), and of concurrency that a first dispatch was above
 * max_concurrent_requests 0, a figure no configuration gave.
 */
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from 'pushq';
import { checkAll, runScenario } from 'pushq/testing';

const config = (yaml: string) => parseQueueConfig(yaml, { file: 'queue.yaml' }).config!;

describe('checkers given a configuration without the run’s queue', () => {
  it('say that the queue is not configured, for every law', () => {
    const { sim } = runScenario({
      seed: 1,
      config: config('queue:\n- name: emails\n  rate: 5/s\n  retry_parameters:\n    task_retry_limit: 1\n'),
      workloads: [{ queue: 'emails', count: 1 }],
      worker: { latency: { distribution: 'constant', valueUs: 1000 }, errorRate: 1, errorStatus: 500, timeoutRate: 0, outages: [], routes: [] },
      commands: [],
    });
    const violations = checkAll(sim.events, config('queue:\n- name: other\n  rate: 5/s\n'));
    const laws = new Set(violations.map((v) => v.law));
    expect([...laws].sort()).toEqual(['concurrency', 'give-up', 'pause', 'rate', 'retry-delay']);
    for (const v of violations) {
      expect(v.message, v.law).not.toMatch(/TaskAdded|max_concurrent_requests 0|rate 0/);
      expect(v.message, v.law).toMatch(v.law === 'rate' ? /^queue emails, which no configuration .* configures, dispatched 2 time\(s\)$/ : /^task 0 is in queue emails, which the config passed to the checker does not configure$/);
    }
  });
});
