/** The real `pushq replay` (node bin/pushq.js) on logs written by a simulation through the file log. */
import { mkdtempSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createSimulation, type Simulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader } from '../../src/log/event-log.js';

const TEST_HEADER_FOR_CLI: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: '0.1.0', seed: 1, clock: 'virtual', configHash: '00' };
import { createFileEventLogSync, readEventLogFile } from '../../src/log/file-log.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { pushq as runPushq, type CliRun } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pushq-replay-cli-'));
const LOG = join(dir, 'rich.jsonl');
let sim: Simulation;

function pushq(...args: string[]): Promise<CliRun> {
  return runPushq(args);
}

beforeAll(async () => {
  sim = richSimulation(21, (h) => createFileEventLogSync(LOG, h, { durable: false }));
  await sim.kernel.log.close();
});

describe('pushq replay LOG', () => {
  test('the per-queue summary agrees with what the live run reported', async () => {
    const r = await pushq('replay', LOG, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const live = sim.stats();
    expect(out.events).toBe(live.events);
    for (const [name, stats] of Object.entries(live.queues)) {
      expect(out.queues[name].stats, name).toEqual(stats);
      expect(out.queues[name].tasks, name).toEqual(sim.queue(name).tasks);
    }
    const text = await pushq('replay', LOG);
    expect(text.code).toBe(0);
    const mail = sim.queue('mail').tasks;
    expect(text.stdout).toContain(`queue mail (running): 1 task: pending ${mail.pending}, dispatching 0, backoff 0, succeeded 0, failed 1, deleted 0; attempts ${live.queues.mail?.attempts}, retries ${live.queues.mail?.retries}; oldest ETA -`);
  });

  test('--at TIME: the state as it was then', async () => {
    const r = await pushq('replay', LOG, '--at', '0.6', '--json', '--queue', 'bulk');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.at).toBe(0.6);
    expect(Object.keys(out.queues)).toEqual(['bulk']);
    // Purged at 0.6: every bulk task added so far is deleted (or was already done).
    const t = out.queues.bulk.tasks;
    expect(t.deleted).toBeGreaterThan(0);
    expect(t.pending + t.backoff).toBe(0);
    const r1 = await pushq('replay', LOG, '--at', '1', '--json', '--queue', 'bulk');
    expect(r1.stderr).toBe('');
    const later = JSON.parse(r1.stdout);
    expect(later.queues.bulk.tasks_total).toBeGreaterThan(out.queues.bulk.tasks_total);
  });

  test('--at takes a duration as scenario files write it (600ms, 1m): the same instant as its seconds, and the output says so', async () => {
    const [bySeconds, byMs, text, tooLong] = await Promise.all([
      pushq('replay', LOG, '--at', '0.6', '--json'),
      pushq('replay', LOG, '--at', '600ms', '--json'),
      pushq('replay', LOG, '--at', '600ms'),
      pushq('replay', LOG, '--at', '400d'),
    ]);
    expect(byMs.stderr).toBe('');
    expect(byMs.code).toBe(0);
    const a = JSON.parse(bySeconds.stdout);
    const b = JSON.parse(byMs.stdout);
    expect(b).toMatchObject({ at: 0.6, at_basis: 'seconds_since_first_event', at_seconds: 0.6 });
    expect(b.queues).toEqual(a.queues);
    expect(text.stdout.split('\n')[0]).toContain('(state at 0.6s: --at 600ms read as a duration since the first event)');
    // Beyond the scenario's longest duration: refused saying why, not as an unreadable TIME.
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr.split('\n')[0]).toBe("pushq replay: --at 400d: a duration since the log's first event, but it is longer than 365 days");
  });

  test('--at with --task or --tasks: the output says the instant and the reading, in text as in JSON', async () => {
    const [story, storyJson, list, listJson] = await Promise.all([
      pushq('replay', LOG, '--task', 'welcome-1', '--at', '0.6'),
      pushq('replay', LOG, '--task', 'welcome-1', '--at', '600ms', '--json'),
      pushq('replay', LOG, '--tasks', 'most-attempts', '--at', '600ms'),
      pushq('replay', LOG, '--tasks', 'most-attempts', '--at', '600ms', '--json'),
    ]);
    for (const r of [story, storyJson, list, listJson]) expect(r.code, r.stderr).toBe(0);
    // A story or a list as of --at is not the log's last word: the first line says so, as the summary's does.
    expect(story.stdout.split('\n')[0]).toBe('task welcome-1 in queue mail (id 0): backoff (state at 0.6s: --at 0.6 read as seconds since the first event)');
    expect(list.stdout.split('\n')[0]).toMatch(/ \(state at 0\.6s: --at 600ms read as a duration since the first event\)$/);
    expect(JSON.parse(listJson.stdout)).toMatchObject({ at: 0.6, at_basis: 'seconds_since_first_event', at_seconds: 0.6 });
    const s = JSON.parse(storyJson.stdout);
    expect(s).toMatchObject({ task: 'welcome-1', at: 0.6, at_basis: 'seconds_since_first_event', at_seconds: 0.6 });
    // Without --at the keys are there, null, as in the summary's and the list's JSON.
    const whole = JSON.parse((await pushq('replay', LOG, '--task', 'welcome-1', '--json')).stdout);
    expect(whole).toMatchObject({ at: null, at_basis: null, at_seconds: null });
  });

  test('--task: the story of a task that gave up, with the backoff inputs and both limits', async () => {
    const r = await pushq('replay', LOG, '--task', 'welcome-1');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('task welcome-1 in queue mail (id 0): failed');
    expect(lines).toContain('  attempt 1: dispatched at 0s (retry count 0, execution count 0) → status 503 after 0.05s');
    expect(lines).toContain('  attempt 2: dispatched at 0.25s (retry count 1, execution count 1, previous response 503) → status 503 after 0.05s');
    expect(lines).toContain('    backoff: retry n=1, min_backoff 0.2s, max_backoff 1s, max_doublings 2 → doublings 0 → delay min(1s, 0.2s·2^0·1) = 0.2s; next ETA 0.25s');
    expect(lines.some((l) => /backoff: retry n=3, .* → doublings 2 → delay min\(1s, 0\.2s·2\^2·1\) = 0\.8s/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ {2}ended: gave up at [\d.]+s: task_retry_limit 2 exceeded \(4 attempts = 3 retries\) and task_age_limit 1s exceeded \(age [\d.]+s since the first attempt\)$/);
  });

  test('--task --json: the documented shape', async () => {
    const r = await pushq('replay', LOG, '--task', 'own-retry', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    const live = sim.task('default', 'own-retry');
    expect(Object.keys(s)).toEqual(['task', 'queue', 'state', 'added_at', 'attempts', 'ended', 'id', 'same_name', 'at', 'at_basis', 'at_seconds']);
    expect(s.task).toBe('own-retry');
    expect(s.state).toBe(live.state);
    expect(s.attempts).toHaveLength(live.dispatchCount);
    s.attempts.forEach((a: Record<string, unknown>, i: number) => {
      expect(Object.keys(a)).toEqual([
        'dispatched_at', 'status', 'timed_out', 'retry_count', 'execution_count', 'next_eta',
        'previous_response', 'forced', 'in_flight', 'ended_at', 'latency_seconds', 'failure', 'error', 'orphaned', 'waited_seconds', 'held_by_seconds', 'backoff',
        'dev_server_held_seconds',
      ]);
      expect(a.retry_count).toBe(i);
    });
    expect(s.ended?.at ?? null).toBe(live.endedAtSeconds);
    // The why, for scripts: backoff inputs per attempt and the limits a given-up task exceeded.
    const gaveUp = JSON.parse((await pushq('replay', LOG, '--task', 'welcome-1', '--json')).stdout);
    expect(gaveUp.attempts.map((a: { previous_response: number | null }) => a.previous_response)).toEqual([null, 503, 503, 503]);
    expect(gaveUp.attempts[2].backoff).toEqual({ retry: 3, min_backoff_seconds: 0.2, max_backoff_seconds: 1, max_doublings: 2, doublings: 2, delay_seconds: 0.8 });
    expect(gaveUp.attempts[3]).toMatchObject({ backoff: null, in_flight: false, failure: 'status', latency_seconds: 0.05 });
    expect(gaveUp.ended.give_up).toMatchObject({ attempts: 4, retries: 3, task_retry_limit: 2, task_age_limit_seconds: 1 });
    expect(gaveUp.ended.give_up.age_seconds).toBeGreaterThan(1);
  });

  test('the previous response is the latest answered status: a timeout in between does not change it', async () => {
    const path = join(dir, 'prev.jsonl');
    const answers = [500, null, 503, null, 200];
    const s = createSimulation({
      config: fileConfig(pushQueue('q', 5, { retry: { min_backoff_seconds: 1 } })),
      seed: 3,
      log: (h) => createFileEventLogSync(path, h, { durable: false }),
      worker: ({ request }) => ({ status: request.retryCount < answers.length ? (answers[request.retryCount] as number | null) : 200, latencyMs: 10 }),
    });
    s.addTask({ queue: 'q', name: 'mixed', dispatchDeadlineSeconds: 15 });
    s.runUntilIdle();
    await s.kernel.log.close();
    const story = JSON.parse((await pushq('replay', path, '--task', 'mixed', '--json')).stdout);
    expect(story.attempts.map((a: { previous_response: number | null }) => a.previous_response)).toEqual([null, 500, 500, 503, 503]);
    expect(story.attempts.map((a: { execution_count: number }) => a.execution_count)).toEqual([0, 1, 1, 2, 2]);
    expect(story.attempts.map((a: { failure: string | null }) => a.failure)).toEqual(['status', 'deadline', 'status', 'deadline', null]);
  });

  test('--task: deleted, deleted in flight, purged, timed out', async () => {
    const deleted = JSON.parse((await pushq('replay', LOG, '--task', 'deleted-soon', '--json')).stdout);
    expect(deleted.ended).toEqual({ reason: 'deleted', at: 1, give_up: null });
    expect(deleted.attempts).toEqual([]);
    const slow = JSON.parse((await pushq('replay', LOG, '--task', 'slow-1', '--json')).stdout);
    expect(slow.attempts[0]).toMatchObject({ status: null, timed_out: true });
    // A generated name: the last bulk task added before the purge at 0.6 s was purged then.
    const { events } = await readEventLogFile(LOG);
    const added = events.filter((e) => e.type === 'TaskAdded' && e.queue === 'bulk' && e.t <= 600_000);
    const id = (added.at(-1) as { id: number }).id;
    const purged = JSON.parse((await pushq('replay', LOG, '--task', `task${id}`, '--json')).stdout);
    expect(purged.queue).toBe('bulk');
    expect(purged.ended).toEqual({ reason: 'purged', at: 0.6, give_up: null });
  });

  test('--task NAME used in several queues asks for --queue', async () => {
    const dup = join(dir, 'dup.jsonl');
    const s = createSimulation({ config: fileConfig(pushQueue('a', 5), pushQueue('b', 5)), seed: 1, log: (h) => createFileEventLogSync(dup, h, { durable: false }) });
    s.addTask({ queue: 'a', name: 'same' });
    s.addTask({ queue: 'b', name: 'same', countdownSeconds: 3 });
    s.runUntilIdle();
    await s.kernel.log.close();
    const both = await pushq('replay', dup, '--task', 'same');
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('task "same" exists in several queues (a, b); pick one with --queue');
    const one = JSON.parse((await pushq('replay', dup, '--task', 'same', '--queue', 'b', '--json')).stdout);
    expect(one).toMatchObject({ queue: 'b', added_at: 0, ended: { reason: 'succeeded' } });
    expect(one.attempts[0].dispatched_at).toBe(3);
  });

  test('errors: one line each, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['replay', join(dir, 'missing.jsonl')], /missing\.jsonl: no such file/],
      [['replay', join(ROOT, 'package.json')], /not a pushq event log/],
      [['replay', LOG, '--task', 'nobody'], /no task named "nobody"/],
      [['replay', LOG, '--queue', 'nope'], /no queue named "nope"/],
    ];
    // Events that each pass the codec but do not fit together (a task deleted twice), checksums redone.
    const inconsistent = join(dir, 'inconsistent.jsonl');
    const bad = createFileEventLogSync(inconsistent, TEST_HEADER_FOR_CLI, { durable: false });
    for (const e of [
      { type: 'ConfigApplied', t: 0, config: fileConfig(), settings: { targets: {}, tombstoneSeconds: 60 } },
      { type: 'TaskAdded', t: 0, id: 0, queue: 'default', eta: 10, size: 1 },
      { type: 'TaskDeleted', t: 1, id: 0 },
      { type: 'TaskDeleted', t: 2, id: 0 },
    ] as EngineEvent[]) {
      bad.append(e);
      bad.commit();
    }
    await bad.close();
    cases.push([['replay', inconsistent], /event 4 \(TaskDeleted at t=2\) does not apply to the state before it/]);
    const newer = join(dir, 'newer.jsonl');
    writeFileSync(newer, readFileSync(LOG, 'utf8').replace(`"version":${LOG_FORMAT_VERSION}`, `"version":${LOG_FORMAT_VERSION + 1}`));
    cases.push([['replay', newer], new RegExp(`log format version ${LOG_FORMAT_VERSION + 1} is newer than this pushq \\(${LOG_FORMAT_VERSION}\\)`)]);
    const results = await Promise.all(cases.map(([args]) => pushq(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i] as Awaited<ReturnType<typeof pushq>>;
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await pushq('replay')).code).toBe(2);
  });

  test('usage errors exit 2: a TIME the log cannot read or beyond its last event, an option given twice', async () => {
    // The commands are independent: each group starts side by side (the second needs the log's last instant).
    const unreadable = ['abc', '-1', '1h30m', '2026-11-23T00:00:00Z'];
    const [refused, month, whole, twice] = await Promise.all([
      Promise.all(unreadable.map((at) => pushq('replay', LOG, '--at', at))),
      pushq('replay', LOG, '--at', '30d'),
      pushq('replay', LOG, '--json'),
      pushq('replay', LOG, '--task', 'a', '--task', 'b'),
    ]);
    unreadable.forEach((at, i) => {
      const r = refused[i]!;
      expect(r.code, at).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^pushq replay: --at ${at}: expected seconds since the log's first event \\(e\\.g\\. 12\\.5\\) or a duration since it \\(e\\.g\\. 500ms, 1m, 2h\\); this log has a virtual clock`));
    });
    // A duration past the log's last event: read, then refused as outside the span.
    expect(month.code).toBe(2);
    expect(month.stderr).toMatch(/^pushq replay: --at 30d: outside this log's span/);
    // Beyond the log's last event: refused as `--ui --at` and the dashboard's ?at= refuse it, naming TIME and the last event's time.
    const last = (JSON.parse(whole.stdout) as { last_event_at: number }).last_event_at;
    const beyond = [['--at', '99999'], ['--at', '99999', '--json'], ['--at', '99999', '--task', 'x'], ['--at', '99999', '--tasks', 'gave-up']];
    const [outside, atLast] = await Promise.all([Promise.all(beyond.map((args) => pushq('replay', LOG, ...args))), pushq('replay', LOG, '--at', String(last))]);
    beyond.forEach((args, i) => {
      const r = outside[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.split('\n')[0], args.join(' ')).toBe(`pushq replay: --at 99999: outside this log's span, 0 to ${last} seconds since its first event (first event at 0s, last at ${last}s)`);
    });
    expect(atLast.code, atLast.stderr).toBe(0); // the last event's instant is within the span
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^pushq replay: --task is given twice/);
  });

  test('a torn tail is a warning with the bytes dropped; the complete batches are replayed', async () => {
    const torn = join(dir, 'torn.jsonl');
    writeFileSync(torn, readFileSync(LOG));
    truncateSync(torn, statSync(torn).size - 7);
    const r = await pushq('replay', torn, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*torn tail .*: \d+ bytes after the last complete batch were dropped/);
    expect(JSON.parse(r.stdout).events).toBeLessThan(sim.stats().events);
    // One byte past the last complete batch: said in the singular.
    const oneByte = join(dir, 'one-byte.jsonl');
    writeFileSync(oneByte, Buffer.concat([readFileSync(LOG), Buffer.from('{')]));
    const one = await pushq('replay', oneByte, '--json');
    expect(one.code).toBe(0);
    expect(one.stderr).toMatch(/: 1 byte after the last complete batch was dropped\n$/);
  });
});

test('--tasks on a log where no task waited (or gave up) says so plainly, not "0 tasks that waited longest ..."', async () => {
  const calm = join(dir, 'calm.jsonl');
  const s = createSimulation({
    config: fileConfig(pushQueue('default', 100, { bucket_size: 10 })),
    seed: 1,
    log: (h) => createFileEventLogSync(calm, h, { durable: false }),
    worker: () => ({ status: 200, latencyMs: 10 }),
  });
  s.addWorkload({ queue: 'default', count: 3 });
  s.runUntilIdle();
  await s.kernel.log.close();
  const [waited, gaveUp, attempted] = await Promise.all([pushq('replay', calm, '--tasks', 'longest-wait'), pushq('replay', calm, '--tasks', 'gave-up'), pushq('replay', calm, '--tasks', 'most-attempts')]);
  expect(waited.code, waited.stderr).toBe(0);
  expect(waited.stdout).toBe(`${calm}: no task waited before its attempts\n`);
  expect(gaveUp.stdout).toBe(`${calm}: no task gave up\n`);
  // A list with tasks on it is still counted and shown as a table.
  expect(attempted.stdout.split('\n')[0]).toBe(`${calm}: 3 tasks with the most attempts`);
  const json = JSON.parse((await pushq('replay', calm, '--tasks', 'longest-wait', '--json')).stdout);
  expect(json.total).toBe(0);
  expect(json.tasks).toEqual([]);
});
