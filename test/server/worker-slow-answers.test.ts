/**
 * A worker that answers one byte a second. A whole response trickled that way (status line,
 * headers, body: ~40 bytes) cannot end within the 15 s handler deadline: the attempt fails at the
 * deadline although a 200 was on its way (App Engine, too, counts only an answer that ended in
 * time) and its connection is closed, which stops the trickle. Headers at once and a 3-byte body
 * at a byte a second is merely slow: it succeeds after ~3 s.
 */
import type { Socket } from 'node:net';
import { expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { EngineEvent } from '../../src/core/events.js';
import { OriginPools } from '../../src/dispatch/origin-pools.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { eventually, startRawWorker } from '../helpers/raw-worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const DEADLINE_US = 15_000_000;
/** How long the test's connections to the workers stay idle before they are closed. */
const SPARE_IDLE_MS = 1000;

/** Writes `text` to `socket` one byte a second, until done or the socket closes; counts the bytes it wrote. */
function trickle(socket: Socket, text: string, written: { bytes: number }): void {
  let i = 0;
  const t = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(t);
    socket.write(text[i++]!);
    written.bytes++;
  }, 1000);
  socket.once('close', () => clearInterval(t));
}

test('a response a byte a second: cut at the deadline when it cannot end in time, delivered when it can', async () => {
  const whole = { bytes: 0 };
  const allSlow = await startRawWorker((s) => trickle(s, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', whole));
  const bodySlow = await startRawWorker((s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n');
    trickle(s, 'ok!', { bytes: 0 });
  });
  const yaml = [
    'queue:',
    '- name: trickle\n  rate: 50/s\n  target: whole\n  retry_parameters:\n    task_retry_limit: 0',
    '- name: slowbody\n  rate: 50/s\n  target: body\n  retry_parameters:\n    task_retry_limit: 0',
  ].join('\n');
  const pools = new OriginPools(undefined, SPARE_IDLE_MS);
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const ended: EngineEvent[] = [];
  const service = await PushqService.start({
    config: parseQueueConfig(yaml, { file: 'queue.yaml' }).config!,
    targets: { default: { scaling: 'automatic', url: allSlow.url }, whole: { scaling: 'automatic', url: allSlow.url }, body: { scaling: 'automatic', url: bodySlow.url } },
    // An idle connection closed after 1 s, not WORKER_IDLE_MS (pinned in worker-never-answers.test.ts):
    // the test waits for undici's spare to go.
    originPools: pools,
    log,
    observers: [(e) => void ((e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp') && ended.push(e))],
  });
  try {
    service.driver.run((k) => {
      k.addTasks(Array.from({ length: 10 }, (_, i) => ({ queue: 'trickle', name: `w${i}`, dispatchDeadlineUs: DEADLINE_US })), 'cloud-tasks');
      k.addTasks(Array.from({ length: 10 }, (_, i) => ({ queue: 'slowbody', name: `b${i}`, dispatchDeadlineUs: DEADLINE_US })), 'cloud-tasks');
    });
    await eventually(() => ended.length === 20, 40_000, 'every attempt to end');
    const succeeded = ended.filter((e) => e.type === 'AttemptSucceeded');
    const gaveUp = ended.filter((e) => e.type === 'TaskGaveUp');
    expect(succeeded).toHaveLength(10);
    for (const e of succeeded) expect(e.latencyUs).toBeGreaterThanOrEqual(2_500_000);
    expect(gaveUp).toHaveLength(10);
    for (const e of gaveUp) {
      expect(e.reason).toBe('deadline');
      expect(e.latencyUs).toBeGreaterThanOrEqual(DEADLINE_US - 5_000);
      expect(e.latencyUs).toBeLessThan(DEADLINE_US + 1_500_000);
    }
    // The cut connections were closed at the deadline, so the trickle stopped: ~15 bytes each, not the whole 40.
    const cut = allSlow.connections.filter((c) => c.requestAt !== null);
    expect(cut).toHaveLength(10);
    for (const c of cut) expect(c.closedAt! - c.requestAt!).toBeLessThan(DEADLINE_US / 1000 + 1500);
    expect(whole.bytes).toBeLessThan(10 * 20);
    await eventually(() => allSlow.open === 0, EVENT_BOUND_MS, `every connection to be closed (a spare one undici opens idles out in ${SPARE_IDLE_MS} ms)`);
  } finally {
    await service.close(1000);
    await pools.close();
    await allSlow.close();
    await bodySlow.close();
  }
}, 60_000);
