// Every scenario problem, reported at its exact line and column with its key path and code;
// all of them at once, and no scenario when there is any error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.js';

type Found = [line: number, column: number, path: string, code: string];

async function problems(text: string, baseDir = '/nonexistent'): Promise<Found[]> {
  const { scenario, issues } = await parseScenario(text, { file: 's.yaml', baseDir });
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) expect(scenario).toBeNull();
  return issues.map((i) => [i.line, i.column, i.path, i.code]);
}

describe('scenario issues', () => {
  const cases: [name: string, text: string, expected: Found[]][] = [
    ['unknown top-level key', 'sed: 1\n', [[1, 1, 'sed', 'unknown-key']]],
    ['a workload key at the top level', 'count: 3\n', [[1, 1, 'count', 'unknown-key']]],
    ['unknown workload key', 'workload:\n  - count: 1\n    nme_prefix: a\n', [[3, 5, 'workload[0].nme_prefix', 'unknown-key']]],
    ['unknown worker key', 'worker:\n  latncy: 3s\n', [[2, 3, 'worker.latncy', 'unknown-key']]],
    ['unknown latency key', 'worker:\n  latency: { distribution: uniform, min: 1s, maxx: 2s }\n', [[2, 3, 'worker.latency', 'required-key-missing'], [2, 46, 'worker.latency.maxx', 'unknown-key']]],
    ['unknown target key', 'targets:\n  batch: { scale: basic }\n', [[2, 12, 'targets.batch.scale', 'unknown-key']]],
    ['workload not a list', 'workload:\n  queue: a\n', [[2, 3, 'workload', 'wrong-type']]],
    ['a list where a value goes', 'until: [1s]\n', [[1, 8, 'until', 'wrong-type']]],
    ['not a mapping', '- a\n', [[1, 1, '', 'wrong-type']]],
    ['yaml syntax', 'seed: [1\n', [[2, 1, '', 'yaml-syntax']]],
    ['duplicate key', 'seed: 1\nseed: 2\n', [[2, 1, 'seed', 'duplicate-key']]],
    ['bad seed', 'seed: 1.5\n', [[1, 7, 'seed', 'seed-invalid']]],
    ['seed too large', 'seed: 4294967296\n', [[1, 7, 'seed', 'seed-invalid']]],
    ['bad duration', 'until: 10\n', [[1, 8, 'until', 'duration-invalid']]],
    ['duration unit unknown', 'until: 2w\n', [[1, 8, 'until', 'duration-invalid']]],
    ['duration too long', 'until: 366d\n', [[1, 8, 'until', 'duration-invalid']]],
    ['bad rate', 'workload:\n  - count: 1\n    rate: 50\n', [[3, 11, 'workload[0].rate', 'workload-rate-invalid']]],
    ['zero rate', 'workload:\n  - count: 1\n    rate: 0/s\n', [[3, 11, 'workload[0].rate', 'workload-rate-invalid']]],
    ['missing count', 'workload:\n  - queue: default\n', [[2, 5, 'workload[0]', 'required-key-missing']]],
    ['bad count', 'workload:\n  - count: -1\n', [[2, 12, 'workload[0].count', 'count-invalid']]],
    ['unknown queue', 'workload:\n  - queue: defualt\n    count: 1\n', [[2, 12, 'workload[0].queue', 'workload-queue-unknown']]],
    ['pull queue', 'queue:\n  - name: p\n    mode: pull\nworkload:\n  - { queue: p, count: 1 }\n', [[5, 14, 'workload[0].queue', 'workload-queue-pull']]],
    ['bad arrivals', 'workload:\n  - { count: 1, rate: 1/s, arrivals: bursty }\n', [[2, 38, 'workload[0].arrivals', 'arrivals-invalid']]],
    ['arrivals without rate', 'workload:\n  - { count: 1, arrivals: poisson }\n', [[2, 17, 'workload[0].arrivals', 'arrivals-without-rate']]],
    ['bad url', 'workload:\n  - { count: 1, url: work }\n', [[2, 22, 'workload[0].url', 'task-invalid']]],
    ['bad method', 'workload:\n  - { count: 1, method: FETCH }\n', [[2, 25, 'workload[0].method', 'task-invalid']]],
    ['payload on GET', 'workload:\n  - { count: 1, method: GET, payload_bytes: 10 }\n', [[2, 45, 'workload[0].payload_bytes', 'task-invalid']]],
    ['payload too large', 'workload:\n  - { count: 1, payload_bytes: 200000 }\n', [[2, 32, 'workload[0].payload_bytes', 'task-invalid']]],
    ['bad name prefix', 'workload:\n  - { count: 1, name_prefix: "a b" }\n', [[2, 30, 'workload[0].name_prefix', 'task-invalid']]],
    ['countdown beyond 30 days', 'workload:\n  - { count: 1, countdown: 31d }\n', [[2, 28, 'workload[0].countdown', 'task-invalid']]],
    ['bad countdown', 'workload:\n  - { count: 1, countdown: soon }\n', [[2, 28, 'workload[0].countdown', 'duration-invalid']]],
    ['dispatch deadline below 15 s', 'workload:\n  - { count: 1, dispatch_deadline: 10s }\n', [[2, 36, 'workload[0].dispatch_deadline', 'task-invalid']]],
    ['dispatch deadline above 24 h', 'workload:\n  - { count: 1, dispatch_deadline: 25h }\n', [[2, 36, 'workload[0].dispatch_deadline', 'task-invalid']]],
    ['bad dispatch deadline', 'workload:\n  - { count: 1, dispatch_deadline: soon }\n', [[2, 36, 'workload[0].dispatch_deadline', 'duration-invalid']]],
    ['bad target', 'workload:\n  - { count: 1, target: Batch }\n', [[2, 25, 'workload[0].target', 'task-invalid']]],
    ['duplicate name prefix', 'workload:\n  - { count: 1, name_prefix: j }\n  - { count: 1, name_prefix: j }\n', [[3, 30, 'workload[1].name_prefix', 'name-prefix-duplicate']]],
    ['name prefix extending another by digits', 'workload:\n  - { count: 12, name_prefix: job- }\n  - { count: 2, name_prefix: job-1 }\n', [[3, 30, 'workload[1].name_prefix', 'name-prefix-duplicate']]],
    ['name prefixes that cannot meet', 'workload:\n  - { count: 10, name_prefix: job- }\n  - { count: 2, name_prefix: job-1 }\n  - { count: 2, name_prefix: job-0 }\n  - { queue: other, count: 1, name_prefix: job- }\nqueue:\n  - { name: other, rate: 1/s }\n', []],
    ['bad task retry value', 'workload:\n  - count: 1\n    retry_parameters:\n      task_age_limit: 0s\n      max_doublings: x\n', [[4, 23, 'workload[0].retry_parameters.task_age_limit', 'retry-parameter-invalid'], [5, 22, 'workload[0].retry_parameters.max_doublings', 'retry-parameter-invalid']]],
    ['task retry min above max', 'workload:\n  - count: 1\n    retry_parameters: { min_backoff_seconds: 5, max_backoff_seconds: 1 }\n', [[3, 46, 'workload[0].retry_parameters.min_backoff_seconds', 'task-invalid']]],
    ['bad fraction', 'worker:\n  timeout_rate: 2\n', [[2, 17, 'worker.timeout_rate', 'fraction-invalid']]],
    ['bad status', 'worker:\n  error_status: 700\n', [[2, 17, 'worker.error_status', 'status-invalid']]],
    ['latency as a list', 'worker:\n  latency: [1s]\n', [[2, 12, 'worker.latency', 'latency-invalid']]],
    ['unknown distribution', 'worker:\n  latency: { distribution: pareto, mean: 1s }\n', [[2, 28, 'worker.latency.distribution', 'latency-invalid']]],
    ['parameter of another distribution', 'worker:\n  latency: { distribution: exponential, mean: 1s, p50: 1s }\n', [[2, 51, 'worker.latency.p50', 'latency-invalid']]],
    ['no distribution', 'worker:\n  latency: { mean: 1s }\n', [[2, 3, 'worker.latency', 'required-key-missing']]],
    ['p99 below p50', 'worker:\n  latency: { distribution: lognormal, p50: 2s, p99: 1s }\n', [[2, 53, 'worker.latency.p99', 'latency-invalid']]],
    ['uniform max below min', 'worker:\n  latency: { distribution: uniform, min: 2s, max: 1s }\n', [[2, 51, 'worker.latency.max', 'latency-invalid']]],
    ['outage without to', 'worker:\n  outages:\n    - from: 1s\n', [[3, 7, 'worker.outages[0]', 'required-key-missing']]],
    ['outage ends first', 'worker:\n  outages: [ { from: 2s, to: 1s } ]\n', [[2, 30, 'worker.outages[0].to', 'outage-invalid']]],
    ['route without prefix or target', 'worker:\n  routes: [ { error_rate: 0.5 } ]\n', [[2, 13, 'worker.routes[0]', 'route-invalid']]],
    ['route prefix not a path', 'worker:\n  routes: [ { prefix: slow } ]\n', [[2, 23, 'worker.routes[0].prefix', 'route-invalid']]],
    ['route latency invalid', 'worker:\n  routes: [ { prefix: /s, latency: fast } ]\n', [[2, 36, 'worker.routes[0].latency', 'duration-invalid']]],
    ['bad target name', 'targets:\n  Batch: { scaling: basic }\n', [[2, 3, 'targets.Batch', 'target-name-invalid']]],
    ['bad scaling', 'targets:\n  batch: { scaling: auto }\n', [[2, 21, 'targets.batch.scaling', 'scaling-invalid']]],
    ['bad target name and bad scaling: both', 'targets:\n  Batch_Svc: { scaling: elastic }\n', [[2, 3, 'targets.Batch_Svc', 'target-name-invalid'], [2, 25, 'targets.Batch_Svc.scaling', 'scaling-invalid']]],
    ['queue and queue_yaml', 'queue_yaml: q.yaml\nqueue: []\n', [[2, 1, 'queue', 'queue-source-conflict']]],
    ['storage limit without inline queue', 'total_storage_limit: 1G\n', [[1, 1, 'total_storage_limit', 'storage-limit-without-inline-queue']]],
    ['missing queue_yaml', 'queue_yaml: ./missing.yaml\n', [[1, 13, 'queue_yaml', 'queue-yaml-unreadable']]],
    ['invalid inline queue', 'queue:\n  - name: a\n    rate: 600/s\n    bucket_sise: 3\n', [[3, 11, 'queue[0].rate', 'rate-max'], [4, 5, 'queue[0].bucket_sise', 'unknown-key']]],
  ];
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      expect(await problems(text)).toEqual(expected);
    });
  }

  it('names a key with no name as such (nothing before its colon)', async () => {
    const { issues } = await parseScenario('workload:\n  - { queue: q, count: 1, : 2 }\nqueue:\n  - { name: q, rate: 1/s }\n', { file: 's.yaml' });
    expect(issues.map((i) => i.message)).toEqual(['a key with no name in a workload entry: nothing stands before its colon']);
  });

  it('suggests the closest key and queue name', async () => {
    const { issues } = await parseScenario('workload:\n  - { queue: queue-bleu, count: 1, cuont: 2 }\nqueue:\n  - { name: queue-blue, rate: 1/s }\n', { file: 's.yaml' });
    expect(issues.map((i) => i.message)).toEqual([
      'queue queue-bleu is not defined in the queue configuration; did you mean queue-blue?',
      'unknown key cuont in a workload entry; did you mean count?',
    ]);
  });

  it('says what is missing in plain English: an article that fits, a key that reads as one', async () => {
    const { issues } = await parseScenario('worker:\n  latency: { distribution: exponential }\n  outages: [ { from: 1s } ]\n', { file: 's.yaml' });
    expect(issues.map((i) => i.message)).toEqual([
      'an exponential latency needs mean; mean is missing',
      'an outage needs `to`, the time it ends (such as 60s)',
    ]);
  });

  it('reports every problem of a file, in line order, not only the first', async () => {
    const found = await problems('seed: x\nuntil: y\nworkload:\n  - { count: z, rate: w }\nworker:\n  error_rate: v\n');
    expect(found.map(([line, , , code]) => `${line} ${code}`)).toEqual([
      '1 seed-invalid', '2 duration-invalid', '4 count-invalid', '4 workload-rate-invalid', '6 fraction-invalid',
    ]);
  });

  it("lists a queue_yaml file's own problems at its own file:line:column, after a pointer from the scenario", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-scenario-'));
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: q\n  rate: fast\n  bucket_size: 501\n');
    const { scenario, issues } = await parseScenario('queue_yaml: queue.yaml\nworkload: [ { queue: q, count: 1 } ]\n', { file: 's.yaml', baseDir: dir });
    expect(scenario).toBeNull();
    const file = join(dir, 'queue.yaml');
    expect(issues.map((i) => [i.file, i.line, i.column, i.code])).toEqual([
      ['s.yaml', 1, 13, 'queue-yaml-invalid'],
      [file, 3, 9, 'rate-invalid'],
      [file, 4, 16, 'bucket-size-max'],
    ]);
  });

  it('refuses a queue file where a scenario is meant, queue.xml as queue.yaml: the same code, at 1:1', async () => {
    const opts = { baseDir: '/nonexistent', refuseQueueFile: true };
    const yaml = await parseScenario('queue:\n- name: q\n  rate: 1/s\n', { ...opts, file: 'queue.yaml' });
    const xml = await parseScenario('<?xml version="1.0" encoding="UTF-8"?>\n<queue-entries>\n  <queue><name>q</name><rate>1/s</rate></queue>\n</queue-entries>\n', { ...opts, file: 'queue.xml' });
    for (const [result, kind] of [[yaml, 'queue.yaml'], [xml, 'queue.xml']] as const) {
      expect(result.scenario).toBeNull();
      expect(result.issues.map((i) => [i.line, i.column, i.code])).toEqual([[1, 1, 'queue-file-not-scenario']]);
      expect(result.issues[0]!.message).toContain(`is a queue file (${kind}), not a scenario`);
    }
  });

  it('keeps a queue file warning without refusing the scenario', async () => {
    const { scenario, issues } = await parseScenario('queue:\n  - { name: q, rate: 1/s, max_concurrent_requests: 6000 }\n', { file: 's.yaml' });
    expect(scenario).not.toBeNull();
    expect(issues.map((i) => [i.severity, i.code])).toEqual([['warning', 'max-concurrent-requests-clamped']]);
  });
});
