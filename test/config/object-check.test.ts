/**
 * A configuration given to the library as an object is checked before anything runs
 * (src/config/object-check.ts). Before, a wrong value ran silently: a rate period of 0 dispatched
 * with no rate limit at all, NaN or 0 in a bucket or concurrency cap stalled every task for ever.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultQueueFileConfig } from '../../src/config/defaults.js';
import { loadQueueConfigFile } from '../../src/config/load.js';
import { checkQueueFileConfig, ConfigObjectError } from '../../src/config/object-check.js';
import type { QueueFileConfig } from '../../src/config/types.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'queue-config');
const WORKER = { latency: { distribution: 'constant' as const, valueUs: 10_000 } };

/** The ConfigObjectError `fn` throws. */
function refusal(fn: () => unknown): ConfigObjectError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigObjectError);
    return err as ConfigObjectError;
  }
  throw new Error('nothing was thrown');
}

/** A valid two-queue config with `change` made to it (queues[1] is `q`). */
function changed(change: (config: Record<string, any>) => void): QueueFileConfig {
  const config = structuredClone(fileConfig(pushQueue('q', 10, { bucket_size: 3, max_concurrent_requests: 2 }))) as Record<string, any>;
  change(config);
  return config as QueueFileConfig;
}

const BROKEN: [string, (c: Record<string, any>) => void, string, RegExp][] = [
  ['a rate period of 0', (c) => (c.queues[1].rate_exact.period_us = 0), 'config.queues[1].rate_exact.period_us', /0 is not a whole number 1 or more/],
  ['half a token', (c) => (c.queues[1].rate_exact.tokens = 0.5), 'config.queues[1].rate_exact.tokens', /0.5 is not a whole number/],
  ['a NaN bucket', (c) => (c.queues[1].bucket_size = NaN), 'config.queues[1].bucket_size', /NaN is not a whole number 0 or more/],
  ['no concurrency', (c) => (c.queues[1].max_concurrent_requests = 0), 'config.queues[1].max_concurrent_requests', /0 is not a whole number 1 or more/],
  ['a negative backoff', (c) => (c.queues[1].retry_parameters.min_backoff_seconds = -5), 'config.queues[1].retry_parameters.min_backoff_seconds', /-5 is not a number of seconds/],
  ['min backoff above max', (c) => Object.assign(c.queues[1].retry_parameters, { min_backoff_seconds: 20, max_backoff_seconds: 10 }), 'config.queues[1].retry_parameters.min_backoff_seconds', /20 is greater than max_backoff_seconds 10/],
  ['a retry limit of 1.5', (c) => (c.queues[1].retry_parameters.task_retry_limit = 1.5), 'config.queues[1].retry_parameters.task_retry_limit', /1.5 is not a whole number 0 or more/],
  ['an age limit of 0 s', (c) => (c.queues[1].retry_parameters.task_age_limit_seconds = 0), 'config.queues[1].retry_parameters.task_age_limit_seconds', /0 is not a whole number 1 or more/],
  ['a misspelt key', (c) => ((c.queues[1].bucketSize = 3), delete c.queues[1].bucket_size), 'config.queues[1].bucketSize', /not a key of a queue; did you mean bucket_size\?/],
  ['a missing key', (c) => delete c.queues[1].retry_parameters, 'config.queues[1].retry_parameters', /missing/],
  ['a display rate that is not the exact one', (c) => (c.queues[1].rate_per_second = 20), 'config.queues[1].rate_per_second', /20 is not rate_exact's 10 per second/],
  ['a rate on a paused queue', (c) => (c.queues[1].state = 'paused'), 'config.queues[1].state', /a queue with a rate is running/],
  ['a running queue with no rate', (c) => Object.assign(c.queues[1], { rate_exact: null, rate_per_second: 0 }), 'config.queues[1].state', /a queue with no rate .* is paused/],
  ['a bad mode', (c) => (c.queues[1].mode = 'Push'), 'config.queues[1].mode', /"Push" is not push or pull/],
  ['a pull queue with a rate', (c) => (c.queues[1].mode = 'pull'), 'config.queues[1].rate_per_second', /applies to push queues only/],
  ['a queue name twice', (c) => (c.queues[1].name = 'default'), 'config.queues[1].name', /already used/],
  ['a bad queue name', (c) => (c.queues[1].name = 'my_queue'), 'config.queues[1].name', /"my_queue" is not a queue name/],
  ['a bad target', (c) => (c.queues[1].target = 'Worker'), 'config.queues[1].target', /"Worker" is not null, `service` or `version.service`/],
  ['queues not an array', (c) => (c.queues = {}), 'config.queues', /expected an array of queues, got object/],
  ['a negative storage limit', (c) => (c.total_storage_limit_bytes = -1), 'config.total_storage_limit_bytes', /-1 is not a whole number 0 or more/],
];

describe('checkQueueFileConfig', () => {
  it('passes every configuration the loader produces (the real corpus, and the default)', async () => {
    const files = readdirSync(CORPUS);
    expect(files.length).toBeGreaterThan(10);
    let loaded = 0;
    for (const file of files) {
      const result = await loadQueueConfigFile(join(CORPUS, file));
      if (result.config === null) continue;
      loaded++;
      expect(checkQueueFileConfig(result.config)).toBe(result.config);
    }
    expect(loaded).toBeGreaterThan(10);
    expect(checkQueueFileConfig(defaultQueueFileConfig())).toBeTruthy();
  });

  it.each(BROKEN)('refuses %s, naming the value', (_, change, field, message) => {
    const err = refusal(() => checkQueueFileConfig(changed(change)));
    expect(err.code).toBe('CONFIG_OBJECT_INVALID');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });

  it("lets a config in code go past App Engine's deploy limits, which are queue.yaml's rules (1,000/s, a bucket of 1,000)", () => {
    const config = fileConfig(pushQueue('fast', 1000, { bucket_size: 1000, max_concurrent_requests: 10_000 }));
    expect(checkQueueFileConfig(config)).toBe(config);
  });
});

describe('the library checks a config object before anything runs', () => {
  it('createSimulation: refused before its log is made', () => {
    let logsMade = 0;
    const config = changed((c) => (c.queues[1].rate_exact.period_us = 0));
    const err = refusal(() => createSimulation({ config, worker: WORKER, log: (header) => (logsMade++, new MemoryEventLog(header)) }));
    expect(err.field).toBe('config.queues[1].rate_exact.period_us');
    expect(logsMade).toBe(0);
  });

  it('PushqService.start: refused, nothing logged', async () => {
    const config = changed((c) => (c.queues[1].max_concurrent_requests = 0));
    const log = new MemoryEventLog({ format: 'pushq-log', version: 1, pushqVersion: 'test', seed: 1, clock: 'wall', configHash: '' } as never);
    await expect(PushqService.start({ config, targets: {}, log })).rejects.toMatchObject({ code: 'CONFIG_OBJECT_INVALID', field: 'config.queues[1].max_concurrent_requests' });
    expect(log.toArray()).toEqual([]);
  });

  it('a valid config in code still runs as before', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10, { bucket_size: 3 })), worker: WORKER });
    sim.addWorkload({ queue: 'q', count: 13 });
    sim.runUntilIdle();
    // A bucket of 3 then 10/s: the 13th task is dispatched 1 s after the first.
    expect(sim.stats().queues['q']).toMatchObject({ succeeded: 13, last_dispatch_at_seconds: 1 });
  });
});
