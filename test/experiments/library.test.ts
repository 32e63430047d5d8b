/**
 * The experiments as a library (runSeeds, compare, tune from 'pushq'): real runs on real worker
 * threads (the build's worker script: test/global-setup.ts builds dist/ first).
 */
import { describe, expect, it } from 'vitest';
import { compare, runSeeds, SeedRunError, tune, ExperimentArgumentError, coreCount } from '../../src/index.js';
import { parseScenario } from '../../src/scenario/parse.js';
import type { Scenario } from '../../src/scenario/types.js';

async function scenario(text: string, file = 'test.yaml'): Promise<Scenario> {
  const { scenario: s, issues } = await parseScenario(text, { file });
  if (s === null) throw new Error(issues.map((i) => i.message).join('\n'));
  return s;
}

const FLAKY = `seed: 11
queue:
  - { name: emails, rate: 50/s, bucket_size: 20, max_concurrent_requests: 8, retry_parameters: { task_retry_limit: 2, min_backoff_seconds: 0.5 } }
workload:
  - { queue: emails, count: 300, rate: 40/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 50ms, p99: 600ms }
  error_rate: 0.2
`;

describe('runSeeds', () => {
  it('runs seeds s..s+N-1 and gives each figure its mean, 95% interval, min and max; each run as simulate --json gives it; the series bands', async () => {
    const s = await scenario(FLAKY);
    const r = await runSeeds(s, { seeds: 6, series: true });
    expect(r.seeds).toEqual([11, 12, 13, 14, 15, 16]);
    expect(r.runs.map((run) => run.seed)).toEqual(r.seeds);
    const attempts = r.queues.emails!.attempts;
    const values = r.runs.map((run) => run.queues.emails!.attempts);
    expect(attempts.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 6, 9);
    expect([attempts.min, attempts.max]).toEqual([Math.min(...values), Math.max(...values)]);
    expect(attempts.ci95_low!).toBeLessThan(attempts.mean!);
    expect(attempts.ci95_high!).toBeGreaterThan(attempts.mean!);
    expect(Object.keys(attempts)).toEqual(['mean', 'ci95_low', 'ci95_high', 'min', 'max']);
    expect(new Set(values).size).toBeGreaterThan(1);
    expect(r.series?.runs).toBe(6);
    expect(r.series?.queues.emails?.fields.dispatched.median.length).toBe(r.series?.queues.emails?.t_seconds.length);
  });

  it('gives the same figures as the same seeds run one at a time (a run on a worker thread is the run)', async () => {
    const s = await scenario(FLAKY);
    const many = await runSeeds(s, { seeds: 3, firstSeed: 100, jobs: Math.min(2, coreCount()) });
    const one = await runSeeds(s, { seeds: 1, firstSeed: 101, jobs: 1 });
    const strip = (r: (typeof many.runs)[number]) => ({ ...r, wall_seconds: 0 });
    expect(strip(one.runs[0]!)).toEqual(strip(many.runs[1]!));
  });

  it('refuses before running, naming the option given (no flag: a library has none): seeds 0, jobs above the cores, seeds past the largest, a resolution of 0', async () => {
    const s = await scenario(FLAKY);
    await expect(runSeeds(s, { seeds: 0 })).rejects.toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'seeds', argument: 'seeds', message: 'seeds: must be a whole number from 1 to 10000 (got 0)' });
    await expect(runSeeds(s, { seeds: 2, jobs: coreCount() + 1 })).rejects.toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'jobs', message: expect.stringMatching(/^jobs: must be a whole number from 1 to \d+, the cores of this machine/) });
    await expect(runSeeds(s, { seeds: 2, firstSeed: 4294967295 })).rejects.toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'firstSeed', message: expect.stringMatching(/^firstSeed: seeds 4294967295 to 4294967296 go past/) });
    await expect(runSeeds(s, { seeds: 2, series: { resolutionSeconds: 0 } })).rejects.toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'series.resolutionSeconds', message: 'series.resolutionSeconds: must be above zero (got 0)' });
    await expect(runSeeds(s, { seeds: 2, series: { resolutionSeconds: 0 } })).rejects.toBeInstanceOf(ExperimentArgumentError);
  });

  it('seeds that run past the largest from the scenario\'s own seed (no firstSeed given): names seeds, not the firstSeed no one gave, and how to start lower', async () => {
    const s = await scenario(FLAKY.replace('seed: 11', 'seed: 4294967295'), 'high.yaml');
    const error = (await runSeeds(s, { seeds: 2 }).catch((e: unknown) => e)) as ExperimentArgumentError;
    expect(error).toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'seeds', message: 'seeds: seeds 4294967295 to 4294967296 go past 4294967295 (the first is the seed of high.yaml); give firstSeed 4294967294 or lower' });
    // The CLI names its flags: --seeds at fault, --seed the way out.
    expect(error.describe(({ option }) => (option === 'seeds' ? '--seeds' : '--seed'))).toBe('--seeds: seeds 4294967295 to 4294967296 go past 4294967295 (the first is the seed of high.yaml); give --seed 4294967294 or lower');
  });

  it('a worker thread that dies (here: its memory limit) fails the experiment with its seed named', async () => {
    const s = await scenario('seed: 3\nqueue:\n  - { name: q, rate: 500/s, bucket_size: 500 }\nworkload:\n  - { queue: q, count: 300000, name_prefix: job- }\n');
    const error = await runSeeds(s, { seeds: 1, firstSeed: 7, memoryLimitMb: 16 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeedRunError);
    expect(error).toMatchObject({ code: 'WORKER_CRASHED', seed: 7, file: 'test.yaml', setting: null });
    expect((error as Error).message).toMatch(/seed 7 .*crashed/);
  });
});

describe('compare', () => {
  it('runs the files on the same seeds; a paired difference with its interval and a verdict per figure', async () => {
    const a = await scenario('seed: 1\nqueue:\n  - { name: q, rate: 10/s, bucket_size: 10 }\nworkload:\n  - { queue: q, count: 400 }\nworker:\n  latency: { distribution: exponential, mean: 100ms }\n  error_rate: 0.1\n', 'a.yaml');
    const b = await scenario('seed: 1\nqueue:\n  - { name: q, rate: 20/s, bucket_size: 10 }\nworkload:\n  - { queue: q, count: 400 }\nworker:\n  latency: { distribution: exponential, mean: 100ms }\n  error_rate: 0.1\n', 'b.yaml');
    const r = await compare([a, b], { seeds: 5 });
    expect(r.variants).toEqual(['a.yaml', 'b.yaml']);
    expect(r.seeds).toEqual([1, 2, 3, 4, 5]);
    const drained = r.queues.q!.drained_at_seconds;
    expect(drained.variants).toHaveLength(2);
    const d = drained.differences[0]!;
    const paired = r.runs[1]!.map((run, i) => run.queues.q!.drained_at_seconds! - r.runs[0]![i]!.queues.q!.drained_at_seconds!);
    expect(d.mean).toBeCloseTo(paired.reduce((x, y) => x + y, 0) / 5, 6);
    expect(d.ci95_high!).toBeLessThan(0);
    expect(d.verdict).toMatch(/^b\.yaml drains [\d.]+ s sooner than a\.yaml, 95% CI [\d.]+–[\d.]+ s$/);
    // Common random numbers: both files see the same attempt outcomes, so as many attempts fail.
    expect(r.queues.q!.retries.differences[0]!.verdict).toBe('b.yaml: the same as a.yaml on every seed');
    expect(r.queues.q!.tasks_added.differences[0]!.verdict).toBe('b.yaml: the same as a.yaml on every seed');
  });

  it('a figure null on the same seeds in both files and equal on the others is the same on every seed, not "not comparable"', async () => {
    // `slow` never drains before `until` in either file (its drain time is null on every seed);
    // `q` drains in a.yaml and not in c.yaml: that one is not comparable.
    const file = (rate: string) => `seed: 1\nuntil: 20s\nqueue:\n  - { name: q, rate: ${rate}, bucket_size: 5 }\n  - { name: slow, rate: 1/s, bucket_size: 1 }\nworkload:\n  - { queue: q, count: 50 }\n  - { queue: slow, count: 100 }\nworker:\n  latency: 10ms\n`;
    const r = await compare([await scenario(file('10/s'), 'a.yaml'), await scenario(file('1/s'), 'c.yaml')], { seeds: 3 });
    expect(r.runs.flat().map((run) => run.queues.slow!.drained_at_seconds)).toEqual([null, null, null, null, null, null]);
    expect(r.queues.slow!.drained_at_seconds.differences[0]!.verdict).toBe('c.yaml: the same as a.yaml on every seed');
    expect(Object.values(r.queues.slow!).every((c) => c.differences[0]!.verdict === 'c.yaml: the same as a.yaml on every seed')).toBe(true);
    expect(r.queues.q!.drained_at_seconds.differences[0]!.verdict).toBe('c.yaml: not comparable with a.yaml (drained_at_seconds is null in some run: the queue has not drained by the end of the run in c.yaml on 3 of 3 seeds, in a.yaml on none)');
  });

  it('refuses fewer than two files', async () => {
    await expect(compare([await scenario(FLAKY)], { seeds: 2 })).rejects.toMatchObject({ code: 'EXPERIMENT_ARGUMENT', option: 'scenarios', message: 'scenarios: compare takes two scenario files or more (got 1)' });
  });
});

describe('tune', () => {
  const BURST = 'seed: 1\nqueue:\n  - { name: q, rate: 20/s, bucket_size: 40 }\nworkload:\n  - { queue: q, count: 1000 }\nworker:\n  latency: 1ms\n';

  it('says when no setting in range meets the goals, with the best it found', async () => {
    const r = await tune(await scenario(BURST), { seeds: 1, vary: ['q.rate=1..10'], goals: ['q.last_dispatch_at_seconds <= 60'] });
    expect(r.answer).toBeNull();
    expect(r.best?.setting).toEqual({ 'q.rate': 10 });
    expect(r.binding_goal).toBe('q.last_dispatch_at_seconds <= 60');
  });

  it('with outages, runs every setting below the bisection\'s answer too and answers the least that meets the goals', async () => {
    // A faster queue sends more attempts into the outage: the drain time is not monotone in the
    // rate (worst of two seeds, 4..11/s: 1982, 1655, 1996, 1960, 1428, 1421, 1624, 1893 s).
    const messy = await scenario(`seed: 1
queue:
  - { name: q, rate: 5/s, bucket_size: 5, max_concurrent_requests: 5, retry_parameters: { task_retry_limit: 3, min_backoff_seconds: 30, max_backoff_seconds: 120 } }
workload:
  - { queue: q, count: 400 }
  - { queue: q, count: 400, at: 20s, rate: 10/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 300ms, p99: 5s }
  error_rate: 0.2
  timeout_rate: 0.01
  outages: [ { from: 15s, to: 40s, status: 503 }, { from: 70s, to: 80s } ]
`);
    const options = { seeds: 2, vary: ['q.rate=1..20'], goals: ['q.drained_at_seconds <= 1700'] };
    const plain = await tune(messy, { ...options, search: 'bisection' });
    const scanned = await tune(messy, options);
    const full = await tune(messy, { ...options, search: 'grid' });
    expect(scanned.search).toBe('bisection_then_scan');
    expect(scanned.answer).toEqual(full.answer);
    // The plain bisection's answer meets the goal, but it is not the least.
    expect(plain.answer!['q.rate']).toBeGreaterThan(full.answer!['q.rate']!);
    // Every setting below the answer was run; beyond the bisection's own probes, none above its answer.
    const rates = new Set(scanned.evaluations.map((e) => e.setting['q.rate']));
    for (let r = 1; r < full.answer!['q.rate']!; r++) expect(rates.has(r), `${r}/s`).toBe(true);
    const probed = new Set(plain.evaluations.map((e) => e.setting['q.rate']));
    for (const r of rates) expect(probed.has(r) || r! < plain.answer!['q.rate']!, `${r}/s`).toBe(true);
    expect(scanned.evaluations.length).toBeLessThan(full.evaluations.length);
    expect(scanned.below_answer?.setting).toEqual({ 'q.rate': full.answer!['q.rate']! - 1 });
  }, 120_000);

  it('with outages, still a plain bisection when no goal is on the varied queue (it moves no other queue)', async () => {
    const two = await scenario(`seed: 1
queue:
  - { name: q, rate: 20/s, bucket_size: 40 }
  - { name: other, rate: 5/s, bucket_size: 5 }
workload:
  - { queue: q, count: 200 }
  - { queue: other, count: 50 }
worker:
  latency: 1ms
  outages: [ { from: 2s, to: 4s, status: 503 } ]
`);
    const r = await tune(two, { seeds: 1, jobs: 1, vary: ['q.rate=1..400'], goals: ['other.drained_at_seconds <= 1h'] });
    expect(r.search).toBe('bisection');
    expect(r.evaluations.length).toBeLessThan(15);
    // On the varied queue (or all.), the scan; and its range is held to the grid's 400 settings.
    expect((await tune(two, { seeds: 1, jobs: 1, vary: ['q.rate=1..40'], goals: ['all.drained_at_seconds <= 1h'] })).search).toBe('bisection_then_scan');
    await expect(tune(two, { seeds: 1, vary: ['q.rate=1..401'], goals: ['q.drained_at_seconds <= 1h'] })).rejects.toThrow(/^vary "q\.rate=1\.\.401": 401 settings; the worker has outages.*\(or search "bisection", which may not find the least\)$/);
  }, 60_000);

  it('searches a grid where a goal is not known to move one way, and picks the least setting that meets them', async () => {
    const r = await tune(await scenario(BURST), { seeds: 1, vary: ['q.bucket_size=10..100:10'], goals: ['q.dispatches_max_in_any_1s <= 50'] });
    expect(r.search).toBe('grid');
    expect(r.evaluations).toHaveLength(10);
    expect(r.answer).toEqual({ 'q.bucket_size': 10 });
    // More tokens at once, more dispatches in the first second: 30 + 20 = 50 meets, 40 + 20 does not.
    const r2 = await tune(await scenario(BURST), { seeds: 1, vary: ['q.bucket_size=10..100:10'], goals: ['q.dispatches_max_in_any_1s >= 55'] });
    expect(r2.answer).toEqual({ 'q.bucket_size': 40 });
    expect(r2.below_answer?.setting).toEqual({ 'q.bucket_size': 30 });
  });

  it('varies two keys on a grid, least by the first', async () => {
    const r = await tune(await scenario(BURST), { seeds: 1, vary: ['q.rate=10..30:10', 'q.bucket_size=40..240:100'], goals: ['q.last_dispatch_at_seconds <= 40'] });
    expect(r.search).toBe('grid');
    // rate 10: (1000 - bucket) / 10 ≤ 40 needs bucket ≥ 600: none; rate 20: bucket 240 gives 38 s.
    expect(r.answer).toEqual({ 'q.rate': 20, 'q.bucket_size': 240 });
  });

  it('refuses to vary what dev_server: true never reads (rate, bucket_size, max_concurrent_requests), which would answer the least setting whatever production needs', async () => {
    const dev = await scenario(`dev_server: true\n${BURST}`);
    for (const vary of ['q.rate=1..10', 'q.bucket_size=1..10', 'q.max_concurrent_requests=1..10']) {
      await expect(tune(dev, { seeds: 1, vary: [vary], goals: ['q.last_dispatch_at_seconds <= 60'] })).rejects.toMatchObject({
        code: 'EXPERIMENT_ARGUMENT',
        option: 'vary',
        message: `vary "${vary}": ${vary.split('=')[0]}: the scenario runs dev_appserver's rules (dev_server: true), which never read rate, bucket_size or max_concurrent_requests, so every setting would run alike; tune it without dev_server, or vary a retry parameter`,
      });
    }
    // Retry parameters still count in that mode: tuned as ever.
    const r = await tune(dev, { seeds: 1, vary: ['q.task_retry_limit=0..2'], goals: ['q.failed <= 0'] });
    expect(r.answer).toEqual({ 'q.task_retry_limit': 0 });
  });

  it('refuses before running: no goal, an unknown figure, a range outside the limits, a grid too large', async () => {
    const s = await scenario(BURST);
    // Each names the option given, in the library's words; the CLI renders the same error with its flags (test/cli/experiments.test.ts).
    await expect(tune(s, { seeds: 1, vary: [], goals: ['q.failed <= 1'] })).rejects.toMatchObject({ option: 'vary', message: 'vary: give at least one: QUEUE.KEY=LOW..HIGH[:STEP]' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=1..10'], goals: [] })).rejects.toMatchObject({ option: 'goals', argument: 'goals' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=1..10'], goals: ['q.wait <= 1'] })).rejects.toMatchObject({ option: 'goals', values: ['q.wait <= 1'], argument: 'goals "q.wait <= 1"' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=1..501'], goals: ['q.failed <= 1'] })).rejects.toMatchObject({ option: 'vary', values: ['q.rate=1..501'], argument: 'vary "q.rate=1..501"' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=1..10', 'q.rate=2..3'], goals: ['q.failed <= 1'] })).rejects.toMatchObject({ message: 'vary "q.rate=2..3": q.rate is varied twice' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=1..10', 'q.bucket_size=1..5'], goals: ['q.failed <= 1'], search: 'bisection' })).rejects.toMatchObject({ option: 'search', message: 'search "bisection": a bisection varies one key; several take a grid' });
    await expect(tune(s, { seeds: 1, vary: ['q.rate=0.01..100:0.01'], goals: ['q.failed <= 1'] })).rejects.toMatchObject({ option: 'vary', message: expect.stringMatching(/^vary "q\.rate=0\.01\.\.100:0\.01": a grid of 10,000 settings/) });
    for (const options of [{ seeds: 0, vary: ['q.rate=1..10'], goals: ['q.failed <= 1'] }, { seeds: 1, vary: ['q.colour=1..2'], goals: ['q.failed <= 1'] }, { seeds: 1, vary: ['q.rate=1..10'], goals: ['q.failed <= x'] }]) {
      await expect(tune(s, options)).rejects.toThrow(/^(?!.*--)/);
    }
  });
});

describe('the worker-thread pool', () => {
  // Each live worker thread holds a MessagePort open in this process; a closed pool leaves none.
  const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

  it('is closed when the promise settles: after runSeeds, compare and tune, and after a run that fails', async () => {
    const before = ports();
    const during: number[] = [];
    const onRun = (): void => void during.push(ports());
    const s = await scenario(FLAKY);
    await runSeeds(s, { seeds: 2, jobs: 1, onRun });
    expect(ports()).toBe(before);
    await compare([s, s], { seeds: 2, jobs: 1, onRun });
    expect(ports()).toBe(before);
    await tune(await scenario('seed: 1\nqueue:\n  - { name: q, rate: 20/s, bucket_size: 40 }\nworkload:\n  - { queue: q, count: 1000 }\n'), { seeds: 1, jobs: 1, vary: ['q.rate=10..20'], goals: ['q.last_dispatch_at_seconds <= 60'], onRun });
    expect(ports()).toBe(before);
    // The count sees the threads while they run (so the checks above can fail).
    expect(Math.min(...during)).toBeGreaterThan(before);
    const big = await scenario('seed: 3\nqueue:\n  - { name: q, rate: 500/s, bucket_size: 500 }\nworkload:\n  - { queue: q, count: 300000, name_prefix: job- }\n');
    // Two threads: one dies, the other must be stopped.
    await expect(runSeeds(big, { seeds: 2, jobs: Math.min(2, coreCount()), memoryLimitMb: 16 })).rejects.toBeInstanceOf(SeedRunError);
    expect(ports()).toBe(before);
  });
});
