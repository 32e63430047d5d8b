// Every scenario key, read into the Scenario the engine runs.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.js';
import { runScenario } from '../../src/scenario/run.js';
import type { Scenario } from '../../src/scenario/types.js';

const QUEUE_YAML = `queue:
- name: queue-blue
  rate: 20/s
  bucket_size: 40
- name: queue-red
  rate: 10/m
  target: batch
`;

async function valid(text: string, baseDir?: string): Promise<Scenario> {
  const { scenario, issues } = await parseScenario(text, { file: 'scenario.yaml', ...(baseDir ? { baseDir } : {}) });
  expect(issues).toEqual([]);
  if (scenario === null) throw new Error('no scenario');
  return scenario;
}

describe('scenario keys', () => {
  it('reads the full example of the brief, every key, in engine units', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-scenario-'));
    writeFileSync(join(dir, 'queue.yaml'), QUEUE_YAML);
    const s = await valid(
      `seed: 42
queue_yaml: ./queue.yaml
until: 10m
workload:
  - queue: queue-blue
    count: 2000
    at: 0s
  - queue: queue-red
    count: 5000
    at: 1.5s
    rate: 50/s
    arrivals: Poisson
    url: /work
    method: put
    payload_bytes: 512
    countdown: 30s
    dispatch_deadline: 1.5m
    name_prefix: job-
    target: batch
    retry_parameters: { task_retry_limit: 2, task_age_limit: 2h, min_backoff_seconds: 0.5, max_backoff_seconds: 8, max_doublings: 3 }
worker:
  latency: 300ms
  error_rate: 0.05
  error_status: 503
  timeout_rate: 0.01
  outages: [ { from: 60s, to: 120s, status: 503 }, { from: 1h, to: 1d } ]
  routes:
    - { prefix: /slow, latency: { distribution: lognormal, p50: 300ms, p99: 2s } }
    - { target: batch, latency: { distribution: uniform, min: 10ms, max: 20ms }, error_rate: 0, error_status: 429, timeout_rate: 0.5 }
    - { prefix: /exp, latency: { distribution: exponential, mean: 1.5s } }
    - { prefix: /const, latency: { distribution: constant, value: 0 } }
targets:
  batch: { scaling: basic }
  worker: { scaling: manual }
  web:
`,
      dir,
    );
    expect(s.seed).toBe(42);
    expect(s.untilUs).toBe(600_000_000);
    expect(s.queueSource).toEqual({ kind: 'queue_yaml', path: join(dir, 'queue.yaml') });
    expect(s.config.queues.map((q) => q.name)).toEqual(['default', 'queue-blue', 'queue-red']);
    expect(s.config.queues[2]?.rate_exact).toEqual({ tokens: 1, period_us: 6_000_000 });
    expect(s.workload).toEqual([
      { queue: 'queue-blue', count: 2000, atSeconds: 0, task: {} },
      {
        queue: 'queue-red',
        count: 5000,
        atSeconds: 1.5,
        ratePerSecond: 50,
        arrivals: 'poisson',
        namePrefix: 'job-',
        task: {
          url: '/work',
          method: 'PUT',
          bodyBytes: 512,
          countdownSeconds: 30,
          dispatchDeadlineSeconds: 90,
          target: 'batch',
          retry: { task_retry_limit: 2, task_age_limit_seconds: 7200, min_backoff_seconds: 0.5, max_backoff_seconds: 8, max_doublings: 3 },
        },
      },
    ]);
    expect(s.worker).toEqual({
      latency: { distribution: 'constant', valueUs: 300_000 },
      errorRate: 0.05,
      errorStatus: 503,
      timeoutRate: 0.01,
      outages: [
        { fromUs: 60_000_000, toUs: 120_000_000, status: 503 },
        { fromUs: 3_600_000_000, toUs: 86_400_000_000, status: null },
      ],
      routes: [
        { prefix: '/slow', latency: { distribution: 'lognormal', p50Us: 300_000, p99Us: 2_000_000 } },
        { target: 'batch', latency: { distribution: 'uniform', minUs: 10_000, maxUs: 20_000 }, errorRate: 0, errorStatus: 429, timeoutRate: 0.5 },
        { prefix: '/exp', latency: { distribution: 'exponential', meanUs: 1_500_000 } },
        { prefix: '/const', latency: { distribution: 'constant', valueUs: 0 } },
      ],
    });
    expect(s.targets).toEqual({ batch: { scaling: 'basic' }, worker: { scaling: 'manual' }, web: { scaling: 'automatic' } });
  });

  it('gives the defaults for an empty file: default queue only, no seed, no until, default worker', async () => {
    const s = await valid('');
    expect(s.seed).toBeNull();
    expect(s.untilUs).toBeNull();
    expect(s.queueSource).toEqual({ kind: 'default' });
    expect(s.config.queues.map((q) => q.name)).toEqual(['default']);
    expect(s.workload).toEqual([]);
    expect(s.worker.latency).toEqual({ distribution: 'constant', valueUs: 100_000 });
    expect(s.worker.errorStatus).toBe(500);
    expect(s.targets).toEqual({});
  });

  it('reads every duration unit, with decimals, and a bare 0', async () => {
    const cases: [string, number][] = [['300ms', 300_000], ['1.5s', 1_500_000], ['5m', 300_000_000], ['2h', 7_200_000_000], ['1d', 86_400_000_000], ['0', 0], ['.5s', 500_000], ['0.0005ms', 1]];
    for (const [text, us] of cases) expect((await valid(`until: ${text}\n`)).untilUs).toBe(us);
  });

  it('reads workload rates in every unit, and a missing queue means default', async () => {
    const s = await valid('workload:\n  - { count: 1, rate: 10/m }\n  - { count: 1, rate: 1.5/s, arrivals: even }\n  - { count: 1, rate: 36/h }\n');
    expect(s.workload.map((w) => [w.queue, w.ratePerSecond, w.arrivals])).toEqual([
      ['default', 10 / 60, undefined],
      ['default', 1.5, 'even'],
      ['default', 0.01, undefined],
    ]);
  });

  it('takes an inline queue list in queue.yaml syntax, with total_storage_limit', async () => {
    const s = await valid('queue:\n  - name: fast\n    rate: 500/s\n    bucket_size: 500\ntotal_storage_limit: 1.5G\nworkload:\n  - queue: fast\n    count: 3\n');
    expect(s.queueSource).toEqual({ kind: 'inline' });
    expect(s.config.total_storage_limit_bytes).toBe(1.5 * 1024 ** 3);
    expect(s.config.queues.find((q) => q.name === 'fast')?.bucket_size).toBe(500);
  });

  it('gives the same queues, and the same run, from an inline queue list as from the same list in a queue_yaml file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-scenario-'));
    writeFileSync(join(dir, 'queue.yaml'), QUEUE_YAML);
    const rest = 'seed: 3\nworkload: [ { queue: queue-blue, count: 50 }, { queue: queue-red, count: 3 } ]\nworker: { error_rate: 0.3 }\n';
    const fromFile = await valid(`queue_yaml: queue.yaml\n${rest}`, dir);
    const inline = await valid(`${QUEUE_YAML}${rest}`);
    expect(inline.queueSource).toEqual({ kind: 'inline' });
    expect(inline.config).toEqual(fromFile.config);
    const events = (s: Scenario) => JSON.stringify(runScenario(s).simulation.events);
    expect(events(inline)).toBe(events(fromFile));
  });

  it('resolves queue_yaml against the scenario file, not the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-scenario-'));
    mkdirSync(join(dir, 'sub', 'conf'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'conf', 'q.yaml'), QUEUE_YAML);
    const s = await valid('queue_yaml: conf/q.yaml\nworkload: [ { queue: queue-red, count: 1 } ]\n', join(dir, 'sub'));
    expect(s.queueSource).toEqual({ kind: 'queue_yaml', path: join(dir, 'sub', 'conf', 'q.yaml') });
    // Without baseDir, the directory of `file` is the base.
    const r = await parseScenario('queue_yaml: conf/q.yaml\n', { file: join(dir, 'sub', 'scenario.yaml') });
    expect(r.issues).toEqual([]);
    expect(r.scenario?.config.queues).toHaveLength(3);
  });
});
