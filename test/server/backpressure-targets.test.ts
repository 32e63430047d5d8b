/**
 * A queue without a target of its own sends each task to that task's target. When those targets
 * are several workers, one full worker must not hold back the queue's tasks for the others: such a
 * queue gets no back-pressure (its attempts past a worker's window wait in the dispatcher, in
 * order). Only a queue with a `target` (all its tasks go to one place) is held back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let slow: Worker;
let fast: Worker;
beforeAll(async () => {
  slow = await startWorker(() => ({ status: 200, delayMs: 800 }));
  fast = await startWorker(() => 200);
});
afterAll(async () => {
  await slow.close();
  await fast.close();
});

it('a queue without a target is not held back by one full worker: a task for another worker goes at once', async () => {
  const parsed = parseQueueConfig('queue:\n- name: q\n  rate: 500/s\n  bucket_size: 100\n', { file: 'queue.yaml' });
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  // connections: 1 → a window of 2 requests per worker.
  const service = await PushqService.start({
    config: parsed.config!,
    targets: { default: { scaling: 'automatic', url: slow.url }, other: { scaling: 'automatic', url: fast.url } },
    log,
    connections: 1,
  });
  try {
    const started = Date.now();
    service.driver.run((k) => {
      k.pauseQueue('q');
      k.addTasks(Array.from({ length: 5 }, () => ({ queue: 'q' }))); // to the slow default worker
      k.addTasks([{ queue: 'q', target: 'other' }]);
      k.resumeQueue('q');
    });
    await fast.waitFor((r) => r.length === 1, EVENT_BOUND_MS, 'the task for the other worker');
    // The slow worker's window (2) was full for 800 ms; the other task did not wait for it.
    expect(fast.received[0]!.atMs - started).toBeLessThan(500);
    await slow.waitFor((r) => r.length === 5, EVENT_BOUND_MS, 'the slow worker\'s tasks');
  } finally {
    await service.close(100);
  }
});
