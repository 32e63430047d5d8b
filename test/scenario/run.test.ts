// A parsed scenario drives the engine as its keys say: each test changes one key and checks the
// run's figures move the way App Engine's rules (and the worker model) say they must.
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.js';
import { runScenario, type ScenarioRun } from '../../src/scenario/run.js';

async function run(text: string, seed?: number): Promise<ScenarioRun> {
  const { scenario, issues } = await parseScenario(text, { file: 's.yaml' });
  expect(issues).toEqual([]);
  return runScenario(scenario!, seed === undefined ? {} : { seed });
}

const QUEUE = 'queue:\n  - { name: q, rate: 10/s, bucket_size: 1 }\n';

describe('runScenario', () => {
  it('takes the seed from the option, else the scenario, else 1', async () => {
    const text = `${QUEUE}workload: [ { queue: q, count: 5 } ]\n`;
    expect((await run(`seed: 9\n${text}`, 4)).seed).toBe(4);
    expect((await run(`seed: 9\n${text}`)).seedSource).toBe('scenario');
    const d = await run(text);
    expect([d.seed, d.seedSource]).toEqual([1, 'default']);
  });

  it('stops at `until`, leaving the rest pending; without it, runs until every task has settled', async () => {
    const text = `${QUEUE}workload: [ { queue: q, count: 100 } ]\n`;
    const cut = (await run(`${text}until: 2s\n`)).stats;
    expect(cut.virtual_seconds).toBe(2);
    expect(cut.queues['q']!.pending).toBeGreaterThan(70);
    const all = (await run(text)).stats;
    expect(all.queues['q']!.pending).toBe(0);
    expect(all.queues['q']!.succeeded).toBe(100);
  });

  it('a workload of 0 tasks adds nothing and does not move the end of the run (virtual_seconds is the last event)', async () => {
    const none = await run('workload: [ { count: 0, at: 1h } ]\n');
    expect(none.stats.virtual_seconds).toBe(0);
    expect(none.stats.events).toBe(1);
    const some = await run('workload: [ { count: 2, at: 10s }, { count: 0, at: 2h }, { count: 0, at: 3h, rate: 1/s } ]\n');
    expect(some.stats.virtual_seconds).toBe(10.1);
    expect(some.stats.queues['default']!.drained_at_seconds).toBe(10.1);
  });

  it('stops a run without `until` at the 31-day limit when tasks retry forever, and says so', async () => {
    const forever = await run('workload: [ { count: 2 } ]\nworker: { error_rate: 1 }\n');
    expect(forever.stoppedBy).toBe('limit');
    expect(forever.stats.queues['default']!.pending).toBe(2);
    expect(forever.stats.virtual_seconds).toBeGreaterThan(30 * 86_400);
    expect(forever.stats.virtual_seconds).toBeLessThanOrEqual(31 * 86_400);
    const done = await run('workload: [ { count: 2 } ]\n');
    expect([done.stoppedBy, done.stats.virtual_seconds]).toEqual(['idle', 0.1]); // both dispatched at 0 (a full bucket of 5), done in 100 ms
    expect((await run('workload: [ { count: 2 } ]\nuntil: 1s\n')).stoppedBy).toBe('idle');
    expect((await run('workload: [ { count: 2, at: 2s } ]\nuntil: 1s\n')).stoppedBy).toBe('until');
  });

  it('places arrivals at `at` and `rate`: evenly spaced, or Poisson gaps of the same mean', async () => {
    const even = (await run(`${QUEUE}workload: [ { queue: q, count: 50, at: 3s, rate: 5/s } ]\n`)).stats.queues['q']!;
    expect(even.first_dispatch_at_seconds).toBe(3);
    expect(even.last_dispatch_at_seconds).toBeCloseTo(3 + 49 / 5, 6);
    const poisson = (await run(`seed: 3\n${QUEUE}workload: [ { queue: q, count: 50, at: 3s, rate: 5/s, arrivals: poisson } ]\n`)).stats.queues['q']!;
    expect(poisson.first_dispatch_at_seconds).toBe(3); // the first arrival is at `at`, then random gaps
    expect(poisson.last_dispatch_at_seconds).not.toBeCloseTo(even.last_dispatch_at_seconds!, 3);
    expect(poisson.last_dispatch_at_seconds! - 3).toBeGreaterThan(5);
    expect(poisson.last_dispatch_at_seconds! - 3).toBeLessThan(20);
  });

  it('applies countdown to every task', async () => {
    const q = (await run(`${QUEUE}workload: [ { queue: q, count: 3, countdown: 1m } ]\n`)).stats.queues['q']!;
    expect(q.first_dispatch_at_seconds).toBe(60);
    expect(q.completion_seconds.p50).toBeGreaterThan(60);
  });

  it('dispatch_deadline: a 20 s handler fails every attempt of tasks with a 15 s deadline; the others succeed', async () => {
    const text = `${QUEUE}workload:\n  - { queue: q, count: 5, dispatch_deadline: 15s, retry_parameters: { task_retry_limit: 1 } }\n  - { queue: q, count: 5, retry_parameters: { task_retry_limit: 1 } }\nworker:\n  latency: 20s\n`;
    const q = (await run(text)).stats.queues['q']!;
    expect(q.succeeded).toBe(5);
    expect(q.failed).toBe(5);
  });

  it('routes by URL prefix: the matching route overrides latency and error rate', async () => {
    const text = `${QUEUE}workload:\n  - { queue: q, count: 20, url: /slow/x, retry_parameters: { task_retry_limit: 0 } }\n  - { queue: q, count: 20, at: 10s }\nworker:\n  latency: 100ms\n  routes: [ { prefix: /slow, latency: 4s, error_rate: 1, error_status: 429 } ]\n`;
    const q = (await run(text)).stats.queues['q']!;
    // 20 tasks hit /slow and fail (429, no retry); the 20 others succeed in 100 ms.
    expect(q.succeeded).toBe(20);
    expect(q.failed).toBe(20);
    expect(q.latency_seconds.p99).toBe(4);
    expect(q.latency_seconds.p50).toBe(0.1);
    // The fast ones: bucket 1 at 10/s from 10 s, so the last is dispatched at 11.9 s and done at 12 s.
    expect(q.completion_seconds.max).toBeCloseTo(2, 6);
  });

  it('gives up as the per-task retry_parameters say, replacing the queue\'s', async () => {
    const text = (retry: string) => `${QUEUE}workload: [ { queue: q, count: 10${retry} } ]\nworker: { error_rate: 1 }\nuntil: 1h\n`;
    const limited = (await run(text(', retry_parameters: { task_retry_limit: 2 }'))).stats.queues['q']!;
    expect(limited.failed).toBe(10);
    expect(limited.attempts).toBe(30);
    const unlimited = (await run(text(''))).stats.queues['q']!;
    expect(unlimited.failed).toBe(0);
    expect(unlimited.pending).toBe(10);
  });

  it('fails attempts that never answer at the deadline of the target\'s scaling: 10 min automatic, 24 h basic', async () => {
    const text = (targets: string) => `queue:\n  - { name: q, rate: 10/s, target: batch, retry_parameters: { task_retry_limit: 0 } }\nworkload: [ { queue: q, count: 2 } ]\nworker: { timeout_rate: 1 }\n${targets}`;
    const automatic = (await run(text(''))).stats.queues['q']!;
    expect(automatic.failed).toBe(2);
    expect(automatic.latency_seconds.p99).toBe(600);
    const basic = (await run(text('targets: { batch: { scaling: basic } }\n'))).stats.queues['q']!;
    expect(basic.latency_seconds.p99).toBe(86_400);
  });

  it("a task's own task_age_limit is rounded up to whole seconds (Python SDK), a queue's truncated", async () => {
    // Always 500, 1 s between attempts (no doubling); give-up needs age > limit: 3 s → attempts at 0, 1, 2, 3, 4.
    const text = (where: 'task' | 'queue') =>
      `queue:\n  - name: q\n    rate: 10/s\n${where === 'queue' ? '    retry_parameters: { task_age_limit: 2.5s, min_backoff_seconds: 1, max_backoff_seconds: 1 }\n' : ''}` +
      `workload: [ { queue: q, count: 1${where === 'task' ? ', retry_parameters: { task_age_limit: 2.5s, min_backoff_seconds: 1, max_backoff_seconds: 1 }' : ''} } ]\nworker: { latency: 0s, error_rate: 1 }\n`;
    expect((await run(text('task'))).stats.queues['q']!).toMatchObject({ failed: 1, attempts: 5 });
    expect((await run(text('queue'))).stats.queues['q']!).toMatchObject({ failed: 1, attempts: 4 });
  });

  it('answers attempts during an outage with its status at once, or not at all without one', async () => {
    const text = (status: string) => `${QUEUE}workload: [ { queue: q, count: 1, at: 5s, retry_parameters: { task_retry_limit: 0 } } ]\nworker:\n  latency: 2s\n  outages: [ { from: 5s, to: 6s${status} } ]\n`;
    const answered = (await run(text(', status: 503'))).stats;
    expect(answered.queues['q']!.failed).toBe(1);
    expect(answered.queues['q']!.latency_seconds.p50).toBe(0); // at once, not after the 2 s latency
    const silent = (await run(text(''))).stats.queues['q']!;
    expect(silent.failed).toBe(1);
    expect(silent.latency_seconds.p50).toBe(600);
  });

  it('is deterministic: the same scenario and seed give the same events; another seed does not', async () => {
    const text = `${QUEUE}workload: [ { queue: q, count: 200, rate: 20/s, arrivals: poisson } ]\nworker:\n  latency: { distribution: lognormal, p50: 300ms, p99: 2s }\n  error_rate: 0.2\n`;
    const json = async (seed: number) => JSON.stringify((await run(text, seed)).simulation.events);
    const [a, b, c] = await Promise.all([json(5), json(5), json(6)]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});
