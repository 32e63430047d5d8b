/**
 * Every answer of a command waits for the log to be durable, refusals too: an ALREADY_EXISTS for
 * a task whose own CreateTask is still being synced is not sent before that sync, or a crash in
 * between would take back what it said (the task would be gone). Found by the crash swarm
 * (docs/testing.md); here on the real server, with the log's fdatasync held back through its
 * file-I/O seam.
 */
import { fdatasync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { LogFileIo } from '../../src/log/file-io.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog } from '../../src/log/file-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker } from '../helpers/worker.js';

const worker = await startWorker(() => 200);
afterAll(() => worker.close());

/** node:fs, but while `hold` is set an fdatasync waits until `release()`. */
class HeldSyncs implements LogFileIo {
  hold = false;
  private held: (() => void)[] = [];
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    return writeSync(fd, buffer, offset, length, position);
  }
  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.hold) this.held.push(() => fdatasync(fd, callback));
    else fdatasync(fd, callback);
  }
  release(): void {
    this.hold = false;
    for (const go of this.held.splice(0)) go();
  }
}

test('ALREADY_EXISTS for a task still being synced is answered only after the sync', async () => {
  const io = new HeldSyncs();
  const dir = mkdtempSync(join(tmpdir(), 'pushq-answer-sync-'));
  const log = await createFileEventLog(join(dir, 'events.log'), { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' }, { io });
  const service = await PushqService.start({
    config: parseQueueConfig('queue:\n- name: q\n  rate: 0\n', { file: 'queue.yaml' }).config!,
    targets: { default: { scaling: 'automatic', url: worker.url } },
    log,
  });
  try {
    io.hold = true;
    const create = (): Promise<number> =>
      request(`${service.url}/v2/projects/p/locations/l/queues/q/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: { name: 'projects/p/locations/l/queues/q/tasks/once', appEngineHttpRequest: { relativeUri: '/x' } } }),
      }).then(async (res) => {
        await res.body.dump();
        return res.statusCode;
      });
    const answered: string[] = [];
    const first = create().then((s) => (answered.push(`first ${s}`), s));
    await new Promise((r) => setTimeout(r, 200));
    const second = create().then((s) => (answered.push(`second ${s}`), s));
    await new Promise((r) => setTimeout(r, 500));
    // The task is in the state (the second create is refused), but not yet on disk: no answer yet.
    expect(answered).toEqual([]);
    io.release();
    expect(await first).toBe(200);
    expect(await second).toBe(409);
  } finally {
    io.release();
    await service.close(1000);
    rmSync(dir, { recursive: true, force: true });
  }
});
