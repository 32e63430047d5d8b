/**
 * SIGTERM: pushq stops dispatching, lets the attempt in flight finish (bounded), syncs, exits 0;
 * the next start finds no interrupted attempt, delivers nothing twice, and carries on with the
 * task that was still waiting.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

it('drains the attempt in flight on SIGTERM and dispatches nothing new', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-term-'));
  // s1 is held long enough for the SIGTERM sent once it arrives to be taken while it is in flight:
  // a full run at load 12 once took the signal more than 400 ms late, after s1's answer had let s2 go.
  const worker = await startWorker((r) => ({ status: 200, delayMs: r.url === '/s1' ? 2500 : 0 }));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: one\n  rate: 100/s\n  max_concurrent_requests: 1\n');
  const args = ['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--target', `default=${worker.url}`];
  try {
    const first = await startServe(args);
    for (const id of ['s1', 's2']) {
      const r = await api('POST', `${first.api}/one/tasks`, { task: { name: `projects/p/locations/l/queues/one/tasks/${id}`, appEngineHttpRequest: { relativeUri: `/${id}` } } });
      expect(r.status).toBe(200);
    }
    await worker.waitFor((rs) => rs.length === 1, EVENT_BOUND_MS, 's1 in flight');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(worker.received.map((r) => r.url)).toEqual(['/s1']); // s2 was not started while stopping
    expect(worker.received[0]!.answered).toBe(200); // s1 was allowed to finish

    const second = await startServe(args);
    expect(second.stdout()).toMatch(/0 interrupted attempts/);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/s2' && r.answered === 200), EVENT_BOUND_MS, 's2 after restart');
    expect(worker.received.map((r) => r.url)).toEqual(['/s1', '/s2']); // s1 not delivered again
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  } finally {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('signals during the drain change nothing: SIGHUP and a second SIGTERM neither kill it nor cut the drain short', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-term2-'));
  const worker = await startWorker(() => ({ status: 200, delayMs: 1200 }));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: one\n  rate: 100/s\n');
  const data = join(dir, 'data');
  try {
    const serve = await startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', `default=${worker.url}`]);
    const r = await api('POST', `${serve.api}/one/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/slow' } } });
    expect(r.status).toBe(200);
    await worker.waitFor((rs) => rs.length === 1, EVENT_BOUND_MS, 'the attempt in flight');
    serve.child.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 200));
    serve.child.kill('SIGHUP');
    serve.child.kill('SIGTERM');
    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    expect(worker.received[0]!.answered).toBe(200); // the drain ran its course
    expect(serve.stdout()).toMatch(/stopping[^\n]*\n(?:.*\n)*pushq serve: stopped\n$/);
    expect(serve.stderr()).toContain('SIGHUP while stopping: no reload');
    expect(serve.stderr()).toContain('SIGTERM while stopping: already stopping');
    // The lock was released: a new server starts on the same data directory at once.
    const again = await startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', `default=${worker.url}`]);
    expect(again.stderr()).not.toMatch(/took over/);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  } finally {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
