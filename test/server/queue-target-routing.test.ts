/**
 * S37 through the real HTTP dispatcher: a PushqService on loopback with a worker per service
 * (targets web and batch, as `--target web=URL --target batch=URL`). A task with target web in a
 * queue with `target: v2.batch` reaches the batch worker; in a queue without a target, the web one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let web: Worker;
let batch: Worker;
let fallback: Worker;
let service: PushqService;
let base: string;

beforeAll(async () => {
  [web, batch, fallback] = await Promise.all([startWorker(), startWorker(), startWorker()]);
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({
    config: fileConfig(pushQueue('routed', 10, { target: 'v2.batch' }), pushQueue('plain', 10)),
    targets: { default: { scaling: 'automatic', url: fallback.url }, web: { scaling: 'automatic', url: web.url }, batch: { scaling: 'automatic', url: batch.url } },
    log,
  });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
});

afterAll(async () => {
  await service?.close(1000);
  await Promise.all([web, batch, fallback].map((w) => w?.close()));
});

describe('S37 over HTTP', () => {
  it('the queue target v2.batch wins over the task target web; without a queue target the task goes to web', async () => {
    for (const queue of ['routed', 'plain']) {
      const r = await api('POST', `${base}/${queue}/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/work/${queue}`, appEngineRouting: { service: 'web' } } } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    const all = (): Worker['received'] => [...web.received, ...batch.received, ...fallback.received];
    await web.waitFor(() => all().length >= 2, EVENT_BOUND_MS, 'both tasks');
    expect(batch.received.map((r) => r.url)).toEqual(['/work/routed']);
    expect(web.received.map((r) => r.url)).toEqual(['/work/plain']);
    expect(fallback.received).toHaveLength(0);
  });
});
