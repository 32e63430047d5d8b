/**
 * A worker that resets connections (TCP RST), before answering or after the status line: every
 * attempt is a connection failure (`connection-reset`, never a success, even after "200 OK" came),
 * retried per policy with `X-AppEngine-TaskRetryReason: connection-reset`, then given up; pushq
 * keeps serving and nothing is left in flight.
 */
import { request } from 'undici';
import { expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { eventually, startRawWorker } from '../helpers/raw-worker.js';

test('connections reset before or during the answer: connection failures, retried, then given up', async () => {
  let n = 0;
  const worker = await startRawWorker((s) => {
    if (n++ % 2 === 1) s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    setImmediate(() => s.resetAndDestroy());
  });
  const yaml = 'queue:\n- name: reset\n  rate: 200/s\n  bucket_size: 50\n  retry_parameters:\n    task_retry_limit: 2\n    min_backoff_seconds: 0.05\n    max_backoff_seconds: 0.05\n';
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const events: EngineEvent[] = [];
  const service = await PushqService.start({
    config: parseQueueConfig(yaml, { file: 'queue.yaml' }).config!,
    targets: { default: { scaling: 'automatic', url: worker.url } },
    log,
    observers: [(e) => void events.push(e)],
  });
  const TASKS = 50;
  try {
    service.driver.run((k) => k.addTasks(Array.from({ length: TASKS }, (_, i) => ({ queue: 'reset', name: `r${i}` })), 'cloud-tasks'));
    await eventually(() => events.filter((e) => e.type === 'TaskGaveUp').length === TASKS, 30_000, 'every task to give up');
    expect(events.filter((e) => e.type === 'AttemptSucceeded')).toEqual([]);
    const failures = events.filter((e) => e.type === 'AttemptFailed' || e.type === 'TaskGaveUp');
    expect(failures).toHaveLength(3 * TASKS);
    for (const e of failures) {
      if (e.type !== 'AttemptFailed' && e.type !== 'TaskGaveUp') continue;
      expect(e.reason).toBe('connection');
      expect(e.error).toMatch(/^connection-reset/);
    }
    const retries = worker.requests.filter((r) => /x-appengine-taskretrycount: [12]\r\n/i.test(r));
    expect(retries).toHaveLength(2 * TASKS);
    for (const r of retries) expect(r).toMatch(/x-appengine-taskretryreason: connection-reset\r\n/i);
    expect(service.driver.pendingAsync).toBe(0);
    // Still serving.
    const res = await request(`${service.url}/pushq/health`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  } finally {
    await service.close(1000);
    await worker.close();
  }
}, 60_000);
