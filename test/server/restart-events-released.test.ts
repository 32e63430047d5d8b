/**
 * A restart folds the log's events into the state and then must let them go: the running service
 * answers from its state and read models, never from the replayed events. Kept, they cost more than
 * the state they were folded into (a soak of 200,000 tasks: 600,001 events; the restarted server
 * held ~90 MiB more than the one that had written them). The service kept them through its
 * options (`replayed`), and the data directory's `discard` through the opened log's record.
 *
 * Checked as the CLI does it: openDataDir, start on its events, keep the lock and `discard` (the
 * CLI's failure path), drop the rest; then a full GC must collect the events array.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { expectReplayedReleased, pausedQueueWithTasks, RELEASED_CONFIG as config, RELEASED_TARGETS as targets } from '../helpers/replayed-released.js';

const root = mkdtempSync(join(tmpdir(), 'pushq-restart-released-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


/** Opens the data directory and starts on its events; hands back the events only through a WeakRef. */
async function restart(dir: string): Promise<{ service: PushqService; discard: () => Promise<void>; events: WeakRef<EngineEvent[]>; count: number }> {
  const data = await openDataDir(dir, 'h');
  const service = await PushqService.start({ config, targets, log: data.log, dataLock: data.lock, replayed: data.events, grpcPort: null });
  return { service, discard: data.discard, events: new WeakRef(data.events), count: data.events.length };
}

test('a restarted service keeps none of the events it replayed', async () => {
  const dir = join(root, 'data');
  const first = await openDataDir(dir, 'h');
  const service = await PushqService.start({ config, targets, log: first.log, dataLock: first.lock, replayed: first.events, grpcPort: null });
  // Tasks whose events the restart replays (paused: none is dispatched to the dead target).
  await pausedQueueWithTasks(service.url);
  await service.close();

  const again = await restart(dir);
  try {
    await expectReplayedReleased(again);
  } finally {
    await again.service.close();
  }
  void again.discard; // held to the end, as the CLI holds it
});
