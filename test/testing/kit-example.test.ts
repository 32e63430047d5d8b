// docs/testing.md shows this file (between the markers) as the kit's runnable example, and
// test/testing/kit-docs.test.ts keeps the two identical. It imports pushq as a user would.
// --- example start ---
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from 'pushq';
import { checkAll, formatViolations, runScenario, scenarioArbitrary } from 'pushq/testing';

// Your own queue.yaml (read it with loadQueueConfigFile('queue.yaml') in a real project).
const { config } = parseQueueConfig(
  `queue:
- name: emails
  rate: 10/m
  bucket_size: 3
  max_concurrent_requests: 2
  retry_parameters:
    task_retry_limit: 4
    min_backoff_seconds: 5
`,
  { file: 'queue.yaml' },
);

describe("my queues keep App Engine's laws", () => {
  it('under any workload, worker behaviour and operator commands', () => {
    // Workloads, worker behaviour and operator commands drawn for your queues, run on your config.
    const scenarios = scenarioArbitrary({ config: config!, maxTasks: 40, errorRateMax: 0.5 });
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { sim } = runScenario(scenario);
        // Rate, concurrency, ETA, pause, retry delays and give-up, checked on the event log.
        expect(formatViolations(checkAll(sim.events))).toBe('');
        // And your own property: every email is eventually sent or given up (none left waiting).
        const emails = sim.stats({ includeIdle: true }).queues.emails!;
        if (scenario.commands.length === 0) expect(emails.pending).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it('or with generated configurations too', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 40 }), (scenario) => {
        expect(formatViolations(checkAll(runScenario(scenario).sim.events))).toBe('');
      }),
      { numRuns: 40 },
    );
  });
});
// --- example end ---
