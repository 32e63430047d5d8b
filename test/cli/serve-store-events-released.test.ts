/**
 * `pushq serve --store`: the events a start replays from PostgreSQL are folded into the state and
 * then let go, as a data directory's are (test/server/restart-events-released.test.ts). The opened
 * store's log lives as long as the service (its `close` is the store's), and it was made in the same
 * scope as `writeSnapshots`, which closed over the whole read (`tail` included) for its position.
 */
import { test } from 'vitest';
import { openServeStore } from '../../src/cli/serve-store.js';
import type { EngineEvent } from '../../src/core/events.js';
import { PushqService } from '../../src/server/service.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { expectReplayedReleased, pausedQueueWithTasks, RELEASED_CONFIG as config, RELEASED_TARGETS as targets } from '../helpers/replayed-released.js';

const cluster = pgForTheseTests();

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
  await pausedQueueWithTasks(first.service.url);
  await first.service.close();

  const again = await startOnStore(url);
  try {
    await expectReplayedReleased(again);
  } finally {
    await again.service.close();
  }
}, 60_000);
