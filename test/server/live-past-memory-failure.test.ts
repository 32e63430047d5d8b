/**
 * A read of the past of `pushq serve --memory` that fails part way through what the log gained
 * (the index took some of the events, then the read threw) leaves no half-read index behind: the
 * next read starts over and answers the log as it is. The index used to keep the events it had
 * taken while the mark stayed where the failed read began, so the next read fed them to it again
 * (each event twice: a task added twice), and every read of the past after it failed or lied.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog, type LogMark } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';

/** A memory log whose next read from a mark fails after `failAfter` events (once), as a read that breaks part way. */
class FailingOnceLog extends MemoryEventLog {
  failAfter = -1;
  override readFrom(mark: LogMark): { events: Iterable<EngineEvent>; end: LogMark } {
    const read = super.readFrom(mark);
    const failAfter = this.failAfter;
    this.failAfter = -1;
    if (failAfter < 0) return read;
    function* failing(): Generator<EngineEvent> {
      let n = 0;
      for (const e of read.events) {
        if (n++ === failAfter) throw new Error('the read broke part way');
        yield e;
      }
    }
    return { events: failing(), end: read.end };
  }
}

let service: PushqService;
let log: FailingOnceLog;

beforeAll(async () => {
  const parsed = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' });
  log = new FailingOnceLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: parsed.config!, targets: {}, log, grpcPort: null });
});

afterAll(async () => {
  await service?.close(1000);
});

const get = async (path: string) => {
  const res = await fetch(`${service.url}${path}`);
  return { status: res.status, json: (await res.json()) as any };
};
const addTasks = (n: number): void => service.driver.run((k) => void k.addTasks(Array.from({ length: n }, () => ({ queue: 'held' }))));
const end = async (): Promise<number> => (await get('/pushq/timeline.json')).json.endSeconds as number;

it('a read that fails part way through what the log gained leaves the next read whole', async () => {
  addTasks(50);
  expect((await get(`/pushq/dashboard.json?at=${await end()}`)).status).toBe(200); // the index is built
  addTasks(50);
  log.failAfter = 20; // the next read takes 20 of the 50 events gained, then breaks
  expect((await get(`/pushq/dashboard.json?at=${await end()}`)).status).toBe(500);
  const answer = await get(`/pushq/dashboard.json?at=${await end()}`);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(answer.json.events).toBe(log.length);
  expect(answer.json.summary.held.tasks_total).toBe(100);
});
