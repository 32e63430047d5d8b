/**
 * `pushq serve --store`: the events a start replays from PostgreSQL are folded into the state and
 * then let go, as a data directory's are (test/server/restart-events-released.test.ts). The opened
 * store's log lives as long as the service (its `close` is the store's), and it was made in the same
 * scope as `writeSnapshots`, which closed over the whole read (`tail` included) for its position.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, test } from 'vitest';
import { openServeStore } from '../../src/cli/serve-store.js';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { PushqService } from '../../src/server/service.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { eventually } from '../helpers/raw-worker.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const cluster = pgForTheseTests();

const config = parseQueueConfig('queue:\n- name: q\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
const targets = { default: { scaling: 'automatic' as const, url: 'http://127.0.0.1:9' } };
const deposed = (message: string): never => {
  throw new Error(`deposed: ${message}`);
};

/** Opens the store and starts a service on it as the CLI does; the events read are handed back only through a WeakRef. */
async function startOnStore(url: string): Promise<{ service: PushqService; events: WeakRef<EngineEvent[]>; count: number }> {
  const opened = await openServeStore(url, 'h', deposed);
  if ('error' in opened) throw new Error(opened.error);
  const service = await PushqService.start({ config, targets, log: opened.log, replayed: opened.events, grpcPort: null });
  opened.writeSnapshots(service).stop();
  return { service, events: new WeakRef(opened.events), count: opened.events.length };
}

test('a service started on a store keeps none of the events it replayed', async () => {
  const url = await cluster.pg.database();
  const first = await startOnStore(url);
  await fetch(`${first.service.url}/v2/projects/p/locations/l/queues/q:pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${first.service.url}/v2/projects/p/locations/l/queues/q/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: `/w/${i}` } } }) });
    expect(res.status).toBe(200);
  }
  await first.service.close();

  const again = await startOnStore(url);
  try {
    expect(again.count).toBeGreaterThan(20);
    expect(again.service.kernel.state.tasks.count).toBe(20);
    await eventually(() => {
      gc();
      return again.events.deref() === undefined;
    }, 5000, 'the replayed events to be collected');
  } finally {
    await again.service.close();
  }
}, 60_000);
