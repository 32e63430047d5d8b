/**
 * A PushqService on 127.0.0.1 over a file log with real fdatasync (in a fresh directory), a real
 * HTTP worker as the default target, and the official Node Cloud Tasks client on its gRPC port:
 * for tests of what an answer holds when it waits for the log's sync. `close` stops all of it and
 * removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog } from '../../src/log/file-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker, type Respond, type Worker } from './worker.js';

export interface DurableService {
  dir: string;
  worker: Worker;
  service: PushqService;
  client: CloudTasksClient;
  close(): Promise<void>;
}

export async function startDurableService(yaml: string, dirPrefix: string, respond: Respond): Promise<DurableService> {
  const parsed = parseQueueConfig(yaml, { file: 'queue.yaml' });
  if (parsed.config === null) throw new Error(`the test's queue.yaml is invalid: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  const worker = await startWorker(respond);
  const log = await createFileEventLog(join(dir, 'events.log'), { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const service = await PushqService.start({ config: parsed.config, targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: service.grpcPort!, sslCreds: grpc.credentials.createInsecure() });
  return {
    dir,
    worker,
    service,
    client,
    async close() {
      await client.close();
      await service.close(1000);
      await worker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The same for a test file: started before its tests, closed after; its fields are set once they run. */
export function durableServiceFixture(yaml: string, dirPrefix: string, respond: Respond): DurableService {
  const fx = {} as DurableService;
  beforeAll(async () => {
    Object.assign(fx, await startDurableService(yaml, dirPrefix, respond));
  });
  afterAll(async () => {
    await fx.close?.();
  });
  return fx;
}
