/**
 * gRPC has REST's durability: a CreateTask is answered only after its event is synced, so every
 * task the official client saw created is there after `kill -9` and a restart on the same data
 * directory (and tasks created while the kill lands either answered or did not: none is lost
 * that was answered).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';

let dir: string;
const children: ServeProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-grpc-durable-'));
});

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await rm(dir, { recursive: true, force: true });
});

it('every task acknowledged over gRPC survives kill -9 and a restart', async () => {
  const data = join(dir, 'data');
  // The queue is paused (rate 0 in the default queue is not possible: pause it), so tasks stay listed.
  const first = await startServe(['--data', data]);
  children.push(first);
  expect((await api('POST', `${first.api}/default:pause`, {})).status).toBe(200);
  const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: first.grpcPort, sslCreds: grpc.credentials.createInsecure() });
  const parent = client.queuePath('p', 'l', 'default');
  const acknowledged: string[] = [];
  const errors: Error[] = [];
  let n = 0;
  const writers = Array.from({ length: 8 }, async () => {
    for (;;) {
      const id = `d-${n++}`;
      try {
        await client.createTask({ parent, task: { name: `${parent}/tasks/${id}`, appEngineHttpRequest: { relativeUri: `/${id}` } } }, { retry: null, timeout: 5000 } as never);
        acknowledged.push(id);
      } catch (err) {
        errors.push(err as Error);
        return; // the server is gone
      }
    }
  });
  while (acknowledged.length < 50 && errors.length === 0) await new Promise((r) => setTimeout(r, 10));
  expect(errors.map((e) => e.message)).toEqual([]);
  first.child.kill('SIGKILL');
  await Promise.all(writers);
  expect(await first.exited).toBe('SIGKILL');
  await client.close();

  const second = await startServe(['--data', data]);
  children.push(second);
  const listed = await api('GET', `${second.api}/default/tasks`);
  const names = new Set<string>(listed.json.tasks.map((t: any) => t.name.split('/').pop()));
  for (const id of acknowledged) expect(names.has(id), id).toBe(true);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});
