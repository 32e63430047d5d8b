/**
 * `pushq simulate --seeds`, `pushq compare`, `pushq tune` and `--assert`, run as a user runs them
 * (`node bin/pushq.js` on the built dist/): the JSON shapes, the exit statuses, and bad input
 * refused with one line naming the argument, exit 2, nothing run.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-experiments-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SUMMARY_KEYS = ['mean', 'ci95_low', 'ci95_high', 'min', 'max'];

const FLAKY = file(
  'flaky.yaml',
  `seed: 5
queue:
  - { name: emails, rate: 40/s, bucket_size: 20, max_concurrent_requests: 6, retry_parameters: { task_retry_limit: 2 } }
  - { name: reports, rate: 5/s }
workload:
  - { queue: emails, count: 200, rate: 30/s, arrivals: poisson }
  - { queue: reports, count: 20 }
worker:
  latency: { distribution: lognormal, p50: 40ms, p99: 500ms }
  error_rate: 0.2
`,
);
const FASTER = file('faster.yaml', readFileSync(FLAKY, 'utf8').replace('max_concurrent_requests: 6', 'max_concurrent_requests: 30'));
const BURST = file('burst.yaml', 'seed: 1\nqueue:\n  - { name: burst, rate: 20/s, bucket_size: 40 }\nworkload:\n  - { queue: burst, count: 1000 }\nworker:\n  latency: 1ms\n');

describe('pushq simulate --seeds', () => {
  it('--json: { seeds, queues: { Q: { FIGURE: { mean, ci95_low, ci95_high, min, max } } }, runs: [each run as simulate --json] }', async () => {
    const r = await pushq(['simulate', FLAKY, '--seeds', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['seeds', 'queues', 'runs']);
    expect(out.seeds).toEqual([5, 6, 7, 8]);
    expect(Object.keys(out.queues)).toEqual(['emails', 'reports']);
    expect(Object.keys(out.queues.emails['wait_seconds.p99'])).toEqual(SUMMARY_KEYS);
    expect(Object.keys(out.queues.emails.attempts)).toEqual(SUMMARY_KEYS);
    expect(out.runs).toHaveLength(4);
    expect(Object.keys(out.runs[0])).toEqual(['seed', 'virtual_seconds', 'wall_seconds', 'events', 'queues', 'adds_refused']);
    const single = JSON.parse((await pushq(['simulate', FLAKY, '--seed', '6', '--json'])).stdout);
    expect({ ...out.runs[1], wall_seconds: 0 }).toEqual({ ...single, wall_seconds: 0 });
  });

  it('the same seeds give the same bytes whatever --jobs: the JSON (each run\'s wall_seconds aside) and the series bands', async () => {
    const outputs = await Promise.all(
      [1, Math.min(2, availableParallelism())].map(async (jobs) => {
        const csv = join(dir, `jobs-${jobs}.csv`);
        const r = await pushq(['simulate', FLAKY, '--seeds', '5', '--jobs', String(jobs), '--json', '--series', csv]);
        expect(r.code, r.stderr).toBe(0);
        return { json: r.stdout.replace(/"wall_seconds":[0-9.e-]+/g, '"wall_seconds":0'), csv: readFileSync(csv, 'utf8') };
      }),
    );
    expect(outputs[1]).toEqual(outputs[0]);
  });

  it('a run that ends with tasks pending (until): the table shows pending, and says what — is', async () => {
    const cut = file('cut.yaml', 'seed: 1\nuntil: 10s\nqueue:\n  - { name: q, rate: 2/s, bucket_size: 1 }\nworkload:\n  - { queue: q, count: 40 }\nworker:\n  latency: 10ms\n');
    const r = await pushq(['simulate', cut, '--seeds', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^failed +0 .*\npending +20 +20 +20 +20\n/m);
    expect(r.stdout).toMatch(/^drained_at_seconds +— +— +— +—$/m);
    expect(r.stdout).toContain('\n—: some run has no value (drained_at_seconds: the queue had not drained when the run ended); min and max are over the runs that have one\n');
    // Every task ended: neither the row nor the note.
    const done = await pushq(['simulate', FLAKY, '--seeds', '2']);
    expect(done.stdout).not.toMatch(/^pending|^—:/m);
  });

  it('prints a table of means, intervals, min and max; --series writes the median and 5–95% band; --report draws the bands', async () => {
    const csv = join(dir, 'bands.csv');
    const html = join(dir, 'bands.html');
    const r = await pushq(['simulate', FLAKY, '--seeds', '3', '--series', csv, '--report', html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^.*flaky\.yaml: 3 seeds \(5 to 7\)\n3 runs on \d worker threads? in [\d.]+ wall seconds\n/);
    expect(r.stdout).toMatch(/queue emails\s+mean\s+95% CI\s+min\s+max/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(`t_seconds,queue,${['added', 'dispatched', 'succeeded', 'failed_attempts', 'gave_up', 'ready', 'delayed', 'backoff', 'in_flight', 'tokens'].flatMap((f) => [`${f}_median`, `${f}_p5`, `${f}_p95`]).join(',')}`);
    // Rows in a single run's order (docs/simulate.md): per interval, each queue, then `*` for all.
    const single = join(dir, 'single.csv');
    expect((await pushq(['simulate', FLAKY, '--series', single])).code).toBe(0);
    const queueColumn = (rows: string[]) => rows.slice(1, 9).map((l) => l.split(',')[1]);
    expect(queueColumn(lines)).toEqual(['default', 'emails', 'reports', '*', 'default', 'emails', 'reports', '*']);
    expect(queueColumn(readFileSync(single, 'utf8').split('\n'))).toEqual(queueColumn(lines));
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('id="report-data"');
    expect(page).toContain('"p95"');
    expect(page).toContain('pushq simulate --seeds');
  });

  it('refuses bad input with one line naming it, exit 2, nothing run: --seeds 0, --jobs above the cores, --log with --seeds, --jobs without --seeds', async () => {
    const report = join(dir, 'never.html');
    const cases = [
      [['--seeds', '0'], /--seeds must be a whole number from 1 to 10000 \(got "0"\)/],
      [['--seeds', '2', '--jobs', String(availableParallelism() + 1)], /--jobs must be a whole number from 1 to \d+, the cores of this machine/],
      [['--seeds', '2', '--log', join(dir, 'x.jsonl')], /--log: writes one run's log/],
      [['--jobs', '1'], /--jobs: runs seeds on worker threads: it goes with --seeds N; nothing was run/],
      [['--seeds', '2', '--on', 'mean'], /^pushq simulate: --on: says how --assert is judged: it goes with --assert; nothing was run$/],
      [['--seeds', '2', '--assert', 'emails.wait_seconds.p95 <= 1s'], /--assert 'emails.wait_seconds.p95 <= 1s': wait_seconds.p95 is not a figure/],
      [['--seeds', '2', '--assert', 'billing.failed == 0'], /no queue billing receives tasks/],
    ] as const;
    // Each refusal is a command of its own: they run side by side.
    const runs = await Promise.all(cases.map(([args]) => pushq(['simulate', FLAKY, ...args, '--report', report])));
    cases.forEach(([args, named], i) => {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(named);
      expect(r.stdout, args.join(' ')).toBe('');
    });
    expect(existsSync(report)).toBe(false);
  });

  it('a worker thread that crashes fails the command with its seed named (exit 1)', async () => {
    const big = file('big.yaml', 'seed: 3\nqueue:\n  - { name: q, rate: 500/s, bucket_size: 500 }\nworkload:\n  - { queue: q, count: 300000, name_prefix: job- }\n');
    const csv = join(dir, 'big.csv');
    const r = await pushq(['simulate', big, '--seeds', '1', '--seed', '9', '--worker-memory', '16', '--resolution', '2s', '--series', csv]);
    expect(r.code).toBe(1);
    // The command that runs it alone carries what shaped the run: its seed and the series' resolution.
    expect(r.stderr).toMatch(/the worker thread running seed 9 \(.*big\.yaml\) crashed: .*memory.*\(WORKER_CRASHED\); run it alone with: pushq simulate .*big\.yaml --seed 9 --resolution 2s --series .*big\.csv\n$/);
  });
});

describe('--assert', () => {
  it('on simulate: a failed assertion is printed with its value, exit 3; all met: exit 0', async () => {
    // Four independent commands, run side by side.
    const [failed, met, mean, one] = await Promise.all([
      pushq(['simulate', FLAKY, '--assert', 'emails.succeeded >= 1000', '--assert', 'all.tasks_added >= 1']),
      pushq(['simulate', FLAKY, '--seeds', '2', '--assert', 'all.tasks_added >= 1', '--json']),
      pushq(['simulate', FLAKY, '--seeds', '3', '--assert', 'emails.drained_at_seconds <= 1s', '--on', 'mean']),
      pushq(['simulate', FLAKY, '--assert', 'emails.drained_at_seconds <= 1s', '--on', 'mean']),
    ]);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^pushq simulate: assertion failed: emails\.succeeded >= 1000: emails \d+ at seed 5\n$/);
    expect(met.code, met.stderr).toBe(0);
    expect(JSON.parse(met.stdout).assertions).toEqual([
      { assertion: 'all.tasks_added >= 1', met: true, queues: [{ queue: 'emails', value: 200, met: true, missed_by: [] }, { queue: 'reports', value: 20, met: true, missed_by: [] }] },
    ]);
    expect(mean.code).toBe(3);
    expect(mean.stderr).toMatch(/assertion failed: emails\.drained_at_seconds <= 1s: emails [\d.]+ s \(mean of 3 runs\)/);
    expect(one.stderr).toMatch(/\(mean of 1 run\)\n$/);
  });
});

describe('pushq compare', () => {
  it('runs the files on the same seeds; --json gives each variant and the paired differences with verdicts', async () => {
    const r = await pushq(['compare', FLAKY, FASTER, '--seeds', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['seeds', 'variants', 'queues', 'runs']);
    expect(out.seeds).toEqual([5, 6, 7, 8]);
    expect(out.variants).toEqual([FLAKY, FASTER]);
    const inFlight = out.queues.emails.in_flight_max;
    expect(inFlight.variants.map((v: { max: number }) => v.max <= 30)).toEqual([true, true]);
    expect(Object.keys(inFlight.differences[0])).toEqual(['variant', ...SUMMARY_KEYS, 'verdict']);
    expect(out.queues.emails.tasks_added.differences[0].verdict).toBe(`${FASTER}: the same as ${FLAKY} on every seed`);
    expect(out.runs[FLAKY]).toHaveLength(4);
  });

  it('prints the figures that differ with a verdict each; --report overlays the series; --assert on each file (exit 3)', async () => {
    const html = join(dir, 'compare.html');
    const r = await pushq(['compare', FLAKY, FASTER, '--seeds', '3', '--report', html, '--assert', 'emails.in_flight_max <= 6']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/faster\.yaml: in_flight_max [\d.]+ more than .*flaky\.yaml, 95% CI/);
    expect(r.stderr).toMatch(/^pushq compare: assertion failed: .*faster\.yaml: emails\.in_flight_max <= 6: emails \d+ at seed 5/);
    expect(r.stderr).not.toMatch(/flaky\.yaml: emails\.in_flight_max/);
    expect(readFileSync(html, 'utf8')).toContain('pushq compare');
  });

  it('a queue one file lacks: one line saying so, not a "not comparable" per figure', async () => {
    const alone = file('emails-only.yaml', readFileSync(FLAKY, 'utf8').replace(/\n  - \{ name: reports[^\n]*/, '').replace(/\n  - \{ queue: reports[^\n]*/, ''));
    const r = await pushq(['compare', FLAKY, alone, '--seeds', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`queue reports: no figures in ${alone} (the queue is not in the file, or no task reached it); not compared`);
    expect(r.stdout).not.toMatch(/not comparable/);
  });

  it('an interval whose bounds read the same is shown as one value (constant latency: every seed alike)', async () => {
    const slow = file('const-slow.yaml', 'queue:\n  - { name: a, rate: 10/s }\nworkload:\n  - { queue: a, count: 20 }\nworker:\n  latency: 10ms\n');
    const fast = file('const-fast.yaml', 'queue:\n  - { name: a, rate: 20/s }\nworkload:\n  - { queue: a, count: 20 }\nworker:\n  latency: 10ms\n');
    const r = await pushq(['compare', slow, fast, '--seeds', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^drained_at_seconds +1\.51 s \(1\.51 s\) +760 ms \(760 ms\)$/m);
    expect(r.stdout).not.toMatch(/\(([^()–]+) – \1\)/);
  });

  it('an assertion failed by a null figure says null, and once what null means there', async () => {
    const stuck = file('stuck.yaml', 'queue:\n  - { name: q, rate: 1/s }\nworkload:\n  - { queue: q, count: 50 }\nworker:\n  latency: 10ms\nuntil: 5s\n');
    const r = await pushq(['simulate', stuck, '--seeds', '2', '--assert', 'q.drained_at_seconds <= 1h', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('pushq simulate: assertion failed: q.drained_at_seconds <= 1h: q null at seed 1, null at seed 2 (2 of 2 runs) (null: the run has no value, e.g. the queue never drained; it meets no goal)\n');
  });

  it('an all. assertion with no queue that received a task fails (it observed nothing): simulate, --seeds, compare, exit 3', async () => {
    const idle = file('idle.yaml', 'seed: 1\nqueue:\n  - { name: q, rate: 5/s }\nworkload:\n  - { queue: q, count: 0 }\n');
    const idle2 = file('idle2.yaml', readFileSync(idle, 'utf8'));
    // Three independent commands, run side by side.
    const [one, seeds, compared] = await Promise.all([
      pushq(['simulate', idle, '--assert', 'all.wait_seconds.p99 <= 30s']),
      pushq(['simulate', idle, '--seeds', '2', '--assert', 'all.failed == 0', '--json']),
      pushq(['compare', idle, idle2, '--seeds', '2', '--assert', 'all.failed == 0']),
    ]);
    expect([one.code, one.stderr]).toEqual([3, 'pushq simulate: assertion failed: all.wait_seconds.p99 <= 30s: no queue has a value for wait_seconds.p99 (no queue received a task); all. needs at least one\n']);
    expect([seeds.code, seeds.stderr]).toEqual([3, 'pushq simulate: assertion failed: all.failed == 0: no queue has a value for failed (no queue received a task in any run); all. needs at least one\n']);
    expect(JSON.parse(seeds.stdout).assertions).toEqual([{ assertion: 'all.failed == 0', met: false, queues: [] }]);
    expect(compared.code).toBe(3);
    expect(compared.stderr).toMatch(/^pushq compare: assertion failed: .*idle\.yaml: all\.failed == 0: no queue has a value for failed .*\npushq compare: assertion failed: .*idle2\.yaml: all\.failed == 0: no queue has a value for failed /);
  });

  it('refuses one file, --seeds 0, an assertion on an unknown figure: exit 2, nothing run', async () => {
    // Five independent commands, run side by side.
    const [one, zero, on, figure, lacking] = await Promise.all([
      pushq(['compare', FLAKY]),
      pushq(['compare', FLAKY, FASTER, '--seeds', '0']),
      pushq(['compare', FLAKY, FASTER, '--on', 'mean']),
      pushq(['compare', FLAKY, FASTER, '--assert', 'emails.speed > 1']),
      pushq(['compare', FLAKY, BURST, '--assert', 'emails.failed == 0']),
    ]);
    expect([one.code, one.stderr.split('\n')[0]]).toEqual([2, `pushq compare: at least 2 scenario files, got 1 (${FLAKY})`]);
    expect([zero.code, zero.stderr.split('\n')[0]]).toEqual([2, 'pushq compare: --seeds must be a whole number from 1 to 10000 (got "0")']);
    // --on alone, in simulate's words.
    expect([on.code, on.stderr]).toEqual([2, 'pushq compare: --on: says how --assert is judged: it goes with --assert; nothing was run\n']);
    expect(figure.code).toBe(2);
    expect(figure.stderr).toMatch(/^pushq compare: --assert 'emails.speed > 1': speed is not a figure.*; nothing was run\n$/);
    // An assertion on a queue one file lacks names that file.
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(/^pushq compare: --assert 'emails.failed == 0': .*burst\.yaml: no queue emails receives tasks in this file \(queues with tasks: burst\)/);
  });
});

describe('pushq tune', () => {
  it("App Engine's burst example: the least rate for last_dispatch_at_seconds <= 60 is 16/s; --json: { answer, binding_goal, evaluations: [{ setting, figures, met }] }", async () => {
    const r = await pushq(['tune', BURST, '--vary', 'burst.rate=1..100', '--goal', 'burst.last_dispatch_at_seconds <= 60', '--seeds', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).slice(0, 3)).toEqual(['answer', 'binding_goal', 'evaluations']);
    expect(out.answer).toEqual({ 'burst.rate': 16 });
    expect(out.binding_goal).toBe('burst.last_dispatch_at_seconds <= 60');
    for (const e of out.evaluations) expect(Object.keys(e).slice(0, 3)).toEqual(['setting', 'figures', 'met']);
    const below = out.evaluations.find((e: { setting: Record<string, number> }) => e.setting['burst.rate'] === 15);
    expect(below).toMatchObject({ met: false, figures: { 'burst.last_dispatch_at_seconds': { mean: 64, min: 64, max: 64 } } });
    expect(out.below_answer.runs).toHaveLength(2);
  });

  it('prints the answer, the binding goal and the settings run; none in range: exit 1 with the best found', async () => {
    // Three independent commands, run side by side.
    const [ok, none, noneJson] = await Promise.all([
      pushq(['tune', BURST, '--vary', 'burst.rate=1..100', '--goal', 'burst.last_dispatch_at_seconds <= 60', '--seeds', '1']),
      pushq(['tune', BURST, '--vary', 'burst.rate=1..10', '--goal', 'burst.last_dispatch_at_seconds <= 60', '--seeds', '1']),
      pushq(['tune', BURST, '--vary', 'burst.rate=1..10', '--goal', 'burst.last_dispatch_at_seconds <= 60', '--seeds', '1', '--json']),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/answer: burst\.rate = 16\/s\nbinding goal: burst\.last_dispatch_at_seconds <= 60\n/);
    expect(ok.stdout).toMatch(/burst\.rate = 15\/s\s+no\s+burst\.last_dispatch_at_seconds 64 s {2}← one step below/);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/answer: none: no setting in range meets every goal\nbest found: burst\.rate = 10\/s, missing burst\.last_dispatch_at_seconds <= 60/);
    expect(none.stderr).toBe('pushq tune: no setting in range meets every goal; the best found is shown\n');
    const json = JSON.parse(noneJson.stdout);
    expect(json.answer).toBeNull();
    expect(json.best.setting).toEqual({ 'burst.rate': 10 });
  });

  it('refuses bad input with one line naming the argument, exit 2, nothing run', async () => {
    const cases: [string[], RegExp][] = [
      [['--vary', 'burst.colour=1..2', '--goal', 'burst.failed <= 0'], /^pushq tune: --vary burst\.colour=1\.\.2: colour is not a directive --vary takes/],
      [['--vary', 'billing.rate=1..2', '--goal', 'burst.failed <= 0'], /^pushq tune: --vary billing\.rate=1\.\.2: no queue billing in the configuration/],
      [['--vary', 'burst.rate=1..600', '--goal', 'burst.failed <= 0'], /^pushq tune: --vary burst\.rate=1\.\.600: burst\.rate 600\/s: rate 600\/s is above App Engine's maximum of 500 per second/],
      [['--vary', 'burst.bucket_size=1..501', '--goal', 'burst.failed <= 0'], /^pushq tune: --vary burst\.bucket_size=1\.\.501: .*bucket_size 501 is above App Engine's maximum of 500/],
      [['--vary', 'burst.rate=1..100', '--goal', 'billing.failed <= 0'], /^pushq tune: --goal 'billing\.failed <= 0': no queue billing receives tasks/],
      [['--vary', 'burst.rate=1..100', '--goal', 'burst.latency <= 1s'], /^pushq tune: --goal 'burst\.latency <= 1s': latency is not a figure/],
      [['--vary', 'burst.rate=1..100', '--goal', 'burst.failed <= 0', '--seeds', '0'], /^pushq tune: --seeds must be a whole number from 1 to 10000 \(got "0"\)/],
      [['--vary', 'burst.rate=1..100', '--goal', 'burst.failed <= 0', '--jobs', String(availableParallelism() + 1)], /^pushq tune: --jobs must be a whole number from 1 to \d+, the cores of this machine/],
      [['--goal', 'burst.failed <= 0'], /^pushq tune: --vary: give at least one/],
    ];
    // Each refusal is a command of its own: they run side by side.
    const runs = await Promise.all(cases.map(([args]) => pushq(['tune', BURST, ...args])));
    cases.forEach(([args, message], i) => {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    });
  });

  it('a setting min above max is refused naming the settings, not a line of a queue.yaml no one wrote', async () => {
    // The rule's own message names max_backoff_seconds' line; here that line would be one of the
    // configuration tune prints to check each setting (line 5 or so), not the user's file.
    const backoff = file('backoff.yaml', 'seed: 1\nqueue:\n  - { name: q, rate: 5/s, retry_parameters: { min_backoff_seconds: 1, max_backoff_seconds: 4 } }\nworkload:\n  - { queue: q, count: 10 }\n');
    const one = await pushq(['tune', backoff, '--vary', 'q.min_backoff_seconds=1..8', '--goal', 'q.failed <= 0']);
    expect([one.code, one.stderr]).toEqual([2, 'pushq tune: --vary q.min_backoff_seconds=1..8: q.min_backoff_seconds 8: min_backoff_seconds 8 is greater than max_backoff_seconds 4 (min-backoff-above-max); nothing was run\n']);
    const wide = file('backoff-wide.yaml', readFileSync(backoff, 'utf8').replace('max_backoff_seconds: 4', 'max_backoff_seconds: 10'));
    const two = await pushq(['tune', wide, '--vary', 'q.min_backoff_seconds=1..8', '--vary', 'q.max_backoff_seconds=4..10', '--goal', 'q.failed <= 0']);
    expect([two.code, two.stderr]).toEqual([
      2,
      'pushq tune: --vary q.min_backoff_seconds=1..8 --vary q.max_backoff_seconds=4..10: q.min_backoff_seconds=5, q.max_backoff_seconds=4: min_backoff_seconds 5 is greater than max_backoff_seconds 4 (min-backoff-above-max); nothing was run\n',
    ]);
  });

  it('several --vary are checked together: a range whose end needs another range\'s setting runs', async () => {
    // min_backoff_seconds up to 8 is above the scenario's max_backoff_seconds of 4, but every
    // combination has max_backoff_seconds 10 or more: each is a valid queue.yaml.
    const backoff = file('backoff-joint.yaml', 'seed: 1\nqueue:\n  - { name: q, rate: 5/s, retry_parameters: { min_backoff_seconds: 1, max_backoff_seconds: 4 } }\nworkload:\n  - { queue: q, count: 10 }\n');
    const r = await pushq(['tune', backoff, '--vary', 'q.min_backoff_seconds=1..8', '--vary', 'q.max_backoff_seconds=10..20:5', '--goal', 'q.failed <= 0', '--seeds', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.answer).toEqual({ 'q.min_backoff_seconds': 1, 'q.max_backoff_seconds': 10 });
    expect(out.evaluations).toHaveLength(24);
    expect(out.evaluations.at(-1).setting).toEqual({ 'q.min_backoff_seconds': 8, 'q.max_backoff_seconds': 20 });
  });

  it('an all. goal with no queue that received a task is met by no setting: exit 1, the best found says why', async () => {
    const idle = file('idle-tune.yaml', 'seed: 1\nqueue:\n  - { name: q, rate: 5/s }\nworkload:\n  - { queue: q, count: 0 }\n');
    const r = await pushq(['tune', idle, '--vary', 'q.rate=1..3', '--goal', 'all.failed == 0', '--seeds', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('answer: none: no setting in range meets every goal\nbest found: q.rate = 1/s, missing all.failed == 0 (no queue has a value for failed)\n');
    expect(r.stdout).toMatch(/q\.rate = 3\/s\s+no\s+all\.failed —\n/);
    expect(JSON.parse((await pushq(['tune', idle, '--vary', 'q.rate=1..3', '--goal', 'all.failed == 0', '--seeds', '1', '--json'])).stdout).answer).toBeNull();
  });

  it('pushq --help lists compare and tune', async () => {
    const r = await pushq(['--help']);
    expect(r.stdout).toMatch(/\n {2}compare +run scenario files on the same seeds/);
    expect(r.stdout).toMatch(/\n {2}tune +find the least setting/);
  });
});
