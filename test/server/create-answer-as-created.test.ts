/**
 * A CreateTask answer is the task as created, as Cloud Tasks answers it: dispatchCount 0,
 * responseCount 0, no firstAttempt or lastAttempt, scheduleTime its ETA. On a running queue the
 * step that adds a task also dispatches it, and the answer waits for the log's fdatasync, during
 * which a fast worker has often answered: an answer read off the state after the sync showed
 * `dispatchCount: 1` and, often, `responseCount: 1` with a `lastAttempt.responseStatus`.
 *
 * The real service on loopback (REST and gRPC, the official Node client), a file log with real
 * fdatasync, a worker answering 200 at once; many creates, each checked.
 */
import { expect, test } from 'vitest';
import { durableServiceFixture } from '../helpers/durable-service.js';
import { api } from '../helpers/serve-process.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const CREATES = 40;
const QUEUE = 'projects/p/locations/l/queues/fast';

const fx = durableServiceFixture('queue:\n- name: fast\n  rate: 500/s\n  bucket_size: 500\n  max_concurrent_requests: 100\n', 'pushq-create-answer-', () => 200);

/** What an answer says of attempts: all of it must be the task before its first one. */
function attemptsOf(task: Record<string, any>): unknown {
  return {
    dispatchCount: Number(task['dispatchCount'] ?? 0),
    responseCount: Number(task['responseCount'] ?? 0),
    firstAttempt: task['firstAttempt'] ?? null,
    lastAttempt: task['lastAttempt'] ?? null,
  };
}
const AS_CREATED = { dispatchCount: 0, responseCount: 0, firstAttempt: null, lastAttempt: null };

/** Waits until the worker has received `n` requests: the creates did dispatch at once. */
async function dispatched(n: number): Promise<void> {
  await fx.worker.waitFor((r) => r.length >= n, EVENT_BOUND_MS, `${n} dispatches`);
}

test('REST: every CreateTask answer on a running queue with a fast worker is the task as created', async () => {
  const before = fx.worker.received.length;
  for (let i = 0; i < CREATES; i++) {
    const r = await api('POST', `${fx.service.url}/v2/${QUEUE}/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/rest/${i}` } } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(attemptsOf(r.json), `create ${i}: ${JSON.stringify(r.json)}`).toEqual(AS_CREATED);
    // No scheduleTime given: the ETA is the create's time (createTime truncated to the second).
    expect(r.json.createTime).toBe(r.json.scheduleTime.replace(/\.\d+Z$/, 'Z'));
  }
  await dispatched(before + CREATES);
});

test('gRPC: every CreateTask answer on a running queue with a fast worker is the task as created', async () => {
  const before = fx.worker.received.length;
  for (let i = 0; i < CREATES; i++) {
    const [task] = await fx.client.createTask({ parent: QUEUE, task: { appEngineHttpRequest: { relativeUri: `/grpc/${i}` } } });
    const t = task as Record<string, any>;
    expect(attemptsOf(t), `create ${i}: ${JSON.stringify(t)}`).toEqual(AS_CREATED);
    expect(t['createTime']).toEqual({ seconds: t['scheduleTime'].seconds, nanos: 0 });
  }
  await dispatched(before + CREATES);
});
