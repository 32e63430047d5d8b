/**
 * A reset in dev-server mode (`startPushq({ devServer: true })`: dev_appserver's one task at a
 * time for the whole app) sends none of the previous test's tasks. Every queue is reset as one
 * step: the attempt in flight on the app's one thread ends with the reset, and no task of another
 * queue, purged by the same reset, takes the freed thread first.
 *
 * It used to reset the queues one after another: the end of queue `a`'s attempt freed the thread,
 * and dev-server mode's pump (app-wide) dispatched queue `b`'s pending task, from the test
 * before, a moment before `b`'s own reset purged it: a request the worker could receive, logged as
 * dispatched and then aborted.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryEventLog } from '../../src/log/memory-log.js';
import { api } from '../helpers/serve-process.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let pushq: RunningPushq;
let close: () => Promise<void>;
const held: ServerResponse[] = [];
const arrived: string[] = [];

beforeAll(async () => {
  const server = createServer((req, res) => {
    arrived.push(req.url ?? '');
    req.resume();
    held.push(res); // never answered: the app's one thread stays busy
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  pushq = await startPushq({ queueYaml: 'queue:\n- name: a\n  rate: 5/s\n- name: b\n  rate: 5/s\n', targets: { default: url }, devServer: true });
});

afterAll(async () => {
  await pushq?.close(0);
  await close?.();
});

const add = async (queue: string, uri: string): Promise<void> => {
  const r = await api('POST', `${pushq.url}/v2/projects/p/locations/l/queues/${queue}/tasks`, { task: { appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status).toBe(200);
};

describe('a reset in dev-server mode', () => {
  it('dispatches none of the purged tasks of one queue when it ends the attempt of another', async () => {
    await add('a', '/a-busy');
    const until = Date.now() + EVENT_BOUND_MS;
    while (!arrived.includes('/a-busy') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(arrived).toEqual(['/a-busy']);
    await add('b', '/b-waiting'); // waits for the one thread
    const dispatchedBefore = (pushq.service.log as MemoryEventLog).toArray().filter((e) => e.type === 'AttemptDispatched').length;

    await pushq.reset();

    const events = (pushq.service.log as MemoryEventLog).toArray();
    expect(events.filter((e) => e.type === 'AttemptDispatched')).toHaveLength(dispatchedBefore);
    await new Promise((r) => setTimeout(r, 200));
    expect(arrived).toEqual(['/a-busy']);
  });
});
