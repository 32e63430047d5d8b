/**
 * After `startPushq(...).reset()`, every task name is free, the generated ones too (`task<id>`,
 * what a create without a name answers): the previous test's `task0` is no tombstone. GetTask of
 * it says there is no such task (UNKNOWN_TASK, not "reserved until" nine days later), and a
 * create that names it makes the task, as on a fresh server; a replay rebuilds the same.
 *
 * It used to free the explicit names only: a generated name is derived from the task's id, and the
 * purged task still held it, so both calls met TOMBSTONED_TASK "reserved until 9 days later".
 */
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryEventLog } from 'pushq';
import { replay, stateLines } from 'pushq';
import { api } from '../helpers/serve-process.js';

let pushq: RunningPushq;

beforeAll(async () => {
  pushq = await startPushq({ queueYaml: 'queue:\n- name: held\n  rate: 0\n' });
});

afterAll(async () => {
  await pushq?.close();
});

describe('generated task names after a reset', () => {
  it('are free: unknown to GetTask, and a create may name them', async () => {
    const tasks = `${pushq.url}/v2/projects/p/locations/l/queues/held/tasks`;
    const before = await api('POST', tasks, { task: { appEngineHttpRequest: { relativeUri: '/before' } } });
    const name: string = before.json.name;
    const id = name.split('/').pop() as string;
    expect(id).toMatch(/^task\d+$/);

    await pushq.reset();

    const get = await api('GET', `${tasks}/${id}`);
    expect(get.status).toBe(404);
    expect(get.json.error.message).toMatch(/\(UNKNOWN_TASK\)$/);
    const again = await api('POST', tasks, { task: { name, appEngineHttpRequest: { relativeUri: '/after' } } });
    expect(again.status).toBe(200);
    expect(again.json.name).toBe(name);
    expect((await api('GET', `${tasks}/${id}`)).json.appEngineHttpRequest.relativeUri).toBe('/after');
    // A second create of it is refused: the new task holds it.
    expect((await api('POST', tasks, { task: { name, appEngineHttpRequest: {} } })).status).toBe(409);
    const events = (pushq.service.log as MemoryEventLog).toArray();
    expect(stateLines(replay(events))).toEqual(stateLines(pushq.service.kernel.state));
  });
});
