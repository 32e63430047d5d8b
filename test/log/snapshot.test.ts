/** Snapshots belong to one log; `pushq replay --snapshot` agrees with a full replay; wall-clock logs print ISO times. */
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { createEngineState, evolve } from '../../src/core/state.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { LogError } from '../../src/log/log-errors.js';
import { scanEventLog, type LogPosition } from '../../src/log/log-reader.js';
import { stateLines } from '../../src/log/replay.js';
import { SNAPSHOT_VERSION, loadWithSnapshot, writeSnapshotFile } from '../../src/log/snapshot.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { TEST_HEADER } from './conformance.js';
import { pushq as runPushq, type CliRun } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-snapshot-'));
const LOG = join(dir, 'a.jsonl');
const OTHER = join(dir, 'b.jsonl');
const SNAP = join(dir, 'a.snap');

function pushq(...args: string[]): Promise<CliRun> {
  return runPushq(args);
}

function snapshotAtHalf(log: string, snap: string): LogPosition {
  const ends: LogPosition[] = [];
  let header = TEST_HEADER;
  scanEventLog(log, {}, { onHeader: (h) => { header = h; }, onBatch: (p) => ends.push({ ...p }) });
  const at = ends[Math.floor(ends.length / 2)] as LogPosition;
  const state = createEngineState();
  scanEventLog(log, {}, { onEvent: (e, i) => { if (i < at.events) evolve(state, e); } });
  writeSnapshotFile(snap, log, header, state, at);
  return at;
}

beforeAll(async () => {
  const a = richSimulation(3, (h) => createFileEventLogSync(LOG, h, { durable: false }));
  await a.kernel.log.close();
  const b = richSimulation(4, (h) => createFileEventLogSync(OTHER, h, { durable: false }));
  await b.kernel.log.close();
  snapshotAtHalf(LOG, SNAP);
});

describe('snapshots', () => {
  test('loading = the state of a full replay', () => {
    const full = createEngineState();
    scanEventLog(LOG, {}, { onEvent: (e) => evolve(full, e) });
    const loaded = loadWithSnapshot(SNAP, LOG);
    expect(loaded.tailEvents).toBeGreaterThan(0);
    expect(stateLines(loaded.state)).toEqual(stateLines(full));
  });

  test('a snapshot of one log is refused for another; a file that is not a snapshot is refused', () => {
    expect(() => loadWithSnapshot(SNAP, OTHER)).toThrow(LogError);
    expect(() => loadWithSnapshot(SNAP, OTHER)).toThrow(/does not belong to/);
    const junk = join(dir, 'junk.snap');
    writeFileSync(junk, 'hello\n');
    expect(() => loadWithSnapshot(junk, LOG)).toThrow(/not a pushq snapshot/);
  });

  test('a missing snapshot says "no such file", as a missing log, queue file or scenario does (not "cannot read (ENOENT)")', async () => {
    const missing = join(dir, 'missing.snap');
    expect(() => loadWithSnapshot(missing, LOG)).toThrow(new LogError('SNAPSHOT_INVALID', `${missing}: no such file`, { file: missing }));
    expect(() => scanEventLog(join(dir, 'missing.jsonl'))).toThrow(`${join(dir, 'missing.jsonl')}: no such file`);
    const r = await pushq('replay', LOG, '--snapshot', missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`pushq replay: ${missing}: no such file (SNAPSHOT_INVALID)\n`);
  });

  test('version 1 (attempts column named retryCount) and 2 (no retryReason column) snapshots still load; an unknown column is refused', () => {
    const bytes = readFileSync(SNAP);
    const nl = bytes.indexOf(0x0a);
    const head = JSON.parse(bytes.toString('utf8', 0, nl)) as { version: number; columns: { name: string; bytes: number }[] };
    expect(head.version).toBe(SNAPSHOT_VERSION);
    expect(SNAPSHOT_VERSION).toBe(3);
    // retryReason (v3) is the last column: older snapshots end before its bytes.
    const last = head.columns[head.columns.length - 1] as { name: string; bytes: number };
    expect(last.name).toBe('retryReason');
    const rewrite = (edit: (h: typeof head) => void, path: string, withRetryReason = true): string => {
      const h = structuredClone(head);
      edit(h);
      if (!withRetryReason) h.columns.pop();
      const columns = bytes.subarray(nl + 1, withRetryReason ? bytes.length : bytes.length - last.bytes);
      writeFileSync(path, Buffer.concat([Buffer.from(`${JSON.stringify(h)}\n`), columns]));
      return path;
    };
    const v2 = rewrite((h) => { h.version = 2; }, join(dir, 'v2.snap'), false);
    const v1 = rewrite((h) => {
      h.version = 1;
      for (const c of h.columns) if (c.name === 'dispatchCount') c.name = 'retryCount';
    }, join(dir, 'v1.snap'), false);
    const current = loadWithSnapshot(SNAP, LOG).state;
    for (const old of [v1, v2]) {
      expect(stateLines(loadWithSnapshot(old, LOG).state)).toEqual(stateLines(current));
    }
    const odd = rewrite((h) => {
      (h.columns[0] as { name: string }).name = 'colour';
    }, join(dir, 'odd.snap'));
    expect(() => loadWithSnapshot(odd, LOG)).toThrow(/unknown column "colour"/);
  });

  test('pushq replay --snapshot prints the same tasks as a full replay', async () => {
    const [full, fromSnap] = await Promise.all([pushq('replay', LOG, '--json'), pushq('replay', LOG, '--json', '--snapshot', SNAP)]);
    expect(fromSnap.code).toBe(0);
    const a = JSON.parse(full.stdout);
    const b = JSON.parse(fromSnap.stdout);
    expect(b.events).toBe(a.events);
    for (const name of Object.keys(a.queues)) {
      expect(b.queues[name].tasks).toEqual(a.queues[name].tasks);
      expect(b.queues[name].oldest_eta).toEqual(a.queues[name].oldest_eta);
    }
  });
});

test('pushq replay --snapshot: the first line says how many events came after the snapshot; flags that need every event are usage errors (exit 2)', async () => {
  const [full, fromSnap] = await Promise.all([pushq('replay', LOG), pushq('replay', LOG, '--snapshot', SNAP)]);
  const events = Number(/; (\d+) events replayed,/.exec(full.stdout)?.[1]);
  expect(events).toBeGreaterThan(0);
  const tail = loadWithSnapshot(SNAP, LOG).tailEvents;
  expect(tail).toBeLessThan(events);
  // Not "N events replayed" of a run that replayed only the tail.
  expect(fromSnap.stdout.split('\n')[0]).toMatch(new RegExp(`; ${events} events, ${tail} replayed after the snapshot, last at `));
  const refused: [string[], RegExp][] = [
    [['--task', 'welcome-1'], /^pushq replay: --task cannot be combined with --snapshot \(a task's story needs every event\)/],
    [['--tasks', 'gave-up'], /^pushq replay: --tasks cannot be combined with --snapshot \(it needs every event\)/],
    [['--at', '1'], /^pushq replay: --snapshot and --at cannot be combined/],
  ];
  for (const [flags, said] of refused) {
    const r = await pushq('replay', LOG, '--snapshot', SNAP, ...flags);
    expect(r.code, flags.join(' ')).toBe(2);
    expect(r.stderr, flags.join(' ')).toMatch(said);
  }
});

test('pushq replay --write-snapshot writes a snapshot that --snapshot loads to the answers of a full replay; refreshing one replays only the events after it; flags it cannot go with are usage errors (exit 2)', async () => {
  const made = join(dir, 'cli.snap');
  const written = await pushq('replay', LOG, '--write-snapshot', made);
  expect(written.code, written.stderr).toBe(0);
  const events = scanEventLog(LOG).end.events;
  expect(written.stdout).toMatch(new RegExp(`^.*a\\.jsonl: snapshot of ${events} events \\(the log's first \\d+ bytes\\) written to .*cli\\.snap\n$`));
  const [full, fromSnap] = await Promise.all([pushq('replay', LOG, '--json'), pushq('replay', LOG, '--json', '--snapshot', made)]);
  expect(fromSnap.code, fromSnap.stderr).toBe(0);
  const a = JSON.parse(full.stdout);
  const b = JSON.parse(fromSnap.stdout);
  expect(b.events).toBe(a.events);
  expect(b.last_event_at).toBe(a.last_event_at);
  expect(Object.keys(b.queues)).toEqual(Object.keys(a.queues));
  for (const name of Object.keys(a.queues)) {
    expect(b.queues[name].state).toEqual(a.queues[name].state);
    expect(b.queues[name].tasks).toEqual(a.queues[name].tasks);
    expect(b.queues[name].oldest_eta).toEqual(a.queues[name].oldest_eta);
  }
  // The whole state, not only what the summary prints; taken at the end, nothing is left to replay.
  const whole = createEngineState();
  scanEventLog(LOG, {}, { onEvent: (e) => evolve(whole, e) });
  const loaded = loadWithSnapshot(made, LOG);
  expect(loaded.tailEvents).toBe(0);
  expect(stateLines(loaded.state)).toEqual(stateLines(whole));

  // From the snapshot taken half-way: only the events after it are replayed, to the same state.
  const refreshed = join(dir, 'refreshed.snap');
  const tail = loadWithSnapshot(SNAP, LOG).tailEvents;
  const r = await pushq('replay', LOG, '--snapshot', SNAP, '--write-snapshot', refreshed);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`snapshot of ${events} events (the log's first `);
  expect(r.stdout).toContain(`, ${tail} replayed after ${SNAP}) written to ${refreshed}`);
  expect(readFileSync(refreshed).equals(readFileSync(made))).toBe(true);

  const refused: [string[], RegExp][] = [
    [['--at', '1'], /^pushq replay: --write-snapshot cannot be combined with --at: /],
    [['--task', 'welcome-1'], /^pushq replay: --write-snapshot cannot be combined with --task: /],
    [['--tasks', 'gave-up'], /^pushq replay: --write-snapshot cannot be combined with --tasks: /],
    [['--queue', 'default'], /^pushq replay: --write-snapshot cannot be combined with --queue: /],
    [['--json'], /^pushq replay: --write-snapshot cannot be combined with --json: /],
    [['--ui'], /^pushq replay: --write-snapshot cannot be combined with --ui: /],
  ];
  for (const [flags, said] of refused) {
    const refusedRun = await pushq('replay', LOG, '--write-snapshot', join(dir, 'never.snap'), ...flags);
    expect(refusedRun.code, flags.join(' ')).toBe(2);
    expect(refusedRun.stderr, flags.join(' ')).toMatch(said);
  }
  const overLog = await pushq('replay', LOG, '--write-snapshot', LOG);
  expect(overLog.code).toBe(2);
  expect(overLog.stderr).toMatch(/^pushq replay: --write-snapshot .* is the log \(.*\): writing it would overwrite it/);
  expect(existsSync(join(dir, 'never.snap'))).toBe(false);
  expect(scanEventLog(LOG).end.events).toBe(events);
  // The log by another name (through a link to its directory): the same file, refused; before, the
  // snapshot was renamed over the log, which was lost.
  const linked = join(dir, 'linked-dir');
  symlinkSync(dir, linked);
  const overLinked = await pushq('replay', LOG, '--write-snapshot', join(linked, 'a.jsonl'));
  expect(overLinked.stderr).toMatch(/^pushq replay: --write-snapshot .* is the log \(.*\): writing it would overwrite it/);
  expect(overLinked.code).toBe(2);
  expect(scanEventLog(LOG).end.events).toBe(events);
  // A path it cannot write: an error (exit 1) naming why, nothing written.
  const noDir = await pushq('replay', LOG, '--write-snapshot', join(dir, 'no-such-dir', 'x.snap'));
  expect(noDir.code).toBe(1);
  expect(noDir.stderr).toBe(`pushq replay: --write-snapshot ${join(dir, 'no-such-dir', 'x.snap')}: cannot be written: no such directory (ENOENT)\n`);
});

test('a wall-clock log prints ISO 8601 times', async () => {
  const path = join(dir, 'wall.jsonl');
  const t0 = Date.UTC(2026, 10, 23, 12, 0, 0) * 1000;
  const log = createFileEventLogSync(path, { ...TEST_HEADER, clock: 'wall' }, { durable: false });
  const events: EngineEvent[] = [
    { type: 'ConfigApplied', t: t0, config: fileConfig(pushQueue('default', 5)), settings: { targets: {}, tombstoneSeconds: 60 } },
    { type: 'TaskAdded', t: t0, id: 0, queue: 'default', eta: t0, size: 100, options: { name: 'w1' } },
    { type: 'AttemptDispatched', t: t0 + 1000, id: 0 },
    { type: 'AttemptFailed', t: t0 + 51_000, id: 0, status: 500, reason: 'status', latencyUs: 50_000, retry: 1, delayUs: 100_000, retryAt: t0 + 151_000 },
    { type: 'BackoffElapsed', t: t0 + 151_000, id: 0 },
    { type: 'AttemptDispatched', t: t0 + 152_000, id: 0 },
    { type: 'AttemptSucceeded', t: t0 + 200_000, id: 0, status: 200, latencyUs: 48_000 },
  ];
  for (const e of events) {
    log.append(e);
    log.commit();
  }
  await log.close();
  const r = await pushq('replay', path, '--task', 'w1', '--json');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({
    task: 'w1', queue: 'default', state: 'succeeded', added_at: '2026-11-23T12:00:00.000Z',
    attempts: [
      {
        dispatched_at: '2026-11-23T12:00:00.001Z', status: 500, timed_out: false, retry_count: 0, execution_count: 0, next_eta: '2026-11-23T12:00:00.151Z',
        previous_response: null, forced: false, in_flight: false, ended_at: '2026-11-23T12:00:00.051Z', latency_seconds: 0.05, failure: 'status', error: null, orphaned: false,
        // This hand-written log dispatches 1 ms after the add with a token and a slot free: nothing the
        // engine knows held it, so the wait is put down to the transport (serve's back-pressure).
        waited_seconds: 0.001, held_by_seconds: { transport: 0.001 },
        backoff: { retry: 1, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16, doublings: 0, delay_seconds: 0.1 },
        dev_server_held_seconds: 0,
      },
      {
        dispatched_at: '2026-11-23T12:00:00.152Z', status: 200, timed_out: false, retry_count: 1, execution_count: 1, next_eta: null,
        previous_response: 500, forced: false, in_flight: false, ended_at: '2026-11-23T12:00:00.200Z', latency_seconds: 0.048, failure: null, error: null, orphaned: false,
        waited_seconds: 0.001, held_by_seconds: { transport: 0.001 },
        backoff: null,
        dev_server_held_seconds: 0,
      },
    ],
    ended: { reason: 'succeeded', at: '2026-11-23T12:00:00.200Z', give_up: null },
    // No --at: the story is the log's end (docs/replay.md).
    at: null, at_basis: null, at_seconds: null,
    // Which task the name's story is: its id, and how many tasks had the name (one here).
    id: 0, same_name: 1,
  });
  const at = await pushq('replay', path, '--at', '2026-11-23T12:00:00.100Z', '--json');
  expect(JSON.parse(at.stdout).queues.default.tasks.backoff).toBe(1);
  expect(readFileSync(path, 'utf8').split('\n')[0]).toContain('"clock":"wall"');
});

describe('a snapshot of a state that released ended tasks', () => {
  test('is refused with SNAPSHOT_STATE_INCOMPLETE, and nothing is written', async () => {
    const { encodeSnapshot } = await import('../../src/log/snapshot.js');
    const state = createEngineState({ releaseEnded: true });
    let err: unknown;
    try {
      encodeSnapshot(state, TEST_HEADER, { offset: 0, batches: 0, events: 0, nextLine: 2 }, "");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).code).toBe('SNAPSHOT_STATE_INCOMPLETE');
  });
});

describe('a snapshot written before test resets forgot generated names (version 3 without generatedNamesFrom)', () => {
  // A log whose queue was reset (POST /pushq/reset: QueuePurged forgetNames) before the snapshot's
  // position: the reset freed the generated names task0..task<n-1>, which a full replay says as
  // generatedNamesFrom n. An older pushq's snapshot does not carry it.
  const log = join(dir, 'reset.jsonl');
  const snap = join(dir, 'reset.snap');
  const old = join(dir, 'reset-old.snap');
  const oldNoReset = join(dir, 'noreset-old.snap');

  /** The snapshot at `path` as an older pushq wrote it: the same, without any queue's generatedNamesFrom. */
  function withoutNamesFrom(path: string, to: string): void {
    const bytes = readFileSync(path);
    const nl = bytes.indexOf(0x0a);
    const head = JSON.parse(bytes.toString('utf8', 0, nl)) as { queues: { generatedNamesFrom?: number }[] };
    for (const q of head.queues) delete q.generatedNamesFrom;
    writeFileSync(to, Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), bytes.subarray(nl + 1)]));
  }

  beforeAll(async () => {
    const { createSimulation } = await import('../../src/simulate/simulation.js');
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 5), pushQueue('other', 5)),
      seed: 1,
      log: (h) => createFileEventLogSync(log, h, { durable: false }),
      worker: () => ({ status: 200, latencyMs: 10 }),
    });
    sim.addWorkload({ queue: 'q', count: 6 });
    sim.addWorkload({ queue: 'other', count: 3, atSeconds: 1 }); // before the reset: generatedNamesFrom counts every queue's tasks
    sim.schedule(4, (s) => s.kernel.purgeQueue('q', true));
    sim.addWorkload({ queue: 'q', count: 4, atSeconds: 6 });
    sim.addWorkload({ queue: 'q', count: 2, atSeconds: 20 });
    sim.runUntilIdle({ maxSeconds: 60 });
    await sim.kernel.log.close();
    // The snapshot after the reset and the second workload, before the third.
    const ends: LogPosition[] = [];
    let header = TEST_HEADER;
    scanEventLog(log, {}, { onHeader: (h) => { header = h; }, onBatch: (p) => ends.push({ ...p }) });
    const state = createEngineState();
    let at: LogPosition | undefined;
    for (const end of ends) {
      const upTo = createEngineState();
      scanEventLog(log, {}, { onEvent: (e, i) => { if (i < end.events) evolve(upTo, e); } });
      if (upTo.lastEventAt >= 10_000_000) break;
      at = end;
    }
    scanEventLog(log, {}, { onEvent: (e, i) => { if (i < (at as LogPosition).events) evolve(state, e); } });
    expect(state.queueByName.get('q')?.generatedNamesFrom).toBeGreaterThan(0);
    writeSnapshotFile(snap, log, header, state, at as LogPosition);
    withoutNamesFrom(snap, old);
    withoutNamesFrom(SNAP, oldNoReset);
  });

  test('loads to the state of a full replay: the names the reset freed stay free', () => {
    const full = createEngineState();
    scanEventLog(log, {}, { onEvent: (e) => evolve(full, e) });
    expect(full.queueByName.get('q')?.generatedNamesFrom).toBe(9);
    expect(stateLines(loadWithSnapshot(snap, log).state)).toEqual(stateLines(full));
    const loaded = loadWithSnapshot(old, log);
    expect(loaded.state.queueByName.get('q')?.generatedNamesFrom).toBe(9);
    expect(stateLines(loaded.state)).toEqual(stateLines(full));
  });

  test('of a log without a reset, still starts from the snapshot (0 is then the right reading)', () => {
    const full = createEngineState();
    let events = 0;
    scanEventLog(LOG, {}, { onEvent: (e) => { evolve(full, e); events++; } });
    const loaded = loadWithSnapshot(oldNoReset, LOG);
    expect(loaded.tailEvents).toBeLessThan(events);
    expect(stateLines(loaded.state)).toEqual(stateLines(full));
  });
});
