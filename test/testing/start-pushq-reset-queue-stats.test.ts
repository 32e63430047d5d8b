/**
 * After `startPushq(...).reset()`, App Engine's FetchQueueStats (Go's `taskqueue.QueueStats`,
 * `/rpc_http`) reads every queue as a freshly deployed one: no task, no attempt in flight, and
 * none executed in the last minute or hour, whatever the test before ran.
 *
 * It used to count the previous test's tasks that succeeded in the last minute and hour: a reset
 * purges only the tasks not yet ended, and the counts were read off the ended ones, so a test that
 * checked `executed_last_minute` after its own tasks saw the previous test's added in.
 */
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRequest, callTaskQueue } from '../helpers/remote-api.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let worker: Worker;
let pushq: RunningPushq;

beforeAll(async () => {
  worker = await startWorker(() => 200);
  pushq = await startPushq({ queueYaml: 'queue:\n- name: mail\n  rate: 50/s\n', targets: { default: worker.url } });
});

afterAll(async () => {
  await pushq?.close();
  await worker?.close();
});

async function stats(): Promise<{ num_tasks: number; executed_last_minute: number; executed_last_hour: number; requests_in_flight: number }> {
  const r = await callTaskQueue(pushq.url, 'FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: [Buffer.from('mail')] }, 'FetchQueueStatsResponse');
  const s = (r.value as any).queueStats[0];
  return { num_tasks: Number(s.num_tasks), executed_last_minute: Number(s.scanner_info.executed_last_minute), executed_last_hour: Number(s.scanner_info.executed_last_hour), requests_in_flight: Number(s.scanner_info.requests_in_flight) };
}

describe('FetchQueueStats after a reset', () => {
  it('counts only what ran since the reset', async () => {
    // The test before: three tasks run.
    for (const i of [1, 2, 3]) await callTaskQueue(pushq.url, 'Add', 'AddRequest', addRequest('mail', { url: Buffer.from(`/before/${i}`) }));
    await worker.waitFor(() => worker.forUrl('/before/').every((r) => r.answered === 200) && worker.forUrl('/before/').length === 3, EVENT_BOUND_MS, 'the three tasks before');
    await expect.poll(async () => (await stats()).executed_last_minute).toBe(3);

    await pushq.reset();
    expect(await stats()).toEqual({ num_tasks: 0, executed_last_minute: 0, executed_last_hour: 0, requests_in_flight: 0 });

    // This test: one task runs, and is the only one counted.
    await callTaskQueue(pushq.url, 'Add', 'AddRequest', addRequest('mail', { url: Buffer.from('/after') }));
    await expect.poll(async () => (await stats()).executed_last_minute).toBe(1);
    expect((await stats()).executed_last_hour).toBe(1);
  });
});
