/**
 * Backpressure from the transport to the engine: when the HTTP dispatcher's window to a worker
 * is full, queues keep their tasks pending (nothing is logged as dispatched that was not sent),
 * and the room that frees up goes round the waiting queues in turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let worker: Worker;
beforeAll(async () => {
  worker = await startWorker(() => ({ status: 200, delayMs: 30 }));
});
afterAll(() => worker.close());

describe('backpressure', () => {
  it('never logs more attempts in flight than the window, and serves waiting queues in turn', async () => {
    const yaml = 'queue:\n' + ['a', 'b', 'c'].map((q) => `- name: ${q}\n  rate: 500/s\n  bucket_size: 100\n`).join('');
    const parsed = parseQueueConfig(yaml, { file: 'queue.yaml' });
    const events: EngineEvent[] = [];
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
    // connections: 1 → at most 2 requests handed to the transport at once.
    const service = await PushqService.start({
      config: parsed.config!, targets: { default: { scaling: 'automatic', url: worker.url } }, log, connections: 1,
      observers: [(e) => events.push(e)],
    });
    try {
      const queueOf = new Map<number, string>();
      service.driver.run((k) => {
        for (const q of ['a', 'b', 'c']) k.pauseQueue(q);
        for (const q of ['a', 'b', 'c']) for (const e of k.addTasks(Array.from({ length: 8 }, () => ({ queue: q })))) queueOf.set(e.id, e.queue);
        for (const q of ['a', 'b', 'c']) k.resumeQueue(q);
      });
      const deadline = Date.now() + EVENT_BOUND_MS;
      while (events.filter((e) => e.type === 'AttemptSucceeded').length < 24 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(events.filter((e) => e.type === 'AttemptSucceeded')).toHaveLength(24);
      let inFlight = 0;
      let maxInFlight = 0;
      const order: string[] = [];
      for (const e of events) {
        if (e.type === 'AttemptDispatched') {
          inFlight++;
          order.push(queueOf.get(e.id)!);
        } else if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed') inFlight--;
        maxInFlight = Math.max(maxInFlight, inFlight);
      }
      expect(maxInFlight).toBe(2);
      // Each queue gets its turn: in any 6 consecutive dispatches after the first two, every queue appears.
      for (let i = 2; i + 6 <= 20; i++) expect(new Set(order.slice(i, i + 6)).size).toBe(3);
    } finally {
      await service.close(1000);
    }
  });
});
