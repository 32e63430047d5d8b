/**
 * The kit's arbitraries and their options (src/testing/arbitraries/options.ts): a healthy worker
 * can be asked for (`outages: false`), and a bound out of its range or an empty list of queues is
 * refused at once with a RangeError naming the arbitrary, the option and what it takes (it drew
 * error rates above 1, or failed inside fast-check with `fc.constantFrom expects at least one
 * parameter`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { requireValidConfig } from '../../src/config/issues.js';
import {
  queueCommandsArbitrary,
  queueFileConfigArbitrary,
  queueYamlDocumentArbitrary,
  runScenario,
  scenarioArbitrary,
  simQueueFileConfigArbitrary,
  workerModelArbitrary,
  workloadArbitrary,
  type QueueCommand,
} from '../../src/testing/index.js';

const HEALTHY = { errorRateMax: 0, timeoutRateMax: 0, outages: false } as const;

describe('workerModelArbitrary: a healthy worker', () => {
  it('with errorRateMax 0, timeoutRateMax 0 and outages: false, every task of any workload succeeds at its first attempt', () => {
    const config = requireValidConfig(parseQueueConfig('queue:\n- name: q\n  rate: 20/s\n  bucket_size: 10\n  max_concurrent_requests: 5\n', { file: 'queue.yaml' }));
    const queues = config.queues.map((q) => q.name);
    const scenarios = fc.record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      config: fc.constant(config),
      workloads: workloadArbitrary({ queues, maxTasks: 40 }),
      worker: workerModelArbitrary(HEALTHY),
      commands: fc.constant<QueueCommand[]>([]),
    });
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { sim } = runScenario(scenario);
        expect(sim.events.filter((e) => e.type === 'AttemptFailed')).toEqual([]);
        for (const q of Object.values(sim.stats({ includeIdle: true }).queues)) {
          expect(q.succeeded).toBe(q.tasks_added);
          expect(q.attempts).toBe(q.tasks_added);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("draws a healthy worker's latency from the bounded models only, under the shortest deadline (a lognormal tail once passed 15 s); others still draw all four", () => {
    fc.assert(
      fc.property(workerModelArbitrary(HEALTHY), (worker) => {
        const l = worker.latency;
        if (l.distribution === 'constant') expect(l.valueUs).toBeLessThanOrEqual(5_000_000);
        else if (l.distribution === 'uniform') expect(l.maxUs).toBeLessThanOrEqual(5_000_000);
        else expect.fail(`a healthy worker drew ${l.distribution} latency`);
      }),
      { numRuns: 300 },
    );
    const drawn = new Set(fc.sample(workerModelArbitrary({ outages: false }), { numRuns: 400, seed: 7 }).map((w) => w.latency.distribution));
    expect([...drawn].sort()).toEqual(['constant', 'exponential', 'lognormal', 'uniform']);
  });

  it('scenarioArbitrary passes outages: false on: its workers have no outage, error or no-answer share', () => {
    const workers = fc.sample(scenarioArbitrary({ ...HEALTHY, maxTasks: 5 }), { numRuns: 300, seed: 1 }).map((s) => s.worker);
    for (const w of workers) expect([w.outages, w.errorRate, w.timeoutRate]).toEqual([[], 0, 0]);
    // Left on (the default), outages are drawn as before.
    expect(fc.sample(workerModelArbitrary({ errorRateMax: 0, timeoutRateMax: 0 }), { numRuns: 300, seed: 1 }).some((w) => w.outages.length > 0)).toBe(true);
  });
});

describe('an option out of its range is refused with the option named', () => {
  it.each<[string, () => unknown, string]>([
    ['workerModelArbitrary', () => workerModelArbitrary({ errorRateMax: 2 }), 'workerModelArbitrary: errorRateMax must be a number from 0 to 1; got 2'],
    ['workerModelArbitrary', () => workerModelArbitrary({ timeoutRateMax: -0.1 }), 'workerModelArbitrary: timeoutRateMax must be a number from 0 to 1; got -0.1'],
    ['workerModelArbitrary', () => workerModelArbitrary({ errorRateMax: NaN }), 'workerModelArbitrary: errorRateMax must be a number from 0 to 1; got NaN'],
    ['workloadArbitrary', () => workloadArbitrary({ queues: ['q'], maxTasks: -1 }), 'workloadArbitrary: maxTasks must be a whole number from 0 to 1000000; got -1'],
    ['workloadArbitrary', () => workloadArbitrary({ queues: ['q'], maxTasks: 2.5 }), 'workloadArbitrary: maxTasks must be a whole number from 0 to 1000000; got 2.5'],
    ['workloadArbitrary', () => workloadArbitrary({ queues: ['q'], maxGroups: 0 }), 'workloadArbitrary: maxGroups must be a whole number from 1 to 100; got 0'],
    ['workloadArbitrary', () => workloadArbitrary({ queues: ['q'], startSecondsMax: Infinity }), 'workloadArbitrary: startSecondsMax must be a number from 0 to 31536000; got Infinity'],
    ['queueCommandsArbitrary', () => queueCommandsArbitrary({ queues: ['q'], tasks: [], maxCommands: -1 }), 'queueCommandsArbitrary: maxCommands must be a whole number from 0 to 1000; got -1'],
    ['queueCommandsArbitrary', () => queueCommandsArbitrary({ queues: ['q'], tasks: [], atSecondsMax: -5 }), 'queueCommandsArbitrary: atSecondsMax must be a number from 0 to 31536000; got -5'],
    ['simQueueFileConfigArbitrary', () => simQueueFileConfigArbitrary({ maxQueues: 101 }), 'simQueueFileConfigArbitrary: maxQueues must be a whole number from 0 to 100; got 101'],
    ['queueFileConfigArbitrary', () => queueFileConfigArbitrary({ maxQueues: 150 }), 'queueFileConfigArbitrary: maxQueues must be a whole number from 0 to 100; got 150'],
    ['queueYamlDocumentArbitrary', () => queueYamlDocumentArbitrary({ maxQueues: -1 }), 'queueYamlDocumentArbitrary: maxQueues must be a whole number from 0 to 100; got -1'],
    ['scenarioArbitrary', () => scenarioArbitrary({ errorRateMax: 2 }), 'scenarioArbitrary: errorRateMax must be a number from 0 to 1; got 2'],
    ['scenarioArbitrary', () => scenarioArbitrary({ maxTasks: -3 }), 'scenarioArbitrary: maxTasks must be a whole number from 0 to 1000000; got -3'],
    ['scenarioArbitrary', () => scenarioArbitrary({ maxCommands: 1e9 }), 'scenarioArbitrary: maxCommands must be a whole number from 0 to 1000; got 1000000000'],
  ])('%s: %s', (_name, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it('the edges of each range are taken', () => {
    expect(fc.sample(workerModelArbitrary({ errorRateMax: 1, timeoutRateMax: 0 }), 5)).toHaveLength(5);
    expect(fc.sample(workloadArbitrary({ queues: ['q'], maxTasks: 0, maxGroups: 1, startSecondsMax: 0 }), 5)).toEqual(Array(5).fill([]));
    expect(fc.sample(queueCommandsArbitrary({ queues: ['q'], tasks: [], maxCommands: 0, atSecondsMax: 0 }), 5)).toEqual(Array(5).fill([]));
    expect(fc.sample(simQueueFileConfigArbitrary({ maxQueues: 0 }), 5).every((c) => c.queues.length === 1)).toBe(true);
  });
});

describe('no queue to draw from is refused with the option named', () => {
  it.each<[string, () => unknown]>([
    ['workloadArbitrary', () => workloadArbitrary({ queues: [] })],
    ['queueCommandsArbitrary', () => queueCommandsArbitrary({ queues: [], tasks: [] })],
  ])('%s({ queues: [] })', (name, make) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(`${name}: queues must name at least one queue to draw from; got []`);
  });
});
