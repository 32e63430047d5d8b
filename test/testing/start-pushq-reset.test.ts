/**
 * `startPushq(...).reset()` between tests, against a real worker on 127.0.0.1: each test starts
 * from a clean service as far as its queues' token buckets go. A queue at 1/s with bucket_size 2
 * that one test drained sends the next test's burst as a freshly deployed queue would: two at
 * once, then one a second. It used to keep the drained bucket across the reset, so the next
 * test's first task waited about a second, and timing depended on which test ran before.
 *
 * What a reset does to attempts in flight: start-pushq-reset-aborts.test.ts.
 */
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { startWorker, type Received, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = `
queue:
- name: burst
  rate: 1/s
  bucket_size: 2
`;

let worker: Worker;
let pushq: RunningPushq;

beforeAll(async () => {
  worker = await startWorker(() => 200);
  pushq = await startPushq({ queueYaml: YAML, targets: { default: worker.url } });
});

afterAll(async () => {
  await pushq?.close();
  await worker?.close();
});

const tasks = (queue: string): string => `${pushq.url}/v2/projects/p/locations/l/queues/${queue}/tasks`;

async function add(queue: string, uri: string): Promise<void> {
  const r = await api('POST', tasks(queue), { task: { appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status).toBe(200);
}

const arrivals = (prefix: string): Received[] => worker.received.filter((r) => r.url.startsWith(prefix));

describe('startPushq reset() and the token bucket', () => {
  it('a burst after a reset goes out as from a full bucket, whatever the test before spent', async () => {
    // The test before: spends both tokens.
    await Promise.all([add('burst', '/first/1'), add('burst', '/first/2')]);
    await worker.waitFor(() => arrivals('/first/').length === 2, EVENT_BOUND_MS, 'the first test’s two tasks');

    await pushq.reset();

    // This test: three at once. Two tokens are waiting; the third comes a second later.
    const sent = Date.now();
    await Promise.all([add('burst', '/second/1'), add('burst', '/second/2'), add('burst', '/second/3')]);
    await worker.waitFor(() => arrivals('/second/').length === 3, EVENT_BOUND_MS, 'the second test’s three tasks');
    const after = arrivals('/second/').map((r) => r.atMs - sent);
    // Drained, the bucket held ~0.1 token at the reset: the first of these waited ~0.9 s, the second ~1.9 s.
    expect(after[1]).toBeLessThan(1000);
    // bucket_size 2, not more: the third waits for a token (1/s).
    expect(after[2]! - after[1]!).toBeGreaterThan(700);
  });
});
