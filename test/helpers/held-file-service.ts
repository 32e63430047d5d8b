/**
 * A `pushq serve --data`-like service in process, on a file log, with one queue `held` at rate 0:
 * tasks added to it stay (one event each), so a test grows the log by as many events as it likes.
 * For the tests of reading a live log's past (`?at=`) as it grows.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog, type FileEventLog } from '../../src/log/file-log.js';
import { PushqService } from '../../src/server/service.js';

export interface HeldFileService {
  service: PushqService;
  log: FileEventLog;
  /** GET a path of the service: its status and JSON body. */
  get(path: string): Promise<{ status: number; json: any }>;
  /** Adds `n` tasks to `held` (10,000 an instant, 100 a batch at most) and flushes the log. */
  addTasks(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHeldFileService(dirPrefix: string): Promise<HeldFileService> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  const parsed = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' });
  const log = await createFileEventLog(join(dir, 'events.log'), { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' }, { durable: false });
  const service = await PushqService.start({ config: parsed.config!, targets: {}, log, grpcPort: null });
  return {
    service,
    log,
    async get(path) {
      const res = await fetch(`${service.url}${path}`);
      return { status: res.status, json: (await res.json()) as any };
    },
    async addTasks(n) {
      for (let added = 0; added < n; added += 10_000) {
        service.driver.run((k) => {
          for (let b = 0; b < 100; b++) k.addTasks(Array.from({ length: 100 }, () => ({ queue: 'held' })));
        });
        await new Promise((r) => setTimeout(r, 1)); // spread over a few instants
      }
      await log.flush();
    },
    async close() {
      await service.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Flips one byte of the event line that starts after byte `offset` of the log at `path` (its first
 * `"held"` becomes `"hele"`, so the line no longer parses as an event of a known queue), and
 * returns how to put it back.
 */
export function damageAfter(path: string, offset: number): () => void {
  const fd = openSync(path, 'r+');
  const buf = Buffer.alloc(4096);
  readSync(fd, buf, 0, buf.length, offset);
  const at = offset + buf.indexOf('"held"') + 4;
  const was = Buffer.alloc(1);
  readSync(fd, was, 0, 1, at);
  writeSync(fd, Buffer.from('e'), 0, 1, at);
  closeSync(fd);
  return () => {
    const f = openSync(path, 'r+');
    writeSync(f, was, 0, 1, at);
    closeSync(f);
  };
}
