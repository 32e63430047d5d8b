/**
 * A RunTask answer is the task as dispatched, as Cloud Tasks answers it ("the task that is
 * returned contains the status after the task is dispatched but before the task is received by
 * its target", cloudtasks.proto): dispatchCount one more, responseCount as before, a lastAttempt
 * with its scheduleTime and dispatchTime but no responseTime or responseStatus. The answer waits
 * for the log's fdatasync, during which a fast worker has often answered: an answer read off the
 * state after the sync showed `responseCount: 1`, a `lastAttempt.responseStatus` and, for a
 * failure, the retry's scheduleTime; whether it did depended on the race, so REST and gRPC
 * answered the same call differently.
 *
 * The real service on loopback (REST and gRPC, the official Node client), a file log with real
 * fdatasync, a worker answering at once (200, or 500 so that the task stays); many runs, each
 * checked.
 */
import { expect, test } from 'vitest';
import { durableServiceFixture } from '../helpers/durable-service.js';
import { api } from '../helpers/serve-process.js';

const RUNS = 20;
const QUEUE = 'projects/p/locations/l/queues/fast';

const fx = durableServiceFixture('queue:\n- name: fast\n  rate: 500/s\n  bucket_size: 500\n  retry_parameters:\n    min_backoff_seconds: 3600\n', 'pushq-run-answer-', (r) => (r.url.includes('/fail/') ? 500 : 200));

const ETA = (): string => new Date(Date.now() + 3_600_000).toISOString();

/** A task an hour ahead (not dispatched by its create), on `uri`. */
async function created(name: string, uri: string): Promise<Record<string, any>> {
  const r = await api('POST', `${fx.service.url}/v2/${QUEUE}/tasks`, { task: { name: `${QUEUE}/tasks/${name}`, scheduleTime: ETA(), appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

/** The answer is the task dispatched once, before any response; its ETA as it was. */
function expectAsDispatched(answer: Record<string, any>, before: Record<string, any>, what: string): void {
  const text = `${what}: ${JSON.stringify(answer)}`;
  expect(Number(answer['dispatchCount']), text).toBe(1);
  expect(Number(answer['responseCount'] ?? 0), text).toBe(0);
  const last = answer['lastAttempt'];
  expect(last, text).toBeTruthy();
  expect(last['dispatchTime'], text).toBeTruthy();
  expect(last['responseTime'] ?? null, text).toBeNull();
  expect(last['responseStatus'] ?? null, text).toBeNull();
  expect(answer['firstAttempt']?.['dispatchTime'], text).toEqual(last['dispatchTime']);
  expect(answer['scheduleTime'], text).toEqual(before['scheduleTime']);
}

test('REST: every RunTask answer with a fast worker is the task as dispatched, before its response', async () => {
  for (let i = 0; i < RUNS; i++) {
    const uri = i % 2 === 0 ? `/fail/rest/${i}` : `/ok/rest/${i}`;
    const before = await created(`rest-${i}`, uri);
    const r = await api('POST', `${fx.service.url}/v2/${QUEUE}/tasks/rest-${i}:run`, {});
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expectAsDispatched(r.json, before, `run ${i}`);
    await fx.worker.waitFor((got) => got.some((g) => g.url === uri), 10_000, uri);
  }
});

test('gRPC: every RunTask answer with a fast worker is the task as dispatched, before its response', async () => {
  for (let i = 0; i < RUNS; i++) {
    const uri = i % 2 === 0 ? `/fail/grpc/${i}` : `/ok/grpc/${i}`;
    await created(`grpc-${i}`, uri);
    const [before] = await fx.client.getTask({ name: `${QUEUE}/tasks/grpc-${i}` });
    const [task] = await fx.client.runTask({ name: `${QUEUE}/tasks/grpc-${i}` });
    expectAsDispatched(task as Record<string, any>, before as Record<string, any>, `run ${i}`);
    await fx.worker.waitFor((got) => got.some((g) => g.url === uri), 10_000, uri);
  }
});
