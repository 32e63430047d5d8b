/**
 * `pushq serve` while its event log's disk fills (ENOSPC) and then fails (EIO), with clients
 * creating tasks throughout (real server and worker on 127.0.0.1, a real log file, the faults
 * injected through the writer's file-I/O seam):
 * - no CreateTask is acknowledged (200) unless its TaskAdded is synced: every acknowledged name is
 *   in the file, and survives a restart from it;
 * - while the log cannot be written the API answers 503 UNAVAILABLE, LOG_UNAVAILABLE, naming the
 *   cause (ENOSPC / EIO), and no new attempt starts;
 * - once writes succeed again the service carries on (creates are acknowledged, tasks dispatched);
 * - the state stays consistent with the log: the live state equals the replay of the file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog, readEventLogFile } from '../../src/log/file-log.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { PushqService } from '../../src/server/service.js';
import { FaultyIo } from '../helpers/faulty-io.js';
import { startWorker } from '../helpers/worker.js';

const worker = await startWorker(() => 200);
afterAll(() => worker.close());

const YAML = 'queue:\n- name: q\n  rate: 20/s\n  bucket_size: 5\n';
const PARENT = '/v2/projects/p/locations/l/queues/q/tasks';

interface Answer {
  name: string;
  status: number;
  body: { error?: { status: string; message: string } };
}

async function create(url: string, name: string): Promise<Answer> {
  const res = await request(`${url}${PARENT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/q/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/work/${name}` } } }),
  });
  return { name, status: res.statusCode, body: (await res.body.json()) as Answer['body'] };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('ENOSPC then EIO while tasks are created: nothing unsynced is acknowledged, the API says why, and the service carries on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-disk-faults-'));
  const path = join(dir, 'events.log');
  const io = new FaultyIo();
  const parsed = parseQueueConfig(YAML, { file: 'queue.yaml' });
  const config = parsed.config!;
  const targets = { default: { scaling: 'automatic' as const, url: worker.url } };
  const log = await createFileEventLog(path, { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' }, { io });
  // Every dispatch is checked as it is applied: none may start while the log has a failure.
  const dispatchedWhileFailing: number[] = [];
  let dispatches = 0;
  const service = await PushqService.start({
    config,
    targets,
    log,
    observers: [
      (e: EngineEvent) => {
        if (e.type !== 'AttemptDispatched') return;
        dispatches++;
        if (log.writeFailure() !== null) dispatchedWhileFailing.push(e.id);
      },
    ],
  });
  const answers: Answer[] = [];
  let stop = false;
  let n = 0;
  // Four clients creating tasks back to back through the whole test.
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) answers.push(await create(service.url, `t${n++}`));
  });
  // The phases follow what the clients see, not the clock (a loaded machine answers slowly).
  const acks = (): number => answers.filter((a) => a.status === 200).length;
  const refusals = (): number => answers.filter((a) => a.status !== 200).length;
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 15_000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${acks()} acknowledged, ${refusals()} refused)`);
      await sleep(10);
    }
  };
  try {
    await until(() => acks() >= 20, 'creates acknowledged while the disk is fine');
    io.writeFails = 'ENOSPC';
    io.partialBytes = 40; // the disk fills part way through a write
    let before = refusals();
    await until(() => refusals() >= before + 5, 'refusals while the disk is full');
    io.writeFails = null;
    before = acks();
    await until(() => acks() >= before + 10, 'creates acknowledged once space is freed');
    io.syncFails = 'EIO';
    before = refusals();
    await until(() => refusals() >= before + 5, 'refusals while fdatasync fails');
    io.syncFails = null;
    before = acks();
    const dispatchesBefore = dispatches;
    await until(() => acks() >= before + 10 && dispatches > dispatchesBefore, 'creates acknowledged and dispatch resumed after EIO');
    stop = true;
    await Promise.all(clients);

    const refused = answers.filter((a) => a.status !== 200);
    for (const a of refused) {
      expect(a.status, JSON.stringify(a)).toBe(503);
      expect(a.body.error?.status).toBe('UNAVAILABLE');
      expect(a.body.error?.message).toMatch(/ENOSPC|EIO/);
      expect(a.body.error?.message).toMatch(/\(LOG_UNAVAILABLE\)$/);
    }
    expect(refused.some((a) => a.body.error?.message.includes('write failed: ENOSPC'))).toBe(true);
    expect(refused.some((a) => a.body.error?.message.includes('fdatasync failed: EIO'))).toBe(true);
    // The queue (20/s) has a backlog throughout, so only the guard kept it from dispatching.
    expect(dispatchedWhileFailing).toEqual([]);
  } finally {
    stop = true;
    await Promise.all(clients);
    await service.close(5000);
  }
  const liveDigest = stateDigest(service.kernel.state);
  const file = await readEventLogFile(path);
  expect(file.recovered.droppedBytes).toBe(0);
  // Consistent: the file replays to exactly the state the service ended with.
  expect(stateDigest(replay(file.events))).toBe(liveDigest);
  // No acknowledged task lost: each is in the file, and a restart from it holds it.
  const onFile = new Set(file.events.flatMap((e) => (e.type === 'TaskAdded' ? [e.options?.name] : [])));
  const acked = answers.filter((a) => a.status === 200).map((a) => a.name);
  expect(acked.length).toBeGreaterThanOrEqual(40);
  expect(acked.filter((name) => !onFile.has(name))).toEqual([]);
  // A refused create changed nothing, but for the few that were already applied when the fault
  // struck (in flight at that moment: at most one per client): those are kept, and written once
  // the disk took writes again.
  const refusedButKept = answers.filter((a) => a.status === 503 && onFile.has(a.name));
  expect(refusedButKept.length).toBeLessThanOrEqual(2 * 4);
  const reopened = await createFileEventLog(join(dir, 'unused.log'), file.header, { durable: false });
  const restarted = await PushqService.start({ config, targets: { default: { scaling: 'automatic', url: 'http://127.0.0.1:9' } }, log: reopened, replayed: file.events });
  try {
    const q = restarted.kernel.state.queueByName.get('q')!;
    expect(acked.filter((name) => !q.names.has(name))).toEqual([]);
  } finally {
    await restarted.close(1000);
  }
}, 60_000);
