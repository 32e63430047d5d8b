/** `pushq simulate`, run as a user runs it: `node bin/pushq.js ...` on the built dist/ (see test/global-setup.ts). */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEventLogFile } from '../../src/log/file-log.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { pushq as runPushq, type CliRun } from '../helpers/cli.js';


function pushq(...args: string[]): Promise<CliRun> {
  return runPushq(args);
}

const dir = mkdtempSync(join(tmpdir(), 'pushq-simulate-'));
function scenarioFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Small but not trivial: random latency, errors and a timeout rate, Poisson arrivals, two queues.
const SMALL = scenarioFile(
  'small.yaml',
  `seed: 5
queue:
  - { name: a, rate: 10/s, bucket_size: 5 }
  - { name: b, rate: 2/s, max_concurrent_requests: 2, retry_parameters: { task_retry_limit: 1 } }
workload:
  - { queue: a, count: 40 }
  - { queue: b, count: 20, rate: 4/s, arrivals: poisson, name_prefix: job- }
worker:
  latency: { distribution: exponential, mean: 400ms }
  error_rate: 0.3
  timeout_rate: 0.02
targets:
  default: { scaling: basic }
`,
);
const NO_SEED = scenarioFile('no-seed.yaml', 'workload: [ { count: 3 } ]\n');
const BAD = scenarioFile('bad.yaml', 'seed: x\nworkload:\n  - { queue: nowhere, count: 2 }\nworker:\n  error_rate: 2\n');

const QUEUE_KEYS = [
  'tasks_added', 'succeeded', 'failed', 'pending', 'attempts', 'retries',
  'dispatch_rate_mean_per_second', 'dispatches_max_in_any_1s', 'in_flight_max',
  'first_dispatch_at_seconds', 'last_dispatch_at_seconds', 'latency_seconds', 'completion_seconds',
  'backlog_max', 'backlog_max_at_seconds', 'drained_at_seconds', 'wait_seconds', 'wait_by_cause_task_seconds', 'bound',
];

function withoutWall(json: string): unknown {
  const { wall_seconds: wall, ...rest } = JSON.parse(json) as Record<string, unknown>;
  expect(typeof wall).toBe('number');
  return rest;
}

describe('pushq simulate: exit status', () => {
  it('exits 0 with a summary table for a completed run', async () => {
    const r = await pushq('simulate', SMALL);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${SMALL}: seed 5 (from the scenario)`);
    expect(lines[1]).toMatch(/^[\d.]+ virtual seconds in [\d.]+ wall seconds, \d+ events$/);
    expect(lines[3]).toMatch(/^queue\s+tasks\s+succeeded\s+failed\s+pending\s+attempts\s+retries\s+rate\/s\s+max\/1s\s+in flight\s+latency p50\/p99\s+completion p50\/p99\/max$/);
    expect(lines[4]).toMatch(/^a\s+40\s+\d+/);
    expect(lines[5]).toMatch(/^b\s+20\s+\d+/);
  });

  it('counts in words that agree with the number: 1 event', async () => {
    const r = await pushq('simulate', scenarioFile('nothing.yaml', 'seed: 1\nworkload: []\n'));
    expect(r.stdout.split('\n')[1]).toMatch(/ wall seconds, 1 event$/);
  });

  it('says where the seed came from: --seed, or the default 1 when neither gives one', async () => {
    expect((await pushq('simulate', SMALL, '--seed', '9')).stdout).toMatch(/seed 9 \(from --seed\)/);
    expect((await pushq('simulate', NO_SEED)).stdout).toMatch(/seed 1 \(the default: neither --seed nor the scenario gives one, so 1\)/);
    const json = await pushq('simulate', NO_SEED, '--json');
    expect(JSON.parse(json.stdout).seed).toBe(1);
    expect(json.stderr).toMatch(/no seed given .* using 1/);
  });

  it('exits 1 on scenario errors, printing every one as file:line:column error message (code), and runs nothing', async () => {
    const log = join(dir, 'never.jsonl');
    const r = await pushq('simulate', BAD, '--json', '--log', log);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `${BAD}:1:7 error seed \`x\` is not valid: expected a whole number from 0 to 4294967295 (seed-invalid)`,
      `${BAD}:3:14 error queue nowhere is not defined in the queue configuration (workload-queue-unknown)`,
      `${BAD}:5:15 error error_rate \`2\` is not valid: expected a number from 0 to 1, such as 0.05 (fraction-invalid)`,
      `${BAD}: invalid (3 errors); nothing was run`,
    ]);
    expect(() => readFileSync(log)).toThrow(/ENOENT/);
  });

  it('stops at the run limit when tasks retry forever, exits 0 and says so on stderr', async () => {
    const file = scenarioFile('forever.yaml', 'seed: 1\nworkload: [ { count: 3 } ]\nworker: { error_rate: 1 }\n');
    const r = await pushq('simulate', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).queues.default.pending).toBe(3);
    expect(r.stderr).toMatch(/^pushq simulate: stopped at the run limit, 31 days of virtual time after the last arrival, with 3 tasks pending .*set until: to choose when to stop\n$/);
  });

  it('says why tasks were left pending in queues that never dispatch: bucket_size 0 and rate 0', async () => {
    // App Engine accepts both (reference §1.2: bucket_size is an integer ≥ 0); the run ends at once.
    const file = scenarioFile('never.yaml', 'seed: 1\nqueue:\n  - { name: q, rate: 5/s, bucket_size: 0 }\n  - { name: p, rate: 0 }\nworkload: [ { queue: q, count: 5 }, { queue: p, count: 2 }, { count: 1 } ]\n');
    const r = await pushq('simulate', file, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).queues).toMatchObject({ q: { pending: 5 }, p: { pending: 2 }, default: { pending: 0 } });
    expect(r.stderr).toBe('pushq simulate: 7 tasks left pending that can never be dispatched (queue q: bucket_size: 0 never holds the whole token a dispatch takes; queue p: rate: 0 pauses it)\n');
    const seeds = await pushq('simulate', file, '--seeds', '2', '--json');
    expect(seeds.stderr).toMatch(/^pushq simulate: seeds 1, 2 left tasks pending that can never be dispatched \(queue q: /);
  });

  it('a workload arriving after 31 days runs: the limit counts from the last arrival', async () => {
    const late = scenarioFile('late.yaml', 'seed: 1\nworkload: [ { count: 5, at: 40d } ]\n');
    const ok = await pushq('simulate', late, '--json');
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout).queues.default).toMatchObject({ tasks_added: 5, succeeded: 5, first_dispatch_at_seconds: 40 * 86_400 });
    const failing = scenarioFile('late-forever.yaml', 'seed: 1\nworkload: [ { count: 2, at: 40d } ]\nworker: { error_rate: 1 }\n');
    const r = await pushq('simulate', failing, '--json');
    const report = JSON.parse(r.stdout);
    expect(report.queues.default).toMatchObject({ tasks_added: 2, pending: 2 });
    expect(report.virtual_seconds).toBeGreaterThan(70 * 86_400);
    expect(report.virtual_seconds).toBeLessThanOrEqual(71 * 86_400);
    expect(r.stderr).toMatch(/stopped at the run limit, 31 days of virtual time after the last arrival, with 2 tasks pending/);
  });

  it('adds the storage limit refuses are counted per queue and code, and the run goes on', async () => {
    // 1 KiB holds 8 tasks of 116 bytes (POST + /_ah/queue/q + 100): 8 of the first 100 fit. At
    // 1/s with a bucket of 5 they have all run by 4 s, so 8 of the 20 arriving at 10 s fit too.
    const file = scenarioFile('storage.yaml', 'seed: 2\nqueue:\n  - { name: q, rate: 1/s }\ntotal_storage_limit: 1K\nworkload:\n  - { queue: q, count: 100, payload_bytes: 100 }\n  - { queue: q, count: 20, payload_bytes: 100, at: 10s }\n');
    const r = await pushq('simulate', file, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.queues.q).toMatchObject({ tasks_added: 16, succeeded: 16, pending: 0 });
    expect(report.adds_refused).toEqual({ q: { STORAGE_LIMIT_EXCEEDED: 104 } });
    const text = await pushq('simulate', file);
    expect(text.stdout).toContain('adds refused by the engine');
    expect(text.stdout).toContain('  q: 104 × STORAGE_LIMIT_EXCEEDED');
  });

  it('exits 1 for a missing scenario file', async () => {
    const r = await pushq('simulate', join(dir, 'missing.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.yaml:1:1 error cannot read .*: no such file \(scenario-unreadable\)/);
  });

  it('exits 2 on usage errors', async () => {
    const cases = [[], [SMALL, NO_SEED], [SMALL, '--seed'], [SMALL, '--frobnicate'], [SMALL, '--log']];
    const runs = await Promise.all(cases.map((args) => pushq('simulate', ...args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]?.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^pushq simulate: .+\n\nusage: pushq simulate/);
    });
    // A value its flag refuses is one line alone: the flag is known, the line says what it takes.
    const values = [[SMALL, '--seed', '-1'], [SMALL, '--seed', 'x'], [SMALL, '--resolution', 'fast', '--series', join(dir, 'never.csv')]];
    const refused = await Promise.all(values.map((args) => pushq('simulate', ...args)));
    refused.forEach((r, i) => {
      expect(r.code, values[i]?.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr, values[i]?.join(' ')).toMatch(/^pushq simulate: --(seed|resolution) [^\n]+\n$/);
    });
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
    const help = await pushq('simulate', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: pushq simulate SCENARIO.yaml/);
  });
});

describe('pushq simulate --json', () => {
  it('prints exactly one object with the documented keys, in order', async () => {
    const r = await pushq('simulate', SMALL, '--json');
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['seed', 'virtual_seconds', 'wall_seconds', 'events', 'queues', 'adds_refused']);
    expect(out.adds_refused).toEqual({});
    expect(Object.keys(out.queues)).toEqual(['a', 'b']);
    for (const q of Object.values(out.queues) as Record<string, Record<string, unknown>>[]) {
      expect(Object.keys(q)).toEqual(QUEUE_KEYS);
      expect(Object.keys(q.latency_seconds!)).toEqual(['p50', 'p99']);
      expect(Object.keys(q.completion_seconds!)).toEqual(['p50', 'p99', 'max']);
    }
    const b = out.queues.b;
    expect(b.tasks_added).toBe(20);
    expect(b.succeeded + b.failed + b.pending).toBe(20);
    expect(b.in_flight_max).toBeLessThanOrEqual(2);
    expect(b.attempts).toBe(b.tasks_added + b.retries);
    expect(out.seed).toBe(5);
  });

  it('gives the same figures as the library run of the same scenario and seed', async () => {
    const r = await pushq('simulate', SMALL, '--json', '--seed', '11');
    const { scenario } = await loadScenario(SMALL);
    const lib = runScenario(scenario!, { seed: 11 }).stats;
    const out = JSON.parse(r.stdout);
    expect(out.events).toBe(lib.events);
    expect(out.virtual_seconds).toBe(lib.virtual_seconds);
    expect(out.queues.a.succeeded).toBe(lib.queues['a']!.succeeded);
    expect(out.queues.b.completion_seconds).toEqual(lib.queues['b']!.completion_seconds);
  });
});

describe('pushq simulate: determinism and --log', () => {
  it('same seed twice: identical JSON apart from wall_seconds, and byte-identical logs; another seed differs', async () => {
    const [l1, l2, l3] = ['one.jsonl', 'two.jsonl', 'three.jsonl'].map((n) => join(dir, n)) as [string, string, string];
    const [r1, r2, r3] = await Promise.all([
      pushq('simulate', SMALL, '--json', '--log', l1),
      pushq('simulate', SMALL, '--json', '--log', l2),
      pushq('simulate', SMALL, '--json', '--log', l3, '--seed', '6'),
    ]);
    expect(withoutWall(r1.stdout)).toEqual(withoutWall(r2.stdout));
    const b1 = readFileSync(l1);
    expect(b1.length).toBeGreaterThan(1000);
    expect(b1.equals(readFileSync(l2))).toBe(true);
    expect(withoutWall(r3.stdout)).not.toEqual(withoutWall(r1.stdout));
    expect(b1.equals(readFileSync(l3))).toBe(false);
  });

  it('writes a log that replays to the live state of the same run', async () => {
    const path = join(dir, 'replay.jsonl');
    const r = await pushq('simulate', SMALL, '--json', '--log', path);
    expect(r.code).toBe(0);
    const { header, events } = await readEventLogFile(path);
    expect(header).toMatchObject({ format: 'pushq-events', seed: 5, clock: 'virtual' });
    expect(events).toHaveLength(JSON.parse(r.stdout).events);
    const { scenario } = await loadScenario(SMALL);
    const live = runScenario(scenario!).simulation;
    expect(stateDigest(replay(events))).toBe(stateDigest(live.state));
    expect(live.header).toEqual(header);
  });

  it('writes a log that pushq replay reads back to the same per-queue figures', async () => {
    const path = join(dir, 'for-replay.jsonl');
    const sim = JSON.parse((await pushq('simulate', SMALL, '--json', '--log', path)).stdout);
    const r = await pushq('replay', path);
    expect(r.code).toBe(0);
    for (const [name, q] of Object.entries(sim.queues) as [string, { succeeded: number; failed: number; attempts: number; retries: number }][]) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`queue ${name} `));
      expect(line, name).toMatch(new RegExp(`succeeded ${q.succeeded}, failed ${q.failed}, .*attempts ${q.attempts}, retries ${q.retries}`));
    }
  });

  it('replaces an existing --log file', async () => {
    const path = join(dir, 'existing.jsonl');
    writeFileSync(path, 'old contents\n');
    expect((await pushq('simulate', NO_SEED, '--log', path)).code).toBe(0);
    expect(readFileSync(path, 'utf8')).toMatch(/^\{"format":"pushq-events"/);
  });

  it('exits 2 when the log cannot be written, checked before the run as --series and --report are', async () => {
    const path = join(dir, 'no-such-dir', 'x.jsonl');
    const r = await pushq('simulate', NO_SEED, '--log', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pushq simulate: --log ${path}: cannot be written: no such directory (ENOENT); nothing was run\n`);
  });
});
