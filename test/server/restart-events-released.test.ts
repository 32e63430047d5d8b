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
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { eventually } from '../helpers/raw-worker.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const root = mkdtempSync(join(tmpdir(), 'pushq-restart-released-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = parseQueueConfig('queue:\n- name: q\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
const targets = { default: { scaling: 'automatic' as const, url: 'http://127.0.0.1:9' } };

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
  await fetch(`${service.url}/v2/projects/p/locations/l/queues/q:pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${service.url}/v2/projects/p/locations/l/queues/q/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: `/w/${i}` } } }) });
    expect(res.status).toBe(200);
  }
  await service.close();

  const again = await restart(dir);
  try {
    expect(again.count).toBeGreaterThan(20);
    expect(again.service.kernel.state.tasks.count).toBe(20);
    // A WeakRef's target is kept until the end of the job that read it: collect in later turns.
    await eventually(() => {
      gc();
      return again.events.deref() === undefined;
    }, 5000, 'the replayed events to be collected');
  } finally {
    await again.service.close();
  }
  void again.discard; // held to the end, as the CLI holds it
});
