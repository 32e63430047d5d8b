/**
 * The series outputs, byte for byte, against what they were before the experiments stopped
 * keeping every run's whole series (commit 59be6a0): the `--seeds` CSV and report of runs whose
 * automatic resolutions differ (8 and 16 ms), a fixed resolution, one seed, compare's overlaid
 * bands on one grid, and a single run's `--series` CSV. The scenario has a queue that gets no
 * task and a queue without a bucket (tokens empty), an outage and retries.
 *
 * The digests are sha256 of the files the CLI wrote with the code of 59be6a0; a change to a
 * figure, a cell's formatting or the rows' order changes them. When a change is meant, the docs
 * say so and the digests are made again (run this file, take the digests it prints).
 *
 * One change was meant since: the `--seeds` CSV's rows of an interval were `*` first, then the
 * queues; they are now in a single run's order, the queues then `*` (commit 662fe0b). Each such
 * file is checked twice: as written, and with its `*` rows put back first (inSeedsOrderOf59be6a0),
 * against 59be6a0's digest: only the order moved.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-series-golden-'));
const A = join(dir, 'a.yaml');
writeFileSync(
  A,
  `seed: 3
queue:
  - { name: emails, rate: 40/s, bucket_size: 20, max_concurrent_requests: 6, retry_parameters: { task_retry_limit: 2 } }
  - { name: reports, rate: 5/s }
  - { name: idle, rate: 1/s }
  - { name: stopped, rate: 0 }
workload:
  - { queue: emails, count: 150, rate: 20/s, arrivals: poisson }
  - { queue: reports, count: 12, rate: 1/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 40ms, p99: 500ms }
  error_rate: 0.2
  outages: [ { from: 2s, to: 3s, status: 503 } ]
`,
);
const B = join(dir, 'b.yaml');
writeFileSync(B, readFileSync(A, 'utf8').replace('max_concurrent_requests: 6', 'max_concurrent_requests: 30').replace('rate: 5/s', 'rate: 2/s'));

/**
 * 69 queues as a large queue.yaml has them: 3 busy (retries, an outage), 20 quiet (a few tasks
 * each, minutes apart, buckets refilling between them), 46 idle. Its digests were taken before the
 * series recorder wrote a queue's rows only when the queue had an event or was read (commit after
 * fd7628b): every row of every queue must read as when they were all read at every interval.
 */
const MANY = join(dir, 'many.yaml');
writeFileSync(
  MANY,
  [
    'seed: 7',
    'queue:',
    ...Array.from({ length: 69 }, (_, i) =>
      i < 3
        ? `  - { name: busy${i}, rate: ${20 + i * 10}/s, bucket_size: ${10 + i}, max_concurrent_requests: ${5 + i}, retry_parameters: { task_retry_limit: 3 } }`
        : i < 23
          ? `  - { name: quiet${i}, rate: ${1 + (i % 5)}/s${i % 3 === 0 ? '' : `, bucket_size: ${1 + (i % 4)}`} }`
          : `  - { name: idle${i}, rate: ${1 + (i % 9)}/s }`,
    ),
    'workload:',
    ...Array.from({ length: 3 }, (_, i) => `  - { queue: busy${i}, count: ${400 + 100 * i}, rate: ${10 + 5 * i}/s, arrivals: poisson }`),
    ...Array.from({ length: 20 }, (_, k) => k + 3).map((i) => `  - { queue: quiet${i}, count: ${2 + (i % 4)}, rate: 0.0${2 + (i % 7)}/s, at: ${i}s }`),
    'worker:',
    '  latency: { distribution: lognormal, p50: 80ms, p99: 900ms }',
    '  error_rate: 0.15',
    '  outages: [ { from: 5s, to: 9s, status: 503 } ]',
    '',
  ].join('\n'),
);

function digest(path: string): string {
  return sha256(readFileSync(path));
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A `--seeds` CSV with each interval's `*` row moved before its queues' rows, as 59be6a0 wrote them. */
function inSeedsOrderOf59be6a0(file: string): string {
  const [header, ...rows] = readFileSync(join(dir, file), 'utf8').trimEnd().split('\n');
  const out = [header];
  let interval: string[] = [];
  const flush = (): void => {
    out.push(...interval.filter((r) => r.split(',')[1] === '*'), ...interval.filter((r) => r.split(',')[1] !== '*'));
    interval = [];
  };
  for (const row of rows) {
    if (interval.length > 0 && row.split(',')[0] !== interval[0]!.split(',')[0]) flush();
    interval.push(row);
  }
  flush();
  return `${out.join('\n')}\n`;
}

async function outputs(args: string[], files: string[]): Promise<Record<string, string>> {
  const r = await pushq(args, { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(files.map((f) => [f, digest(join(dir, f))]));
}

describe('series outputs are byte-identical to before (golden digests)', () => {
  it('simulate --seeds: the CSV and the report, runs on 8 ms and 16 ms grids merged', async () => {
    const got = await outputs(['simulate', 'a.yaml', '--seeds', '6', '--jobs', '1', '--series', 'seeds.csv', '--report', 'seeds.html', '--quiet'], ['seeds.csv', 'seeds.html']);
    expect(sha256(inSeedsOrderOf59be6a0('seeds.csv'))).toBe('d941c5c074a89307e1c23d2e5181cf2392387be7353ad824b894bf7c95fce7b5');
    expect(got).toEqual({
      'seeds.csv': 'b8e11a6ab7b5f1492cc4524982966e727ef89936e9309efd23b3651982e0a14f',
      'seeds.html': '41bb013ad4cbcc92cd31c0201622ecbd1eeb7ed0848233666fc7118ceea56dfa',
    });
  });

  it('simulate --seeds at a fixed --resolution, and one seed', async () => {
    const fixed = await outputs(['simulate', 'a.yaml', '--seeds', '4', '--resolution', '0.25s', '--series', 'fixed.csv', '--quiet'], ['fixed.csv']);
    const one = await outputs(['simulate', 'a.yaml', '--seeds', '1', '--seed', '4', '--series', 'one.csv', '--quiet'], ['one.csv']);
    expect([sha256(inSeedsOrderOf59be6a0('fixed.csv')), sha256(inSeedsOrderOf59be6a0('one.csv'))]).toEqual([
      '5ffbd079a5020f8fae0b0023fa05fb4d9af639dd90b71daadbfcaff1ea0592f0',
      '4ccd0777053b9b73c2e5d4be26e3064d4664ebcd97f505a5b9a5a05620045a51',
    ]);
    expect({ ...fixed, ...one }).toEqual({
      'fixed.csv': '3611d6708ef47f93055eb3b39c9dc28b76abaeb9040261431538f98c8d14b88a',
      'one.csv': '268e0aea2af8ccf78cde02c58908ef982d2ad33937cff927f99e898e82c031e4',
    });
  });

  it('compare --report: both files’ bands on one grid', async () => {
    const got = await outputs(['compare', 'a.yaml', 'b.yaml', '--seeds', '4', '--report', 'compare.html', '--quiet'], ['compare.html']);
    expect(got).toEqual({ 'compare.html': 'e906b81a1a7bdec7336ffce48525ebdb5fe5426c5c5128dabb66536b6a256438' });
  });

  it('a single run’s --series CSV (docs/simulate.md), automatic and fixed resolution', async () => {
    const got = await outputs(['simulate', 'a.yaml', '--seed', '5', '--series', 'single.csv', '--quiet'], ['single.csv']);
    const fixed = await outputs(['simulate', 'a.yaml', '--seed', '5', '--resolution', '0.1s', '--series', 'single-fixed.csv', '--quiet'], ['single-fixed.csv']);
    expect({ ...got, ...fixed }).toEqual({
      'single.csv': '520ef4eb0df7984b2ef1f17dc8c9051f888a605f4d7fd2c6fdbc316382444df9',
      'single-fixed.csv': 'a76dbdec7bded14a38bf6586a27ab1fe73f9780cff05537937cec30d6b1f837a',
    });
  });

  it('69 queues, most of them quiet or idle: a run’s CSV (automatic and fixed resolution), and --seeds’ CSV and report', async () => {
    const auto = await outputs(['simulate', 'many.yaml', '--series', 'many.csv', '--quiet'], ['many.csv']);
    const fixed = await outputs(['simulate', 'many.yaml', '--resolution', '0.05s', '--series', 'many-fixed.csv', '--quiet'], ['many-fixed.csv']);
    const seeds = await outputs(['simulate', 'many.yaml', '--seeds', '2', '--jobs', '1', '--series', 'many-seeds.csv', '--report', 'many-seeds.html', '--quiet'], ['many-seeds.csv', 'many-seeds.html']);
    expect(sha256(inSeedsOrderOf59be6a0('many-seeds.csv'))).toBe('b111ac2f4a1298c93bd7f7b297319a1c76d01ff6d2a324c27e9a6a13f3f5cfb0');
    expect({ ...auto, ...fixed, ...seeds }).toEqual({
      'many.csv': 'f6fe673ca3eb7e858a7413d387866bf211b9771843fe18673457378cd622668f',
      'many-fixed.csv': '8a92ff96ba560c1254b2ea81bd0f2d75c1b0b4ca293f135ec5042b8f4c9de3e3',
      'many-seeds.csv': 'dc116a891d99b2f30e1b81ae7a112c6a1289934bf837c2b3d7b963e3e872d553',
      'many-seeds.html': 'd31be3cb63baffa4099dac764027c12d12273ba42ba30e25a2932dd568dceada',
    });
  }, 60_000);
});
