/**
 * `startPushq(...).reset()` ends the attempts in flight: their requests are aborted, so the
 * previous test's requests are not left open at the worker (nor waiting in pushq's connection
 * pool, to reach the worker during the next test), their slots are free for the next test, and
 * an answer the worker tries to give them afterwards changes nothing: not the log, not the
 * statistics, not the task list. The reset itself logs each one's end (AttemptOrphaned, with
 * RESET_ERROR) in its own batch (docs/serve.md, Test hooks).
 *
 * It used to leave them open: the worker's held requests stayed open across the reset, each
 * still held its max_concurrent_requests slot (the next test's task waited for the previous
 * test's request), and a late answer was logged after the reset, as the next test ran.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPushq, type RunningPushq } from 'pushq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESET_ERROR } from '../../src/core/attempt.js';
import type { EngineEvent } from '../../src/core/events.js';
import type { MemoryEventLog } from '../../src/log/memory-log.js';
import { api } from '../helpers/serve-process.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = `
queue:
- name: held
  rate: 50/s
  max_concurrent_requests: 2
`;

/** A worker that holds every `/hold` request until told, and sees when a held request's connection closes. */
interface HoldingWorker {
  url: string;
  arrived: string[];
  held: { url: string; res: ServerResponse; closedEarly: boolean }[];
  close(): Promise<void>;
}

async function startHoldingWorker(): Promise<HoldingWorker> {
  const w: HoldingWorker = { url: '', arrived: [], held: [], close: async () => {} };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      w.arrived.push(req.url ?? '');
      if (!(req.url ?? '').startsWith('/hold')) {
        res.end('ok');
        return;
      }
      const entry = { url: req.url ?? '', res, closedEarly: false };
      res.on('close', () => {
        if (!res.writableFinished) entry.closedEarly = true;
      });
      w.held.push(entry);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  w.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  w.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return w;
}

async function until(pred: () => boolean, what: string, timeoutMs = EVENT_BOUND_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let worker: HoldingWorker;
let pushq: RunningPushq;

beforeAll(async () => {
  worker = await startHoldingWorker();
  pushq = await startPushq({ queueYaml: YAML, targets: { default: worker.url } });
});

afterAll(async () => {
  await pushq?.close(0);
  await worker?.close();
});

const tasks = `/v2/projects/p/locations/l/queues/held/tasks`;
const events = (): EngineEvent[] => (pushq.service.log as MemoryEventLog).toArray();

async function add(uri: string): Promise<number> {
  const r = await api('POST', `${pushq.url}${tasks}`, { task: { appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status).toBe(200);
  return pushq.service.kernel.state.tasks.count - 1;
}

describe('startPushq reset() and the attempts in flight', () => {
  it('aborts them: the worker sees their connections close, their slots are free, and a late answer changes nothing', async () => {
    const ids = [await add('/hold/1'), await add('/hold/2')];
    await until(() => worker.held.length === 2, 'both held requests at the worker');

    await pushq.reset();

    // The worker sees both held requests' connections closed (they used to stay open).
    await until(() => worker.held.every((h) => h.closedEarly), 'the held connections to close');
    // Logged by the reset, in its batch: each attempt ended, by the reset.
    const orphaned = events().filter((e) => e.type === 'AttemptOrphaned');
    expect(orphaned.map((e) => [e.type === 'AttemptOrphaned' && e.id, e.type === 'AttemptOrphaned' && e.error])).toEqual(ids.map((id) => [id, RESET_ERROR]));
    // Both slots are free: the next test's task goes out at once, not after the held ones.
    const sent = Date.now();
    await add('/next');
    // Held, they would keep their slots until their 10-minute dispatch deadline.
    await until(() => worker.arrived.includes('/next'), 'the task after the reset');
    expect(Date.now() - sent).toBeLessThan(EVENT_BOUND_MS);
    await until(() => (pushq.service.kernel.state.queueByName.get('held')?.inFlight ?? -1) === 0, 'the next task to end');

    const logged = events().length;
    const dashboard = (await api('GET', `${pushq.url}/pushq/dashboard.json`)).json;
    const listed = (await api('GET', `${pushq.url}${tasks}`)).json;
    // The worker answers the held requests now: nobody is there to hear it.
    for (const h of worker.held) if (!h.res.destroyed) h.res.end('late');
    await new Promise((r) => setTimeout(r, 300));
    expect(events().length).toBe(logged);
    expect((await api('GET', `${pushq.url}/pushq/dashboard.json`)).json.summary).toEqual(dashboard.summary);
    expect((await api('GET', `${pushq.url}${tasks}`)).json).toEqual(listed);
    expect((await api('GET', `${pushq.url}/pushq/health`)).json.ok).toBe(true);
  });
});
