/**
 * The rehearsal each worker thread runs before its first job (src/experiments/rehearsal.ts): it
 * takes the paths it is there to take, and a job's result does not depend on it.
 */
import { describe, expect, it } from 'vitest';
import { runSeeds } from '../../src/index.js';
import { rehearsalJob } from '../../src/experiments/rehearsal.js';
import { runJob } from '../../src/experiments/run-job.js';
import { parseScenario } from '../../src/scenario/parse.js';

describe('the rehearsal', () => {
  // First in this file: the runs in this process are made before anything here has rehearsed.
  it("changes no job's result: runs on rehearsed threads equal the same seeds run in a process that never rehearsed", async () => {
    const { scenario } = await parseScenario(
      'seed: 5\nqueue:\n  - { name: q, rate: 30/s, bucket_size: 5, max_concurrent_requests: 4, retry_parameters: { task_retry_limit: 2, min_backoff_seconds: 0.2 } }\nworkload:\n  - { queue: q, count: 300, rate: 40/s, arrivals: poisson }\nworker:\n  latency: { distribution: lognormal, p50: 40ms, p99: 500ms }\n  error_rate: 0.2\n  timeout_rate: 0.01\n',
      { file: 'here.yaml' },
    );
    if (scenario === null) throw new Error('the scenario is invalid');
    const alone = [40, 41].map((seed) => runJob({ scenario, seed, file: 'here.yaml' }).report);
    const pooled = await runSeeds(scenario, { seeds: 2, firstSeed: 40, jobs: 1 });
    const strip = <T extends { wall_seconds: number }>(r: T): T => ({ ...r, wall_seconds: 0 });
    expect(pooled.runs.map(strip)).toEqual(alone.map(strip));
  });

  it('is short and takes the rarer paths: a bucket that runs dry, the concurrency cap, retries, give-ups, an outage, timeouts', async () => {
    const { report } = runJob(await rehearsalJob());
    expect(report.events).toBeLessThan(5_000);
    const q = report.queues;
    expect(Object.keys(q)).toEqual(['open', 'dry', 'capped', 'single']);
    expect(q.single!.bound.binding).toBe('rate');
    expect(q.capped!.bound.binding).toBe('max_concurrent_requests');
    expect(q.capped!.in_flight_max).toBe(2);
    // The bucket of 5 ran dry: the backlog grew far beyond it.
    expect(q.dry!.backlog_max).toBeGreaterThan(20);
    for (const name of ['open', 'dry', 'capped', 'single']) expect(q[name]!.retries, name).toBeGreaterThan(0);
    expect(q.capped!.failed + q.dry!.failed).toBeGreaterThan(0);
    // Timeouts hold an attempt to its deadline: the run's virtual time goes far past its arrivals.
    expect(report.virtual_seconds).toBeGreaterThan(60);
  });

  it('is the same job every time it is asked for (parsed once)', async () => {
    expect(await rehearsalJob()).toBe(await rehearsalJob());
  });

});
