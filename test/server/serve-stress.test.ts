/**
 * The service under a random mix of commands (adds with and without targets, pause, resume, run,
 * purge, reloads that move queue targets between two workers), with backpressure on (one
 * connection per worker), 10% of answers 503: every task settles, nothing is left in flight, and
 * the logged events keep App Engine's laws (rate, concurrency, ETA, pause, retry delays, give-up).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { TaskState } from '../../src/core/task-machine.js';
import { createPrng } from '../../src/engine/prng.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { checkAll, formatViolations } from '../../src/testing/invariants.js';
import { startWorker } from '../helpers/worker.js';

const QUEUES = Array.from({ length: 8 }, (_, i) => `q${i}`);

function yaml(flip: boolean): string {
  return 'queue:\n' + QUEUES.map((q, i) =>
    `- name: ${q}\n  rate: ${50 + i * 20}/s\n  bucket_size: 20\n  max_concurrent_requests: ${2 + (i % 4)}\n  retry_parameters:\n    min_backoff_seconds: 0.05\n    max_backoff_seconds: 0.2\n` +
    (i % 3 === 0 ? `  target: ${flip ? 'svc2' : 'svc1'}\n` : ''),
  ).join('');
}

async function stress(seed: number): Promise<void> {
  const rnd = createPrng(seed);
  const w1 = await startWorker(() => ({ status: rnd.next() < 0.1 ? 503 : 200, delayMs: Math.floor(rnd.next() * 15) }));
  const w2 = await startWorker(() => ({ status: 200, delayMs: Math.floor(rnd.next() * 5) }));
  const dir = await mkdtemp(join(tmpdir(), 'pushq-stress-'));
  const configPath = join(dir, 'queue.yaml');
  await writeFile(configPath, yaml(false));
  const events: EngineEvent[] = [];
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed, clock: 'wall', configHash: '' });
  const service = await PushqService.start({
    config: parseQueueConfig(yaml(false), { file: 'queue.yaml' }).config!, configPath,
    targets: { default: { scaling: 'automatic', url: w1.url }, svc1: { scaling: 'automatic', url: w1.url }, svc2: { scaling: 'automatic', url: w2.url } },
    log, connections: 1, observers: [(e) => events.push(e)],
  });
  const live = (): number => service.kernel.state.queues.reduce((n, q) => n + (q.countByState[TaskState.Pending] as number) + (q.countByState[TaskState.Dispatching] as number) + (q.countByState[TaskState.Backoff] as number), 0);
  try {
    const named: { queue: string; name: string }[] = [];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd.next() * xs.length)] as T;
    for (let round = 0; round < 60; round++) {
      const q = pick(QUEUES);
      const r = rnd.next();
      try {
        if (r < 0.4) {
          const specs = Array.from({ length: 1 + Math.floor(rnd.next() * 20) }, (_, i) => ({ queue: q, name: `t${round}-${i}`, ...(rnd.next() < 0.3 ? { target: 'svc2' } : {}) }));
          service.driver.run((k) => k.addTasks(specs));
          named.push(...specs);
        } else if (r < 0.55) service.driver.run((k) => k.pauseQueue(q));
        else if (r < 0.75) service.driver.run((k) => k.resumeQueue(q));
        else if (r < 0.85 && named.length > 0) {
          const t = pick(named);
          service.driver.run((k) => k.runTask(t.queue, t.name));
        } else if (r < 0.92) {
          await writeFile(configPath, yaml(rnd.next() < 0.5));
          expect((await service.reload()).ok).toBe(true);
        } else service.driver.run((k) => k.purgeQueue(q));
      } catch (err) {
        // Refusals are part of the mix (running a task that is in flight or ended).
        expect((err as { code?: string }).code).toMatch(/^(TASK_NOT_RUNNABLE|UNKNOWN_TASK|TOMBSTONED_TASK)$/);
      }
      await new Promise((res) => setTimeout(res, Math.floor(rnd.next() * 20)));
    }
    for (const q of QUEUES) service.driver.run((k) => k.resumeQueue(q));
    const deadline = Date.now() + 15_000;
    while (live() > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
    expect(live(), `seed ${seed}: tasks still live`).toBe(0);
    expect(service.driver.pendingAsync).toBe(0);
    expect(named.length).toBeGreaterThan(0);
    const violations = checkAll(events);
    expect(violations, formatViolations(violations)).toEqual([]);
  } finally {
    await service.close(1000);
    await w1.close();
    await w2.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('serve under a random mix of commands', () => {
  for (const seed of [1, 2, 3]) it(`settles every task and keeps the laws (seed ${seed})`, () => stress(seed), 30_000);
});
