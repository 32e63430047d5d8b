/**
 * A worker that accepts connections, reads the request and never answers (a hung handler): each
 * attempt fails at its handler deadline (15 s, the shortest a task may ask for) with reason
 * `deadline`, its socket is closed (the worker sees every connection go), the task is retried per
 * policy and then gives up, and the memory the hung attempts held is given back: flat from one
 * round of hung attempts to the next, and back to where it started once they ended. Its idle
 * connections to the worker are closed after 1 s rather than 10 s (OriginPools' idleMs; the
 * default pinned by the last test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { OriginPools, WORKER_IDLE_MS } from '../../src/dispatch/origin-pools.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { eventually, startRawWorker } from '../helpers/raw-worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const TASKS = 200;
/** How long the test's connections to the worker stay idle before they are closed. */
const SPARE_IDLE_MS = 1000;
const DEADLINE_US = 15_000_000;

test('hung attempts end at their deadline, free their sockets, and leave memory flat', async () => {
  const worker = await startRawWorker(() => undefined); // reads, never writes
  const pools = new OriginPools(TASKS, SPARE_IDLE_MS);
  const yaml = 'queue:\n- name: hang\n  rate: 500/s\n  bucket_size: 500\n  max_concurrent_requests: 1000\n  retry_parameters:\n    task_retry_limit: 1\n    min_backoff_seconds: 0.1\n    max_backoff_seconds: 0.1\n';
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const ended: EngineEvent[] = [];
  const service = await PushqService.start({
    config: parseQueueConfig(yaml, { file: 'queue.yaml' }).config!,
    targets: { default: { scaling: 'automatic', url: worker.url } },
    // Enough connections that no attempt waits for one (a wait gives the attempt a fresh deadline
    // when it starts); an idle one closed after 1 s, not WORKER_IDLE_MS (pinned below), so the
    // spares undici opens go in a second and the test waits for that, not 10 s.
    originPools: pools,
    log,
    observers: [(e) => void ((e.type === 'AttemptFailed' || e.type === 'TaskGaveUp') && ended.push(e))],
  });
  try {
    const baseline = heapMiB();
    service.driver.run((k) => {
      for (let from = 0; from < TASKS; from += 100) k.addTasks(Array.from({ length: 100 }, (_, i) => ({ queue: 'hang', name: `h${from + i}`, dispatchDeadlineUs: DEADLINE_US })), 'cloud-tasks');
    });
    await eventually(() => worker.open >= 100, EVENT_BOUND_MS, 'the worker to hold the hung requests');
    await new Promise((r) => setTimeout(r, 3000));
    const round1 = heapMiB();
    const open1 = worker.open;
    await eventually(() => ended.length >= TASKS, 30_000, 'the first deadlines');
    await new Promise((r) => setTimeout(r, 3000));
    const round2 = heapMiB();
    await eventually(() => ended.filter((e) => e.type === 'TaskGaveUp').length === TASKS, 30_000, 'every task to give up');
    // Every attempt ended at its deadline, as a deadline failure.
    expect(ended).toHaveLength(2 * TASKS);
    for (const e of ended) {
      if (e.type !== 'AttemptFailed' && e.type !== 'TaskGaveUp') continue;
      expect(e.reason).toBe('deadline');
      expect(e.latencyUs).toBeGreaterThanOrEqual(DEADLINE_US - 5_000);
      expect(e.latencyUs).toBeLessThan(DEADLINE_US + 1_500_000);
    }
    // Sockets freed: each connection that carried a hung request was closed at its deadline
    // (undici then opens a spare one, idle, which its 10 s keep-alive timeout closes).
    const hung = worker.connections.filter((c) => c.requestAt !== null);
    expect(hung.length).toBeGreaterThanOrEqual(TASKS);
    // The worker learns of a close when the FIN reaches it, which may be a turn after the last
    // TaskGaveUp was observed (the same process serves both): wait for that, then check the times.
    await eventually(() => hung.every((c) => c.closedAt !== null), EVENT_BOUND_MS, 'the worker to see every hung connection closed');
    for (const c of hung) {
      expect(c.closedAt, 'a hung connection still open after its deadline').not.toBeNull();
      expect(c.closedAt! - c.requestAt!).toBeLessThan(DEADLINE_US / 1000 + 1500);
    }
    await eventually(() => worker.open === 0, EVENT_BOUND_MS, 'every connection to be closed, the idle spares included');
    expect(worker.accepted).toBeGreaterThanOrEqual(open1);
    const after = heapMiB();
    process.stdout.write(`never-answering worker: heap ${baseline.toFixed(1)} MiB before, ${round1.toFixed(1)} / ${round2.toFixed(1)} MiB with ${open1} requests hung (rounds 1 and 2), ${after.toFixed(1)} MiB after\n`);
    // Flat from one round of hung attempts to the next; after them, what is left is the 200 tasks'
    // state and their ~1,000 events in the memory log.
    expect(round2).toBeLessThan(round1 + 2);
    expect(after).toBeLessThan(baseline + 5);
    expect(service.driver.pendingAsync).toBe(0);
  } finally {
    await service.close(1000);
    await pools.close();
    await worker.close();
  }
}, 60_000);

test('a connection to a worker idle for 10 s is closed, as docs/serve.md says', () => {
  expect(WORKER_IDLE_MS).toBe(10_000);
  expect(new OriginPools().idleMs).toBe(WORKER_IDLE_MS);
  expect(readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'serve.md'), 'utf8').replace(/\s+/g, ' ')).toContain('undici opens a spare connection after closing one; idle, it is closed after 10 s.');
});
