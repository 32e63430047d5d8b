/**
 * S38 for values other than the defaults: the Cloud Tasks Queue resource a real PushqService
 * answers to GET for queues whose queue.yaml sets every retry parameter and rate limit. maxAttempts
 * is task_retry_limit + 1; maxRetryDuration is task_age_limit in seconds; maxBurstSize is
 * bucket_size; maxConcurrentDispatches is max_concurrent_requests clamped to [1, 5000].
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../src/config/load.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';

const YAML = `
queue:
- name: seven
  rate: 5/s
  bucket_size: 40
  max_concurrent_requests: 10000
  retry_parameters:
    task_retry_limit: 7
    task_age_limit: 2d
    min_backoff_seconds: 0.5
    max_backoff_seconds: 120
    max_doublings: 3
- name: zero
  rate: 30/m
  bucket_size: 1
  max_concurrent_requests: 1
  retry_parameters:
    task_retry_limit: 0
    task_age_limit: 2.5m
    min_backoff_seconds: 2.25
    max_backoff_seconds: 2.25
    max_doublings: 0
`;

let dir: string;
let worker: Worker;
let service: PushqService;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-s38-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  const result = await loadQueueConfigFile(join(dir, 'queue.yaml'));
  worker = await startWorker();
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: result.config!, configPath: join(dir, 'queue.yaml'), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
});

afterAll(async () => {
  await service?.close(1000);
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('S38: a yaml queue as a Cloud Tasks Queue, non-default values', () => {
  it('task_retry_limit 7, task_age_limit 2d, max_concurrent_requests 10000 → maxAttempts 8, maxRetryDuration 172800s, maxConcurrentDispatches 5000', async () => {
    const r = await api('GET', `${base}/seven`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.rateLimits).toEqual({ maxDispatchesPerSecond: 5, maxBurstSize: 40, maxConcurrentDispatches: 5000 });
    expect(r.json.retryConfig).toEqual({ maxAttempts: 8, maxRetryDuration: '172800s', minBackoff: '0.500s', maxBackoff: '120s', maxDoublings: 3 });
  });

  it('task_retry_limit 0, task_age_limit 2.5m → maxAttempts 1, maxRetryDuration 150s; the rest as given', async () => {
    const r = await api('GET', `${base}/zero`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.rateLimits).toEqual({ maxDispatchesPerSecond: 0.5, maxBurstSize: 1, maxConcurrentDispatches: 1 });
    expect(r.json.retryConfig).toEqual({ maxAttempts: 1, maxRetryDuration: '150s', minBackoff: '2.250s', maxBackoff: '2.250s', maxDoublings: 0 });
  });

  it('the list of queues shows the same resources', async () => {
    const r = await api('GET', base);
    const byName = Object.fromEntries(r.json.queues.map((q: any) => [q.name.split('/').pop(), q]));
    expect(byName.seven.retryConfig.maxAttempts).toBe(8);
    expect(byName.zero.retryConfig).toEqual({ maxAttempts: 1, maxRetryDuration: '150s', minBackoff: '2.250s', maxBackoff: '2.250s', maxDoublings: 0 });
    expect(byName.seven.rateLimits.maxConcurrentDispatches).toBe(5000);
  });
});
