/**
 * The past of a live service whose log is in memory (`pushq serve --memory`): the first read of
 * `?at=` takes every event the service has logged into its index (src/server/read-source.ts), a
 * slice at a time, so the service answers other requests meanwhile. Before, it took them in one
 * go: with ~200,000 events `/pushq/health` waited for all of it (1.8 s for ~180,000 events in a
 * real `pushq serve --memory` on a loaded machine). Reads at once take each event once.
 *
 * A later read takes only what the log gained, from where the last read stopped (MemoryEventLog
 * `readFrom`): before, each decoded the whole log from its first event to skip what the index
 * had, so every read of the past cost ~0.3 s over these 200,000 events (a tenth of the first
 * read's indexing), however little the log had gained; now ~10 ms.
 *
 * In process, the service and this test on one event loop: a health check held by the service is
 * held here too, which is what is measured. The figures are printed (console.info).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import type { EngineEvent } from '../../src/core/events.js';
import { MemoryEventLog, type LogMark } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';

/** A memory log that counts the events decoded from it, by a walk from its start or from a mark. */
class CountedMemoryLog extends MemoryEventLog {
  decoded = 0;

  override *[Symbol.iterator](): IterableIterator<EngineEvent> {
    for (const e of super[Symbol.iterator]()) {
      this.decoded++;
      yield e;
    }
  }

  override readFrom(mark: LogMark): { events: Iterable<EngineEvent>; end: LogMark } {
    const read = super.readFrom(mark);
    const counted = function* (this: CountedMemoryLog): Generator<EngineEvent> {
      for (const e of read.events) {
        this.decoded++;
        yield e;
      }
    };
    return { events: counted.call(this), end: read.end };
  }
}

/** Tasks added to a paused queue: one event each, and nothing happens after. */
const TASKS = 200_000;

let service: PushqService;
let log: CountedMemoryLog;
/** How long the first reads of the past took (the whole log indexed), ms. */
let firstReadMs = NaN;

beforeAll(async () => {
  const parsed = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' });
  log = new CountedMemoryLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: parsed.config!, targets: {}, log, grpcPort: null });
  for (let added = 0; added < TASKS; added += 10_000) {
    service.driver.run((k) => {
      for (let b = 0; b < 100; b++) k.addTasks(Array.from({ length: 100 }, () => ({ queue: 'held' }))); // 100 a batch at most
    });
    await new Promise((r) => setTimeout(r, 1)); // spread over a few instants
  }
  await log.flush();
}, 120_000);

afterAll(async () => {
  await service?.close(1000);
});

const get = async (path: string) => {
  const res = await fetch(`${service.url}${path}`);
  return { status: res.status, json: (await res.json()) as any };
};

it('answers /pushq/health while the first ?at= reads the whole memory log, and each of several reads at once counts every event once', { timeout: 120_000 }, async () => {
  expect(log.length).toBeGreaterThan(TASKS);
  const started = performance.now();
  let answeredMs: number | null = null;
  const end = (await get('/pushq/timeline.json')).json.endSeconds as number; // now: after the last event
  const instants = [0, 0.001, end]; // the first event, just after it, after the last
  const reads = Promise.all(instants.map((s) => get(`/pushq/dashboard.json?at=${s}`))).then((rs) => ((answeredMs = performance.now() - started), rs));
  const healthMs: number[] = [];
  while (answeredMs === null) {
    const sent = performance.now();
    expect((await get('/pushq/health')).status).toBe(200);
    healthMs.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 5));
  }
  const answers = await reads;
  firstReadMs = answeredMs as number;
  const sorted = [...healthMs].sort((a, b) => a - b);
  console.info(`first ?at= over ${log.length} events in memory answered in ${(answeredMs as number).toFixed(0)} ms; /pushq/health answered ${sorted.length} times meanwhile, median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
  for (const r of answers) expect(r.status, JSON.stringify(r.json)).toBe(200);
  // After the last event: every event, each taken once (two reads taking the same ones at once would count them twice).
  expect(answers[2]!.json.events).toBe(log.length);
  expect(answers[2]!.json.summary.held.tasks_total).toBe(TASKS);
  expect(healthMs.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...healthMs)).toBeLessThan((answeredMs as number) / 2);
  // A later read takes only what the log gained: nothing here.
  expect((await get(`/pushq/dashboard.json?at=${end}`)).json.events).toBe(log.length);
});

it('a later ?at= takes only what the log gained: it decodes those events alone, not the log from its start', { timeout: 120_000 }, async () => {
  expect(firstReadMs).toBeGreaterThan(0); // the test above built the index
  const end = (await get('/pushq/timeline.json')).json.endSeconds as number;
  const ms: number[] = [];
  for (let i = 0; i < 15; i++) {
    const decoded = log.decoded;
    const length = log.length;
    service.driver.run((k) => k.addTasks([{ queue: 'held' }])); // one event gained
    const sent = performance.now();
    const answer = await get(`/pushq/dashboard.json?at=${end}`); // an instant shown before: no fold
    ms.push(performance.now() - sent);
    expect(answer.status).toBe(200);
    expect(answer.json.summary.held.tasks_total).toBe(TASKS);
    expect(log.decoded - decoded, 'events decoded by a read after one was gained').toBe(log.length - length);
  }
  expect((await get(`/pushq/dashboard.json?at=${(await get('/pushq/timeline.json')).json.endSeconds}`)).json.events).toBe(log.length);
  const median = [...ms].sort((a, b) => a - b)[ms.length >> 1]!;
  console.info(`later ?at= over ${log.length} events, one gained each: median ${median.toFixed(1)} ms (the first reads: ${firstReadMs.toFixed(0)} ms)`);
});
