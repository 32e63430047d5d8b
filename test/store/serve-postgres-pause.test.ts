/**
 * `pushq serve --store postgres://...` (one node) stopped (SIGSTOP) past its lease while a second
 * `pushq serve` takes the store over, then woken (SIGCONT) while the store answers slowly: the
 * woken one must dispatch nothing (its lease ran out by its own monotonic clock before the second
 * could take it), and once the store tells it it was deposed it says so and exits 1. Each node
 * sends to its own worker, so the worker that received an attempt says which node sent it.
 * Without the local validity (store-log.ts) the woken node sent all 20 tasks the second had run.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { waitUntil } from '../cluster/cluster-harness.js';
import { SHORT_LEASE, nodeLeaseRunOut, serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 100/s
  bucket_size: 20
`;

const TASKS = 20;

const fx = serveStoreFixture('pushq-pgserve-pause-', QUEUE_YAML);
const { workers, children } = fx;

describe('pushq serve --store postgres:// stopped past its lease, then woken', () => {
  it('the woken node dispatches nothing the new holder of the store runs, and exits 1 (deposed)', async () => {
    const url = await fx.pg.database();
    const wa = await startWorker(() => 200);
    const wb = await startWorker(() => 200);
    workers.push(wa, wb);
    const a = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${wa.url}`], 60_000, undefined, SHORT_LEASE);
    children.push(a);
    // One task delivered at once: the node then holds a connection open to its worker.
    const warm = await fetch(`${a.api}/work/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { name: 'projects/p/locations/l/queues/work/tasks/warm', appEngineHttpRequest: { relativeUri: '/s/warm' } } }) });
    expect(warm.status).toBe(200);
    await wa.waitFor((r) => r.length === 1, EVENT_BOUND_MS, 'the first task');
    // Tasks due while the node sleeps: its timer for them is due the moment it wakes.
    const dueAt = new Date(Date.now() + 6000).toISOString();
    for (let i = 0; i < TASKS; i++) {
      const res = await fetch(`${a.api}/work/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/work/tasks/s${i}`, scheduleTime: dueAt, appEngineHttpRequest: { relativeUri: `/s/s${i}` } } }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
    a.child.kill('SIGSTOP');
    await nodeLeaseRunOut(url);
    const b = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${wb.url}`], 60_000, undefined, SHORT_LEASE);
    children.push(b);
    await waitUntil(`the new holder delivering the ${TASKS} tasks`, () => new Set(wb.received.map((r) => r.url)).size === TASKS, 20_000);
    const before = wa.received.length;

    // The store answers slowly as the node wakes (its table locked for a moment): the node must
    // not need the store's word to know its lease is gone; its own clock says so.
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    await slow.query('BEGIN');
    await slow.query('LOCK TABLE pushq_streams IN ACCESS EXCLUSIVE MODE');
    const wokenAt = Date.now();
    a.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 1500));
    await slow.query('COMMIT');
    await slow.end();
    expect(await a.exited).toBe(1);
    expect(a.stderr() + a.stdout()).toMatch(/deposed|another node|STORE_FENCED/);
    await new Promise((r) => setTimeout(r, 500));
    // Nothing at all from the deposed node once awake: it had sent nothing before the stop.
    expect(wa.received.filter((r) => r.atMs >= wokenAt).map((r) => r.url)).toEqual([]);
    expect(wa.received.length).toBe(before);
  }, 60_000);
});
