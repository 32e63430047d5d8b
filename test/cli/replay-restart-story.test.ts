/**
 * The story of an attempt a restart ended (`pushq serve` came back while it was in flight): the
 * log records no duration for it (it ran as long as the crash let it), so `pushq replay --task`
 * says how it ended and no "after 0s", its JSON has no latency (null, not 0), and the queue's
 * latency figures leave it out.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { RESTART_ERROR } from '../../src/engine/restart.js';
import { createFileEventLogSync, type FileEventLog } from '../../src/log/file-log.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { pushq } from '../helpers/cli.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

let path = '';
/** A task deleted while its attempt was in flight, then the restart: the attempt ends as AttemptOrphaned. */
let orphanPath = '';

/** A log where task `cut` was dispatched at 0 (its answer due at 60 s) and a restart ended that attempt; `deleteFirst`: the task was deleted meanwhile. */
async function restartLog(name: string, deleteFirst: boolean): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'pushq-restart-story-')), name);
  let log: FileEventLog | undefined;
  const sim = createSimulation({
    config: fileConfig(pushQueue('q', 10)),
    worker: { latency: { distribution: 'constant', valueUs: 60_000_000 } },
    log: (header) => (log = createFileEventLogSync(file, header, { durable: false })),
  });
  sim.addTask({ queue: 'q', name: 'cut' });
  sim.runUntil(1);
  if (deleteFirst) sim.deleteTask('q', 'cut');
  sim.kernel.abandonInFlight(RESTART_ERROR);
  await log!.close();
  return file;
}

beforeAll(async () => {
  path = await restartLog('events.log', false);
  orphanPath = await restartLog('orphan.log', true);
});

it('replay --task: an attempt ended by a restart has no "after" duration', async () => {
  const r = await pushq(['replay', path, '--task', 'cut']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`→ no response (connection: ${RESTART_ERROR})\n`);
  expect(r.stdout).not.toMatch(/after 0s/);
});

it('replay --task --json: an attempt ended by a restart has latency_seconds null, as the text has no duration', async () => {
  const r = await pushq(['replay', path, '--task', 'cut', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const attempt = JSON.parse(r.stdout).attempts[0];
  expect(attempt).toMatchObject({ in_flight: false, status: null, failure: 'connection', error: RESTART_ERROR, latency_seconds: null });
});

it("replay --json: the queue's latency figures leave out an attempt a restart ended (its 0 is no duration)", async () => {
  const r = await pushq(['replay', path, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const stats = JSON.parse(r.stdout).queues.q.stats;
  expect(stats.attempts).toBe(1);
  // Its only attempt has no known duration: no latency to report, as before any attempt ended.
  expect(stats.latency_seconds).toEqual({ p50: null, p99: null });
  expect(stats.bound.mean_latency_seconds).toBeNull();
});

// The same attempt when its task was deleted while it was in flight: the restart ends it as an
// AttemptOrphaned, which must say so as an AttemptFailed does (before: latency 0, no error).
it('replay --task (text and JSON): an orphaned attempt a restart ended has no duration and names the restart', async () => {
  const text = await pushq(['replay', orphanPath, '--task', 'cut']);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toContain(`→ no response (connection: ${RESTART_ERROR}) (the task had been deleted meanwhile)\n`);
  const r = await pushq(['replay', orphanPath, '--task', 'cut', '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).attempts[0]).toMatchObject({ in_flight: false, status: null, orphaned: true, error: RESTART_ERROR, latency_seconds: null });
});

it("replay --json: the queue's latency figures leave out an orphaned attempt a restart ended", async () => {
  const r = await pushq(['replay', orphanPath, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const stats = JSON.parse(r.stdout).queues.q.stats;
  expect(stats.attempts).toBe(1);
  expect(stats.latency_seconds).toEqual({ p50: null, p99: null });
  expect(stats.bound.mean_latency_seconds).toBeNull();
});
