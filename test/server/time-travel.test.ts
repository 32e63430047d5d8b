/**
 * The time-travel index (src/server/time-travel.ts) against the plain fold it stands in for: at
 * many instants of a rich log (every event type), the state and every read model restored from a
 * checkpoint and folded on are the ones `pushq replay --at` folds from the start: the same state
 * digest, the same replay summary (every figure), the same dispatch counters, attempt history,
 * waits, failures and markers; and a task's story told from its checkpoint is the full fold's.
 * Checkpoints every few events, so every instant crosses some.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { LOG_START, MemoryEventLog } from '../../src/log/memory-log.js';
import { fold } from '../../src/projections/fold.js';
import { stateDigest } from '../../src/log/replay.js';
import { foldLogFile } from '../../src/log/replay.js';
import { queueFigures } from '../../src/projections/figures.js';
import { queueSummaries, timeFormatter } from '../../src/projections/queue-summary.js';
import { TaskStoryCollector } from '../../src/projections/task-story.js';
import { newReadModels, projectionsOf, type FoldView } from '../../src/server/read-models.js';
import { KEPT_LOG_EVENTS, LogIndex } from '../../src/server/time-travel.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { richSimulation } from '../helpers/rich-sim.js';

let dir: string;
let path: string;
let lastUs: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-time-travel-'));
  path = join(dir, 'rich.jsonl');
  const sim = richSimulation(11, (h) => createFileEventLogSync(path, h, { durable: false }));
  await sim.kernel.log.close();
  lastUs = sim.state.lastEventAt;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a view shows, as plain data. */
function shown(v: FoldView, atUs: number) {
  const state = v.state;
  return {
    digest: stateDigest(state),
    events: v.events,
    summary: queueSummaries(state, queueFigures(state, v.stats, v.insight, atUs, { includeIdle: true }), undefined, timeFormatter('virtual')),
    counters: state.queues.map((q) => {
      const c = v.counters.of(q.index);
      return [c.attempts, c.retries, c.recent(atUs)];
    }),
    history: Array.from({ length: state.tasks.count }, (_, id) => v.history.lastAttempt(id)),
    waits: Array.from({ length: state.tasks.count }, (_, id) => [v.waits.waitedUs(id), v.waits.longestWaitUs(id)]),
    failures: v.failures.totals(null),
    markers: v.markers.markers,
  };
}

/** `pushq replay --at`'s way: a fold from the start, stopped after `atUs`. */
function foldTo(atUs: number): FoldView {
  const models = newReadModels();
  const { fold } = foldLogFile(path, projectionsOf(models), { until: atUs });
  return { state: fold.state, ...models, events: fold.events };
}

describe('LogIndex', () => {
  it('at any instant gives the state and read models of a fold from the start', () => {
    const { index } = LogIndex.fromFile(path, { checkpointEvery: 13 });
    expect(index.checkpointCount).toBeGreaterThan(20);
    expect(index.firstUs).toBe(0);
    expect(index.lastUs).toBe(lastUs);
    const instants = [0, 1, 499_999, 500_000, 1_500_000, 2_010_000, 3_000_001, Math.floor(lastUs / 3), Math.floor(lastUs / 2), lastUs - 1, lastUs];
    for (let i = 0; i < 12; i++) instants.push(Math.floor(((i * 7919) % 1000) / 1000 * lastUs));
    for (const at of instants) {
      const expected = shown(foldTo(at), at);
      expect(shown(index.at(at), at), `at ${at}`).toEqual(expected);
    }
    // In any order, and again (the restored instants kept are not changed by reads).
    for (const at of [...instants].reverse()) expect(shown(index.at(at), at).digest, `again at ${at}`).toBe(stateDigest(foldTo(at).state));
  });

  it('a view recycled for another instant (its objects refilled in place) holds nothing of the instant it showed', () => {
    const { index } = LogIndex.fromFile(path, { checkpointEvery: 13 });
    // Backwards and across the log, so each answer restores a checkpoint (none folds on) and,
    // once three instants are kept, refills the oldest: from a later, bigger state to an earlier
    // one, and the other way round.
    const instants = [lastUs - 1, Math.floor(lastUs / 2), 1_500_000, 1, Math.floor((lastUs * 3) / 4), 499_999, Math.floor(lastUs / 3), 0, 2_010_000, lastUs - 2];
    const states: object[] = [];
    for (const at of instants) {
      const view = index.at(at);
      states.push(view.state);
      expect(shown(view, at), `at ${at}`).toEqual(shown(foldTo(at), at));
    }
    // The fourth answer refilled the first's objects, the fifth the second's.
    expect(states[3]).toBe(states[0]);
    expect(states[4]).toBe(states[1]);
  });

  it('a recycled view does not write over the kept events: a log whose configuration changes (a reload) answers every instant, in any order, as a fold from the start', async () => {
    // A view's state holds the ConfigApplied events' own config and settings objects (the kept
    // events, not copies). Refilling that view for another instant wrote the checkpoint's
    // configuration into them: every later fold read the wrong configuration (wrong figures, or
    // "dispatch ... without a token").
    const reloaded = join(dir, 'reloaded.jsonl');
    const first = fileConfig(pushQueue('q', 2, { bucket_size: 1, max_concurrent_requests: 1 }));
    const second = fileConfig(pushQueue('q', 50, { bucket_size: 20, max_concurrent_requests: 10, retry: { task_retry_limit: 1 } }), pushQueue('extra', 5));
    const sim = createSimulation({ config: first, seed: 4, log: (h) => createFileEventLogSync(reloaded, h, { durable: false }), worker: ({ random }) => ({ status: random() < 0.3 ? 500 : 200, latencyMs: 30 }) });
    sim.addWorkload({ queue: 'q', count: 60 });
    sim.schedule(3, (s) => s.kernel.applyConfig(second, s.state.settings));
    sim.schedule(4, (s) => s.kernel.applyConfig(first, s.state.settings));
    sim.runUntilIdle({ maxSeconds: 600 });
    await sim.kernel.log.close();
    const end = sim.state.lastEventAt;
    const fromStart = (at: number): FoldView => {
      const models = newReadModels();
      const { fold } = foldLogFile(reloaded, projectionsOf(models), { until: at });
      return { state: fold.state, ...models, events: fold.events };
    };
    const { index } = LogIndex.fromFile(reloaded, { checkpointEvery: 5 });
    // Backwards and across the reloads, so views are refilled (not folded on) for other instants.
    const instants = [end - 1, 3_500_000, 1_000_000, 4_500_000, 2_000_000, 3_000_000, 500_000, 4_000_000, end - 2, 2_500_000, 3_999_999, 100_000];
    for (const at of [...instants, ...instants]) expect(shown(index.at(at), at), `at ${at}`).toEqual(shown(fromStart(at), at));
    for (const at of instants) {
      const collector = new TaskStoryCollector('task30', 'q');
      foldLogFile(reloaded, [collector], { until: at });
      if (collector.stories.length > 0) expect(index.story('q', 'task30', at).story, `story at ${at}`).toEqual(collector.stories.at(-1));
    }
  });

  it('tells a task\'s story at an instant as the full fold does (from the checkpoint before the task was added)', () => {
    const { index } = LogIndex.fromFile(path, { checkpointEvery: 13 });
    for (const [queue, name] of [['mail', 'welcome-1'], ['default', 'own-retry'], ['default', 'deleted-in-flight'], ['default', 'later'], ['bulk', 'task40']] as const) {
      for (const at of [2_500_000, lastUs]) {
        const collector = new TaskStoryCollector(name, queue);
        foldLogFile(path, [collector], { until: at });
        const expected = collector.stories.at(-1);
        if (expected === undefined) {
          expect(() => index.story(queue, name, at), `${name} at ${at}`).toThrow(/not found/);
          continue;
        }
        const told = index.story(queue, name, at);
        expect(told.story, `${name} at ${at}`).toEqual(expected);
        expect(told.sameName).toBe(collector.stories.length);
        expect(told.eventsRead).toBeLessThanOrEqual(index.at(at).events);
      }
    }
  });

  it('keeps old tasks once: a checkpoint stores only the pages that changed since the one before', async () => {
    const big = join(dir, 'big.jsonl');
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 500, { bucket_size: 500, max_concurrent_requests: 1000 })),
      seed: 2,
      log: (h) => createFileEventLogSync(big, h, { durable: false }),
      worker: () => ({ status: 200, latencyMs: 40 }),
    });
    sim.addWorkload({ queue: 'q', count: 40_000, ratePerSecond: 500 });
    sim.runUntilIdle();
    await sim.kernel.log.close();
    const { index } = LogIndex.fromFile(big, { checkpointEvery: 8_000 });
    const t = index.end().state.tasks;
    const columns = [t.state, t.queue, t.eta, t.addedAt, t.firstAttemptAt, t.endedAt, t.dispatchCount, t.executionCount, t.lastStatus, t.endReason, t.size, t.attemptOpen, t.retryReason];
    const table = columns.reduce((n, c) => n + c.byteLength, 0);
    expect(index.checkpointCount).toBeGreaterThan(10);
    // Copied whole, the task table alone would take a table per checkpoint; shared, far less.
    expect(index.checkpointBytes).toBeLessThan((index.checkpointCount * table) / 3);
    // And the copies still restore the right states.
    for (const at of [10_000_000, 40_000_000, 70_000_000]) {
      const { fold } = foldLogFile(big, [], { until: at });
      expect(stateDigest(index.at(at).state), `at ${at}`).toBe(stateDigest(fold.state));
    }
  });

  it('checkpoints deferred: the end at once, any instant before, during and after the background indexing as a fold from the start', async () => {
    const { index } = LogIndex.fromFile(path, { checkpointEvery: 13, deferCheckpoints: true });
    expect(index.indexed).toBe(false);
    expect(index.checkpointCount).toBe(1);
    expect(shown(index.end(), lastUs)).toEqual(shown(foldTo(lastUs), lastUs));
    const instants = [0, 1_500_000, Math.floor(lastUs / 2), 2_010_000, lastUs - 1];
    // Before any checkpoint but the first: folded from the start of the kept events.
    for (const at of instants) expect(shown(index.at(at), at), `before, at ${at}`).toEqual(shown(foldTo(at), at));
    // During: answers between slices, from whichever checkpoints exist by then.
    const progress: number[] = [];
    let asked = 0;
    const done = index.indexInBackground((folded) => {
      progress.push(folded);
      const at = instants[asked++ % instants.length] as number;
      expect(shown(index.at(at), at), `during, at ${at}`).toEqual(shown(foldTo(at), at));
    });
    await done;
    expect(index.indexed).toBe(true);
    expect(progress.at(-1)).toBe(index.events);
    expect(index.checkpointCount).toBe(LogIndex.fromFile(path, { checkpointEvery: 13 }).index.checkpointCount);
    for (const at of [...instants, lastUs]) expect(shown(index.at(at), at), `after, at ${at}`).toEqual(shown(foldTo(at), at));
    // The story, told from the checkpoints taken in the background.
    const collector = new TaskStoryCollector('own-retry', 'default');
    foldLogFile(path, [collector], { until: lastUs });
    expect(index.story('default', 'own-retry', lastUs).story).toEqual(collector.stories.at(-1));
  });

  it('checkpoints deferred on a big log: the indexing runs in slices, and the copies are the ones taken at once', async () => {
    const big = join(dir, 'big-deferred.jsonl');
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 500, { bucket_size: 500, max_concurrent_requests: 1000 })),
      seed: 3,
      log: (h) => createFileEventLogSync(big, h, { durable: false }),
      worker: ({ random }) => ({ status: random() < 0.2 ? 503 : 200, latencyMs: 40 }),
    });
    sim.addWorkload({ queue: 'q', count: 20_000, ratePerSecond: 500 });
    sim.runUntilIdle();
    await sim.kernel.log.close();
    const atOnce = LogIndex.fromFile(big, { checkpointEvery: 4_096 }).index;
    const deferred = LogIndex.fromFile(big, { checkpointEvery: 4_096, deferCheckpoints: true }).index;
    let slices = 0;
    let partial = 0;
    await deferred.indexInBackground((folded, kept) => {
      slices++;
      if (folded < kept) partial++;
      // Asked between slices, with only some checkpoints taken: the same answer.
      const at = ((slices * 7_919_000) % 40_000_000) + 1;
      expect(stateDigest(deferred.at(at).state), `slice ${slices}, at ${at}`).toBe(stateDigest(atOnce.at(at).state));
    });
    expect(partial).toBeGreaterThan(0);
    // While the page is being served (busy), no slice runs: the index waits for a quiet moment.
    const waiting = LogIndex.fromFile(big, { checkpointEvery: 4_096, deferCheckpoints: true }).index;
    let busy = true;
    let slicesWhileBusy = 0;
    const run = waiting.indexInBackground(() => (busy ? slicesWhileBusy++ : undefined), undefined, () => busy);
    await new Promise((r) => setTimeout(r, 60));
    expect(waiting.checkpointCount).toBe(1);
    busy = false;
    await run;
    expect(slicesWhileBusy).toBe(0);
    expect(waiting.indexed).toBe(true);
    // Once indexed, instants are restored ahead of the user's first moves, which then refill them.
    const quiet = LogIndex.fromFile(big, { checkpointEvery: 4_096, deferCheckpoints: true }).index;
    expect(quiet.instantsKept).toBe(0);
    await quiet.indexInBackground();
    expect(quiet.instantsKept).toBe(3);
    for (const at of [12_000_000, 31_000_000]) expect(stateDigest(quiet.at(at).state), `at ${at}`).toBe(stateDigest(atOnce.at(at).state));
    expect(deferred.checkpointCount).toBe(atOnce.checkpointCount);
    expect(deferred.checkpointBytes).toBe(atOnce.checkpointBytes);
    for (const at of [5_000_000, 20_000_000, 39_000_000]) expect(stateDigest(deferred.at(at).state), `at ${at}`).toBe(stateDigest(atOnce.at(at).state));
    // Read on two cores, the events are kept as the reader's chunks came (KEPT_LOG_EVENTS each),
    // and checkpoints (every 3,000 events here) fall inside them: the same states at any instant.
    const read = (await LogIndex.readFile(big, { checkpointEvery: 3_000, deferCheckpoints: true })).index;
    expect(read.events).toBeGreaterThan(3 * KEPT_LOG_EVENTS);
    await read.indexInBackground();
    for (const at of [2_000_000, 17_000_000, 17_100_000, 30_000_000, 39_000_000]) expect(stateDigest(read.at(at).state), `at ${at}`).toBe(stateDigest(atOnce.at(at).state));
  });

  it('read on two cores (readFile), the index is the one read on one (fromFile), deferred or not', async () => {
    for (const deferCheckpoints of [false, true]) {
      const one = LogIndex.fromFile(path, { checkpointEvery: 13, deferCheckpoints });
      const two = await LogIndex.readFile(path, { checkpointEvery: 13, deferCheckpoints });
      expect(two.recovered).toEqual(one.recovered);
      expect([two.index.events, two.index.firstUs, two.index.lastUs, two.index.position]).toEqual([one.index.events, one.index.firstUs, one.index.lastUs, one.index.position]);
      expect(shown(two.index.end(), lastUs)).toEqual(shown(one.index.end(), lastUs));
      await two.index.indexInBackground();
      await one.index.indexInBackground();
      expect(two.index.checkpointCount).toBe(one.index.checkpointCount);
      for (const at of [1, 1_500_000, Math.floor(lastUs / 2), lastUs - 1]) expect(shown(two.index.at(at), at), `at ${at}`).toEqual(shown(foldTo(at), at));
    }
  });

  it('a growing log: read again from where it stopped, the index is the index of the whole', async () => {
    const grown = join(dir, 'grown.jsonl');
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 20, { retry: { task_retry_limit: 3, min_backoff_seconds: 0.1 } })),
      seed: 5,
      log: (h) => createFileEventLogSync(grown, h, { durable: false }),
      worker: ({ random }) => ({ status: random() < 0.3 ? 500 : 200, latencyMs: 30 }),
    });
    sim.addWorkload({ queue: 'q', count: 120, ratePerSecond: 30 });
    sim.runUntil(2);
    await sim.kernel.log.flush();
    const { index } = LogIndex.fromFile(grown, { checkpointEvery: 29 });
    const early = index.events;
    sim.runUntilIdle();
    await sim.kernel.log.close();
    index.extendFile(grown);
    expect(index.events).toBeGreaterThan(early);
    const whole = LogIndex.fromFile(grown, { checkpointEvery: 29 }).index;
    expect(index.events).toBe(whole.events);
    for (const at of [1_000_000, 2_500_000, sim.state.lastEventAt]) expect(stateDigest(index.at(at).state)).toBe(stateDigest(whole.at(at).state));
  });

  it('a view read at an instant pushq was not running, then moved past the start (ServiceStarted), is the fold from the start', async () => {
    // Reading a view's figures at an instant advanced its readiness tracker to it. A read in the
    // span between the last event before a stop and the ServiceStarted, folded on past the start,
    // counted the span from the read, not from the stop, under the cause before it ("tokens" for
    // what was "not_running"): the page's figures at a restart depended on where the cursor had been.
    let log: MemoryEventLog | undefined;
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)), seed: 8, log: (h) => (log = new MemoryEventLog(h)), worker: () => ({ status: 200, latencyMs: 30 }) });
    sim.addWorkload({ queue: 'q', count: 40 }); // held by tokens: ready tasks wait throughout
    sim.schedule(2.5, (s) => s.kernel.markStarted());
    sim.runUntilIdle({ maxSeconds: 600 });
    const memory = log as unknown as MemoryEventLog;
    const started = memory.toArray().find((e) => e.type === 'ServiceStarted');
    if (started?.type !== 'ServiceStarted') throw new Error('no ServiceStarted');
    const { t, stoppedAfter } = started;
    expect(t - stoppedAfter).toBeGreaterThan(2);
    const fromStart = (at: number): FoldView => {
      const models = newReadModels();
      const f = fold(memory, projectionsOf(models), { until: at });
      return { state: f.state, ...models, events: f.events };
    };
    const index = new LogIndex(memory.header, 1_000_000); // one checkpoint, before the first event: views fold on
    await index.extendInSlices(memory);
    const inside = stoppedAfter + Math.floor((t - stoppedAfter) / 2);
    for (const at of [stoppedAfter, inside, t - 1, t, t + 1, Math.floor((t + sim.state.lastEventAt) / 2)]) {
      const view = shown(index.at(at), at);
      expect(view, `at ${at}`).toEqual(shown(fromStart(at), at));
      if (at === t) expect(view.summary.q?.stats?.wait_by_cause_task_seconds.not_running, 'the span counted as not running').toBeGreaterThan(1);
    }
  });

  it('a growing memory log (pushq serve --memory), taken a piece at a time from where the last read stopped, across reloads and a restart mark: every instant as a fold from the start', async () => {
    // The live source takes what a memory log gained from the mark its last read ended at
    // (MemoryEventLog.readFrom), not from the first event; this is that index, against the whole.
    const first = fileConfig(pushQueue('q', 20, { retry: { task_retry_limit: 3, min_backoff_seconds: 0.1 } }));
    const second = fileConfig(pushQueue('q', 50, { bucket_size: 20, max_concurrent_requests: 10, retry: { task_retry_limit: 1 } }), pushQueue('extra', 5));
    let log: MemoryEventLog | undefined;
    const sim = createSimulation({
      config: first,
      seed: 7,
      log: (h) => (log = new MemoryEventLog(h)),
      worker: ({ random }) => ({ status: random() < 0.3 ? 500 : 200, latencyMs: 30 }),
    });
    sim.addWorkload({ queue: 'q', count: 150, ratePerSecond: 30 });
    sim.schedule(1.5, (s) => s.kernel.applyConfig(second, s.state.settings));
    sim.schedule(2.5, (s) => s.kernel.markStarted());
    sim.schedule(3.5, (s) => s.kernel.applyConfig(first, s.state.settings));
    sim.schedule(3.6, (s) => s.addWorkload({ queue: 'q', count: 40, ratePerSecond: 40 }));
    const memory = log as unknown as MemoryEventLog;
    const index = new LogIndex(memory.header, 17);
    let mark = LOG_START;
    for (const until of [0.5, 1, 1.5, 2.2, 2.5, 3, 3.55, 4, 5]) {
      sim.runUntil(until);
      const { events, end } = memory.readFrom(mark);
      await index.extendInSlices(events);
      mark = end;
      expect(index.events).toBe(memory.length);
    }
    sim.runUntilIdle({ maxSeconds: 600 });
    const { events, end } = memory.readFrom(mark);
    await index.extendInSlices(events);
    expect(end.events).toBe(memory.length);
    expect(index.events).toBe(memory.length);
    const types = new Set(memory.toArray().map((e) => e.type));
    expect(types.has('ServiceStarted')).toBe(true);
    expect(memory.toArray().filter((e) => e.type === 'ConfigApplied').length).toBeGreaterThanOrEqual(3); // the start and two reloads
    const lastUs = sim.state.lastEventAt;
    const fromStart = (at: number): FoldView => {
      const models = newReadModels();
      const f = fold(memory, projectionsOf(models), { until: at });
      return { state: f.state, ...models, events: f.events };
    };
    const instants = [0, 1_000_000, 1_500_000, 1_500_001, 2_499_999, 2_500_000, 2_500_001, 3_000_000, 3_500_000, 3_600_000, lastUs - 1, lastUs];
    for (let i = 0; i < 16; i++) instants.push(Math.floor((((i * 7919) % 1000) / 1000) * lastUs));
    for (const at of [...instants, ...[...instants].reverse()]) expect(shown(index.at(at), at), `at ${at}`).toEqual(shown(fromStart(at), at));
  });

  it('a growing log keeps the instants shown: a live page\'s next move folds on from one (or refills it), and each is still the whole log\'s', async () => {
    const grown = join(dir, 'grown-kept.jsonl');
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 20, { retry: { task_retry_limit: 3, min_backoff_seconds: 0.1 } })),
      seed: 6,
      log: (h) => createFileEventLogSync(grown, h, { durable: false }),
      worker: ({ random }) => ({ status: random() < 0.3 ? 500 : 200, latencyMs: 30 }),
    });
    sim.addWorkload({ queue: 'q', count: 120, ratePerSecond: 30 });
    sim.runUntil(3);
    await sim.kernel.log.flush();
    const { index } = LogIndex.fromFile(grown, { checkpointEvery: 29 });
    const shownBefore = [500_000, 1_200_000, 2_000_000];
    for (const at of shownBefore) index.at(at);
    expect(index.instantsKept).toBe(3);
    const digests = shownBefore.map((at) => stateDigest(index.at(at).state));
    sim.runUntilIdle();
    await sim.kernel.log.close();
    index.extendFile(grown);
    // The events added are all later than the instants kept: those hold what they held.
    expect(index.instantsKept).toBe(3);
    const whole = LogIndex.fromFile(grown, { checkpointEvery: 29 }).index;
    expect(shownBefore.map((at) => stateDigest(index.at(at).state))).toEqual(digests);
    // Moved on from a kept instant, past the old end, and back: the whole log's figures.
    for (const at of [2_100_000, 3_500_000, 1_200_000, Math.floor(sim.state.lastEventAt / 2)]) {
      expect(shown(index.at(at), at), `at ${at}`).toEqual(shown(whole.at(at), at));
    }
  });
});
