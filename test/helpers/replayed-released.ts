/**
 * Shared by the tests that a restarted service lets go of the events it replayed (from a data
 * directory, test/server/restart-events-released.test.ts; from PostgreSQL,
 * test/cli/serve-store-events-released.test.ts): a paused queue `q` given 20 tasks to replay, and
 * the check that the replayed array is collected while the service runs.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { PushqService } from '../../src/server/service.js';
import { eventually } from './raw-worker.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export const RELEASED_CONFIG = parseQueueConfig('queue:\n- name: q\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
/** A dead target: the queue is paused, nothing is dispatched to it. */
export const RELEASED_TARGETS = { default: { scaling: 'automatic' as const, url: 'http://127.0.0.1:9' } };
export const RELEASED_TASKS = 20;

/** Pauses `q` and creates RELEASED_TASKS tasks in it through REST: events for a restart to replay. */
export async function pausedQueueWithTasks(serviceUrl: string): Promise<void> {
  const post = (path: string, body: unknown) => fetch(`${serviceUrl}/v2/projects/p/locations/l/queues/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('q:pause', {})).status).toBe(200);
  for (let i = 0; i < RELEASED_TASKS; i++) expect((await post('q/tasks', { task: { appEngineHttpRequest: { relativeUri: `/w/${i}` } } })).status).toBe(200);
}

/** The restarted service holds the tasks, and the events it replayed (held here only weakly) are collected. */
export async function expectReplayedReleased(again: { service: PushqService; events: WeakRef<object>; count: number }): Promise<void> {
  expect(again.count).toBeGreaterThan(RELEASED_TASKS);
  expect(again.service.kernel.state.tasks.count).toBe(RELEASED_TASKS);
  // A WeakRef's target is kept until the end of the job that read it: collect in later turns.
  await eventually(() => {
    gc();
    return again.events.deref() === undefined;
  }, 5000, 'the replayed events to be collected');
}
