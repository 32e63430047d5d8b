/**
 * A PushqService on 127.0.0.1 started from a queue.yaml written to a fresh directory (so reload
 * tests can rewrite it), an in-memory wall-clock log, and a real HTTP worker as the default
 * target; `close` stops both and removes the directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadQueueConfigFile } from '../../src/config/load.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker, type Worker } from './worker.js';

export interface YamlService {
  dir: string;
  worker: Worker;
  service: PushqService;
  /** The REST base of the queues: `${url}/v2/projects/p/locations/l/queues`. */
  base: string;
  close(): Promise<void>;
}

/** `file`: the configuration's name in the directory, queue.yaml or queue.xml (its text is `yaml`'s). */
export async function startYamlService(yaml: string, dirPrefix: string, file = 'queue.yaml'): Promise<YamlService> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  await writeFile(join(dir, file), yaml);
  const result = await loadQueueConfigFile(join(dir, file));
  if (result.config === null) throw new Error(`the test's ${file} is invalid: ${result.errors.map((e) => e.message).join('; ')}`);
  const worker = await startWorker();
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const service = await PushqService.start({ config: result.config, configPath: join(dir, file), targets: { default: { scaling: 'automatic', url: worker.url } }, log });
  return {
    dir,
    worker,
    service,
    base: `${service.url}/v2/projects/p/locations/l/queues`,
    async close() {
      await service.close(1000);
      await worker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
