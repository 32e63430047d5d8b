/**
 * A worker's 2xx and a crash (docs/serve.md, "Data directory, restarts and crashes"): a settle is
 * logged at the next background flush, not before the worker's answer, so `kill -9` may lose the
 * last ones: those tasks are delivered again (at-least-once, as App Engine). What the restarted
 * service does must match its log: a task the log says succeeded is never dispatched again, every
 * other acknowledged task is (and then succeeds), and the tasks the restart lists are those the
 * log the crash left has not ended.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { TaskState } from '../../src/core/task-machine.js';
import { readEventLogFile } from '../../src/log/file-log.js';
import { replay } from '../../src/log/replay.js';
import { liveTasks } from '../helpers/crash-workload.js';
import { api, killEveryStarted, startServe } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string | undefined;
let worker: Worker | undefined;

afterAll(async () => {
  await killEveryStarted();
  await worker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the log at `path` says of each named task: whether it succeeded, or has not ended. */
async function fromLog(path: string): Promise<{ succeeded: Set<string>; open: Set<string> }> {
  const { events } = await readEventLogFile(path);
  const state = replay(events);
  const names = new Map<number, string>();
  for (const e of events) if (e.type === 'TaskAdded' && e.options?.name !== undefined) names.set(e.id, e.options.name);
  const succeededIds = new Set(events.flatMap((e) => (e.type === 'AttemptSucceeded' ? [e.id] : [])));
  const succeeded = new Set<string>();
  const open = new Set<string>();
  for (const [id, name] of names) {
    if (succeededIds.has(id)) succeeded.add(name);
    const r = state.tasks.heldRow(id);
    const s = (r < 0 ? TaskState.Deleted : state.tasks.state[r]) as TaskState;
    if (s === TaskState.Pending || s === TaskState.Dispatching || s === TaskState.Backoff) open.add(name);
  }
  return { succeeded, open };
}

it('after kill -9 with answers in flight, the restart dispatches again exactly what its log has not seen succeed', async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-crash-settle-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: work\n  rate: 100/s\n  bucket_size: 10\n');
  const w = (worker = await startWorker(() => ({ status: 200, delayMs: 5 })));
  const args = ['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--target', `default=${w.url}`];
  const first = await startServe(args);
  const acknowledged: string[] = [];
  let next = 0;
  const create = async (): Promise<void> => {
    while (next < 300) {
      const name = `s${next++}`;
      const r = await api('POST', `${first.api}/work/tasks`, { task: { name: `projects/p/locations/l/queues/work/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/s/${name}` } } });
      expect(r.status).toBe(200);
      acknowledged.push(name);
    }
  };
  await Promise.all(Array.from({ length: 4 }, create));
  const answered = (r: { answered?: number }): boolean => r.answered !== undefined && r.answered >= 200 && r.answered < 300;
  // Killed while the worker answers at the queue's rate: settles of the last ~200 ms are not yet written.
  await w.waitFor((rs) => rs.filter(answered).length >= 120, EVENT_BOUND_MS, '120 tasks answered 2xx');
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const killedAt = Date.now();
  const before = new Set(w.received.filter(answered).map((r) => r.url.slice('/s/'.length)));
  const log = await fromLog(join(dir, 'data', 'events.log'));
  // The log's successes are answers the worker gave (nothing succeeded that it did not answer 2xx).
  expect([...log.succeeded].filter((n) => !before.has(n))).toEqual([]);
  for (const name of acknowledged) expect(log.succeeded.has(name) || log.open.has(name), `${name} in the log`).toBe(true);

  const second = await startServe(args);
  // Listed after the restart: the tasks the log had not ended (some may already be dispatched again and done).
  const listed = await liveTasks(second, 'work');
  expect([...listed].filter((n) => !log.open.has(n)), 'listed after the restart, ended in the log').toEqual([]);
  const after = (): Set<string> => new Set(w.received.filter((r) => r.atMs >= killedAt && answered(r)).map((r) => r.url.slice('/s/'.length)));
  await w.waitFor(() => [...log.open].every((n) => after().has(n)), 15_000, `the ${log.open.size} tasks the log had not ended delivered again`);
  // Every acknowledged task delivered at least once, and none the log saw succeed delivered again.
  await new Promise((r) => setTimeout(r, 300));
  expect([...log.succeeded].filter((n) => after().has(n)), 'dispatched again though the log says it succeeded').toEqual([]);
  expect(acknowledged.filter((n) => !before.has(n) && !after().has(n))).toEqual([]);
  // The worker's 2xx whose settle the crash lost: delivered twice, as at-least-once allows.
  const lostSettles = [...before].filter((n) => log.open.has(n));
  expect(lostSettles.every((n) => after().has(n))).toBe(true);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  const end = await fromLog(join(dir, 'data', 'events.log'));
  expect(end.open.size, 'open tasks at the end').toBe(0);
  expect(end.succeeded.size).toBe(acknowledged.length);
}, 40_000);
