/**
 * A PushqService on 127.0.0.1 with one queue, an in-memory wall-clock log, the given worker as its
 * target, and `limits` in place of the client ports' defaults (connection-limits.ts): the tests of
 * those limits start one per case.
 */
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import type { ApiServerLimits } from '../../src/server/connection-limits.js';
import { PushqService } from '../../src/server/service.js';

/** One queue, `default` at 50/s. */
export function startLimitedService(workerUrl: string, limits?: Partial<ApiServerLimits>): Promise<PushqService> {
  return startOneQueueService('queue:\n- name: default\n  rate: 50/s\n', workerUrl, limits);
}

/** One queue, `held` at rate 0: the tasks created stay, so its count of them is what reached the engine. */
export function startHeldService(workerUrl: string, limits?: Partial<ApiServerLimits>): Promise<PushqService> {
  return startOneQueueService('queue:\n- name: held\n  rate: 0\n', workerUrl, limits);
}

function startOneQueueService(queueYaml: string, workerUrl: string, limits: Partial<ApiServerLimits> | undefined): Promise<PushqService> {
  const parsed = parseQueueConfig(queueYaml, { file: 'queue.yaml' });
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  return PushqService.start({ config: parsed.config!, targets: { default: { scaling: 'automatic', url: workerUrl } }, log, ...(limits ? { limits } : {}) });
}
