/**
 * A worker model given to the library is checked before anything runs, with the rules a scenario
 * file's `worker` follows (src/simulate/worker-rules.ts): a malformed one used to stall the run
 * silently (attempts that never end, tasks pending forever, no error).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER, WorkerFunctionError } from '../../src/dispatch/worker-model.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { parseScenario } from '../../src/scenario/parse.js';
import { runScenario } from '../../src/scenario/run.js';
import type { Scenario } from '../../src/scenario/types.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { checkWorkerModel, WorkerModelError } from '../../src/simulate/worker-rules.js';
import { runScenario as runKitScenario } from '../../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const config = fileConfig(pushQueue('q', 5));

/** The WorkerModelError `fn` throws. */
function refusal(fn: () => unknown): WorkerModelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorkerModelError);
    return err as WorkerModelError;
  }
  throw new Error('nothing was thrown');
}

describe('createSimulation checks its worker model before anything runs', () => {
  it.each([
    ['a constant latency with a key of its own', { latency: { distribution: 'constant', us: 100_000 } }, 'worker.latency.us', 'us does not apply to the constant distribution (it takes valueUs)'],
    ['a lognormal latency without p99Us', { latency: { distribution: 'lognormal', p50Us: 1000 } }, 'worker.latency.p99Us', 'a lognormal latency needs p50Us and p99Us; p99Us is missing'],
    ['an unknown distribution', { latency: { distribution: 'normal', meanUs: 5 } }, 'worker.latency.distribution', 'distribution `normal` is not valid: expected constant, uniform, exponential or lognormal'],
    ['no distribution', { latency: { valueUs: 5 } }, 'worker.latency.distribution', 'a latency mapping needs distribution: constant, uniform, exponential or lognormal'],
    ['a latency in seconds', { latency: { distribution: 'constant', valueUs: 0.5 } }, 'worker.latency.valueUs', 'expected a whole number of microseconds, 0 or more; got 0.5'],
    ['a latency as text', { latency: { distribution: 'constant', valueUs: '300ms' } }, 'worker.latency.valueUs', 'expected a whole number of microseconds, 0 or more; got "300ms"'],
    ['a uniform max below min', { latency: { distribution: 'uniform', minUs: 2000, maxUs: 1000 } }, 'worker.latency.maxUs', 'maxUs (1000 µs) is below minUs (2000 µs)'],
    ['an exponential mean of 0', { latency: { distribution: 'exponential', meanUs: 0 } }, 'worker.latency.meanUs', 'meanUs must be above zero'],
    ['an error rate above 1', { errorRate: 2 }, 'worker.errorRate', 'expected a number from 0 to 1, such as 0.05'],
    ['a NaN timeout rate', { timeoutRate: NaN }, 'worker.timeoutRate', 'expected a number from 0 to 1, such as 0.05'],
    ['a 2xx error status', { errorStatus: 204 }, 'worker.errorStatus', 'a 2xx status is a success, not an error'],
    ['a misspelt key', { errorrate: 0.1 }, 'worker.errorrate', 'not a key of a worker model; did you mean errorRate? (a worker model takes latency, errorRate, errorStatus, timeoutRate, outages, routes)'],
    ['an outage that ends first', { outages: [{ fromUs: 2000, toUs: 1000, status: 503 }] }, 'worker.outages[0].toUs', 'the outage ends (1000 µs) before or when it starts (2000 µs)'],
    ['an outage with a 200', { outages: [{ fromUs: 0, toUs: 1000, status: 200 }] }, 'worker.outages[0].status', 'a 2xx status is a success, not an error'],
    ['a route matching nothing', { routes: [{ errorRate: 0.5 }] }, 'worker.routes[0]', 'a route needs a prefix (such as /slow) or a target (a service name), or both'],
    ['a route prefix that is not a path', { routes: [{ prefix: 'slow' }] }, 'worker.routes[0].prefix', 'prefix `slow` is not valid: a URL prefix starts with /'],
    ["a route's bad latency", { routes: [{ prefix: '/slow', latency: { distribution: 'constant' } }] }, 'worker.routes[0].latency.valueUs', 'a constant latency needs valueUs; valueUs is missing'],
  ])('%s', (_what, worker, field, problem) => {
    let logged = false;
    const err = refusal(() =>
      createSimulation({
        config,
        seed: 1,
        worker: worker as never,
        log: (header) => {
          logged = true;
          return new MemoryEventLog(header);
        },
      }),
    );
    expect(err.code).toBe('WORKER_MODEL_INVALID');
    expect(err.field).toBe(field);
    expect(err.message).toBe(`${field}: ${problem}`);
    expect(logged, 'no log was made').toBe(false);
  });

  it('a model that follows the rules runs every task to its end', () => {
    const sim = createSimulation({ config, seed: 1, worker: { latency: { distribution: 'lognormal', p50Us: 1000, p99Us: 5000 }, routes: [{ prefix: '/slow', errorRate: 0 }], outages: [{ fromUs: 0, toUs: 1, status: null }] } });
    sim.addWorkload({ queue: 'q', count: 3 });
    sim.runUntilIdle();
    expect(sim.stats().queues['q']).toMatchObject({ succeeded: 3, pending: 0 });
  });

  it('keys left out take the default model', () => {
    expect(checkWorkerModel(undefined)).toEqual(DEFAULT_WORKER);
    expect(checkWorkerModel({ errorRate: 0.5 })).toEqual({ ...DEFAULT_WORKER, errorRate: 0.5 });
  });
});

describe('every other way the library takes a worker model checks it the same way', () => {
  it("runScenario with a hand-built Scenario's worker", async () => {
    const { scenario } = await parseScenario('queue:\n  - { name: q, rate: 5/s }\nworkload:\n  - { queue: q, count: 3 }\n', { file: 's.yaml' });
    const bad = { ...(scenario as Scenario), worker: { ...DEFAULT_WORKER, latency: { distribution: 'constant', us: 100_000 } } } as unknown as Scenario;
    expect(refusal(() => runScenario(bad)).field).toBe('worker.latency.us');
  });

  it("pushq/testing's runScenario", () => {
    const bad = { seed: 1, config, workloads: [{ queue: 'q', count: 3 }], worker: { ...DEFAULT_WORKER, latency: { distribution: 'lognormal', p50Us: 1000 } }, commands: [] } as never;
    expect(refusal(() => runKitScenario(bad)).field).toBe('worker.latency.p99Us');
  });

  it('a scenario file and the library state one rule, each naming its own input', async () => {
    const { issues } = await parseScenario('worker:\n  latency: { distribution: uniform, min: 2ms, max: 1ms }\n', { file: 's.yaml' });
    expect(issues.map((i) => i.message)).toEqual(['max (1ms) is below min (2ms)']);
    expect(refusal(() => checkWorkerModel({ latency: { distribution: 'uniform', minUs: 2000, maxUs: 1000 } })).message).toBe('worker.latency.maxUs: maxUs (1000 µs) is below minUs (2000 µs)');
  });
});

describe('a worker function that throws or answers nonsense stops the run, naming the attempt', () => {
  /** The WorkerFunctionError a run with `fn` as its worker throws (one task, `t1` in queue q). */
  function failure(fn: (call: { request: { retryCount: number } }) => unknown): WorkerFunctionError {
    const sim = createSimulation({ config, seed: 1, worker: fn as never });
    try {
      // The first attempt is dispatched by the add itself (the queue's bucket is full).
      sim.addTask({ queue: 'q', name: 't1' });
      sim.runUntilIdle({ maxSeconds: 60 });
    } catch (err) {
      expect(err).toBeInstanceOf(WorkerFunctionError);
      return err as WorkerFunctionError;
    }
    throw new Error('nothing was thrown');
  }

  it.each([
    ['a NaN latency', () => ({ status: 200, latencyMs: Number.NaN }), 'latencyMs must be a finite number of milliseconds, 0 or more; got NaN'],
    ['no latency', () => ({ status: 200 }), 'latencyMs must be a finite number of milliseconds, 0 or more; got undefined'],
    ['a latency as text', () => ({ status: 200, latencyMs: '30' }), 'latencyMs must be a finite number of milliseconds, 0 or more; got "30"'],
    ['a negative latency', () => ({ status: 200, latencyMs: -1 }), 'latencyMs must be a finite number of milliseconds, 0 or more; got -1'],
    ['an infinite latency', () => ({ status: 200, latencyMs: Number.POSITIVE_INFINITY }), 'latencyMs must be a finite number of milliseconds, 0 or more; got Infinity'],
    ['a status of 0', () => ({ status: 0, latencyMs: 5 }), 'status must be an HTTP status (a whole number from 100 to 599), or null for no answer; got 0'],
    ['a status as text', () => ({ status: '200', latencyMs: 5 }), 'status must be an HTTP status (a whole number from 100 to 599), or null for no answer; got "200"'],
    ['nothing', () => undefined, 'it returned undefined, not { status, latencyMs }'],
  ])('%s', (_, fn, problem) => {
    const err = failure(fn);
    expect(err.message).toBe(`the worker function, on attempt 1 of task t1 in queue q: ${problem}`);
    expect([err.code, err.queue, err.task, err.attempt]).toEqual(['WORKER_FUNCTION_FAILED', 'q', 't1', 1]);
  });

  it('a throw is kept as the cause, on the attempt that threw', () => {
    const boom = new TypeError('no such row');
    const err = failure(({ request }) => {
      if (request.retryCount === 2) throw boom;
      return { status: 503, latencyMs: 5 };
    });
    expect(err.message).toBe('the worker function, on attempt 3 of task t1 in queue q: it threw TypeError: no such row');
    expect(err.cause).toBe(boom);
  });

  it('good answers (null for no answer) run to the end', () => {
    const sim = createSimulation({ config, seed: 1, worker: ({ request }) => ({ status: request.retryCount === 0 ? null : 204, latencyMs: 0 }) });
    sim.addTask({ queue: 'q', name: 't1' });
    sim.runUntilIdle({ maxSeconds: 3600 });
    expect(sim.stats().queues['q']?.succeeded).toBe(1);
  });
});
