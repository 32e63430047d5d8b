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

beforeAll(async () => {
  path = join(mkdtempSync(join(tmpdir(), 'pushq-restart-story-')), 'events.log');
  let log: FileEventLog | undefined;
  const sim = createSimulation({
    config: fileConfig(pushQueue('q', 10)),
    worker: { latency: { distribution: 'constant', valueUs: 60_000_000 } },
    log: (header) => (log = createFileEventLogSync(path, header, { durable: false })),
  });
  sim.addTask({ queue: 'q', name: 'cut' });
  sim.runUntil(1); // dispatched at 0, its answer due at 60 s
  sim.kernel.abandonInFlight(RESTART_ERROR);
  await log!.close();
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
