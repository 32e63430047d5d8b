/**
 * Overlapping reloads apply in the order they were asked, each reading queue.yaml at its turn:
 * a slow read that finishes last must not put an older file back. The loader is replaced by one
 * whose reads finish when the test says.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { ConfigResult as LoadResult } from '../../src/config/types.js';
import type { PushqService as Service } from '../../src/server/service.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const reads: { rate: number; finish: () => void; started: number }[] = [];
let fileRate = 1;

vi.mock('../../src/server/config-thread.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/server/config-thread.js')>();
  return {
    ...real,
    // Each read takes the file as it is when the read starts, and ends when the test says.
    loadQueueConfigFileOffThread: (_path: string): Promise<LoadResult> =>
      new Promise((resolve) => {
        const rate = fileRate;
        reads.push({ rate, started: reads.length, finish: () => resolve({ config: fileConfig(pushQueue('q', rate)), errors: [], warnings: [] } as unknown as LoadResult) });
      }),
  };
});

const { PushqService } = await import('../../src/server/service.js');
let service: Service;

beforeAll(async () => {
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: fileConfig(pushQueue('q', 1)), configPath: '/nowhere/queue.yaml', targets: {}, log });
});

afterAll(async () => {
  await service?.close(100);
});

const rateOf = () => service.kernel.state.queueByName.get('q')!.config.rate_exact;

it('a second reload reads the file after the first is applied, so the newest file wins', async () => {
  fileRate = 1;
  const first = service.reload(); // reads the file now: rate 1 ... slowly
  await Promise.resolve();
  fileRate = 99; // the file changes
  const second = service.reload(); // asked after the change
  await new Promise((r) => setTimeout(r, 10));
  // Only the first read has started: the second waits for its turn.
  expect(reads.map((r) => r.rate)).toEqual([1]);
  reads[0]!.finish();
  await first;
  await new Promise((r) => setTimeout(r, 10));
  expect(reads.map((r) => r.rate)).toEqual([1, 99]);
  reads[1]!.finish();
  expect((await second).ok).toBe(true);
  expect(rateOf()).toEqual({ tokens: 99, period_us: 1_000_000 });
});
