/**
 * A Task's createTime is truncated to the second, as Cloud Tasks gives it (task.proto:
 * "`create_time` will be truncated to the nearest second"; docs/reference.md §8, `createTime`
 * (s)), over REST and gRPC, in every answer that shows a task; scheduleTime keeps its microseconds.
 * It was the add's time to the microsecond.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { startYamlService, type YamlService } from '../helpers/yaml-service.js';

const QUEUE = 'projects/p/locations/l/queues/held';
let fx: YamlService;
let client: CloudTasksClient;

beforeAll(async () => {
  fx = await startYamlService('queue:\n- name: held\n  rate: 5/s\n', 'pushq-create-time-');
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: fx.service.grpcPort!, sslCreds: grpc.credentials.createInsecure() });
  await api('POST', `${fx.base}/held:pause`, {});
});

afterAll(async () => {
  await client?.close();
  await fx?.close();
});

const WHOLE_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

test('REST: createTime is whole seconds, the add time truncated; scheduleTime is not', async () => {
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const r = await api('POST', `${fx.base}/held/tasks`, { task: { name: `${QUEUE}/tasks/r${i}`, appEngineHttpRequest: {} } });
    const after = Date.now();
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const created = r.json.createTime as string;
    expect(created, JSON.stringify(r.json)).toMatch(WHOLE_SECOND);
    expect(Date.parse(created)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(created)).toBeLessThanOrEqual(after);
    // The ETA (none given: the add's time) keeps its fraction, and is in the createTime's second.
    expect(Date.parse(r.json.scheduleTime) - Date.parse(created)).toBeLessThan(1000);
    expect((await api('GET', `${fx.base}/held/tasks/r${i}`)).json.createTime).toBe(created);
    await new Promise((res) => setTimeout(res, 137));
  }
  const list = (await api('GET', `${fx.base}/held/tasks`)).json.tasks as { createTime: string }[];
  for (const t of list) expect(t.createTime).toMatch(WHOLE_SECOND);
});

test('gRPC: createTime has no nanos', async () => {
  for (let i = 0; i < 5; i++) {
    const [task] = await client.createTask({ parent: QUEUE, task: { name: `${QUEUE}/tasks/g${i}`, appEngineHttpRequest: {} } });
    expect(task.createTime?.nanos ?? 0, JSON.stringify(task)).toBe(0);
    const [got] = await client.getTask({ name: `${QUEUE}/tasks/g${i}` });
    expect(got.createTime?.nanos ?? 0).toBe(0);
    expect(String(got.createTime?.seconds)).toBe(String(task.createTime?.seconds));
    await new Promise((res) => setTimeout(res, 137));
  }
});
