/**
 * S38 for values other than the defaults: the Cloud Tasks Queue resource a real PushqService
 * answers to GET for queues whose queue.yaml sets every retry parameter and rate limit. maxAttempts
 * is task_retry_limit + 1; maxRetryDuration is task_age_limit in seconds; maxBurstSize is
 * bucket_size; maxConcurrentDispatches is max_concurrent_requests as the loader clamped it to [1, 5000].
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { startYamlService, type YamlService } from '../helpers/yaml-service.js';

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
- name: minute
  rate: 1/m
- name: day
  rate: 7/d
- name: exact
  rate: 2.5/s
`;

let fx: YamlService;
let base: string;

beforeAll(async () => {
  fx = await startYamlService(YAML, 'pushq-s38-');
  ({ base } = fx);
});

afterAll(async () => {
  await fx?.close();
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

  it('a rate per minute or per day is per second rounded to 9 decimal places, as gcloud writes queue.yaml into Cloud Tasks (reference §8)', async () => {
    expect((await api('GET', `${base}/minute`)).json.rateLimits.maxDispatchesPerSecond).toBe(0.016666667);
    expect((await api('GET', `${base}/day`)).json.rateLimits.maxDispatchesPerSecond).toBe(0.000081019);
    expect((await api('GET', `${base}/exact`)).json.rateLimits.maxDispatchesPerSecond).toBe(2.5);
    const listed = (await api('GET', base)).json.queues.find((q: any) => q.name.endsWith('/minute'));
    expect(listed.rateLimits.maxDispatchesPerSecond).toBe(0.016666667);
  });

  it('the list of queues shows the same resources', async () => {
    const r = await api('GET', base);
    const byName = Object.fromEntries(r.json.queues.map((q: any) => [q.name.split('/').pop(), q]));
    expect(byName.seven.retryConfig.maxAttempts).toBe(8);
    expect(byName.zero.retryConfig).toEqual({ maxAttempts: 1, maxRetryDuration: '150s', minBackoff: '2.250s', maxBackoff: '2.250s', maxDoublings: 0 });
    expect(byName.seven.rateLimits.maxConcurrentDispatches).toBe(5000);
  });
});
