/**
 * A test reset (`POST /pushq/reset`, Kernel.resetQueue) leaves each queue's token bucket full, as
 * a freshly deployed queue's, so the tokens one test spent are not missing in the next. It used
 * to purge and free the names only: a burst after a reset went out at the rate, from whatever the
 * previous test had left in the bucket, and timing depended on test order.
 *
 * It is one logged fact (QueuePurged with `refillBucket`), so replay and a restart from the log
 * rebuild the full bucket; and a reset an earlier pushq logged without the flag still replays to
 * the bucket it left (as it was), since later dispatches in that log were decided against it.
 */
import { describe, expect, it } from 'vitest';
import { attemptDurationUs, RESET_ERROR } from '../../src/core/attempt.js';
import type { EngineEvent } from '../../src/core/events.js';
import { refill } from '../../src/core/token-bucket.js';
import { VirtualDriver } from '../../src/engine/virtual-driver.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { replay, stateLines } from '../../src/log/replay.js';
import { fold } from '../../src/projections/fold.js';
import { InsightProjection } from '../../src/projections/insight.js';
import { createSimulation, type Simulation } from '../../src/simulate/simulation.js';
import { checkConcurrency } from '../../src/testing/invariants.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

// 1 token a second, 2 in the bucket: a drained bucket is easy to tell from a full one.
const CONFIG = fileConfig(pushQueue('q', 1, { bucket_size: 2 }));
const worker = { latency: { distribution: 'constant' as const, valueUs: 1000 } };

const dispatchTimes = (events: readonly EngineEvent[], from = 0): number[] =>
  events.filter((e) => e.type === 'AttemptDispatched' && e.t >= from).map((e) => e.t / 1e6);

/** A first test spends both tokens at 0 s; at 0.5 s `between` runs (a reset, or nothing), then a second test adds three tasks. */
function twoTests(between: (sim: Simulation) => void): Simulation {
  const sim = createSimulation({ config: CONFIG, seed: 1, worker });
  sim.addTasks([{ queue: 'q' }, { queue: 'q' }]);
  sim.schedule(0.5, (s) => {
    between(s);
    s.addTasks([{ queue: 'q' }, { queue: 'q' }, { queue: 'q' }]);
  });
  sim.runUntilIdle();
  return sim;
}

describe('a test reset fills every token bucket', () => {
  it('a burst after a reset goes out as from a full bucket: two at once, then one a second', () => {
    const sim = twoTests((s) => {
      for (const q of s.state.queues) s.kernel.resetQueue(q.name);
    });
    expect(dispatchTimes(sim.events)).toEqual([0, 0, 0.5, 0.5, 1.5]);
    // Without a reset the second test meets the half token the first left: the bucket is no freebie.
    expect(dispatchTimes(twoTests(() => {}).events)).toEqual([0, 0, 1, 2, 3]);
  });

  it('is one logged fact per queue: QueuePurged with forgetNames and refillBucket', () => {
    const sim = twoTests((s) => s.kernel.resetQueue('q'));
    expect(sim.events.filter((e) => e.type === 'QueuePurged')).toEqual([{ type: 'QueuePurged', t: 500_000, queue: 'q', forgetNames: true, refillBucket: true }]);
  });

  it('replay rebuilds the full bucket, and a restart from the log sends the next burst as the live service would', () => {
    const live = twoTests((s) => s.kernel.resetQueue('q'));
    expect(stateLines(replay(live.events))).toEqual(stateLines(live.state));

    // Restart right after the reset: the state is folded from the log, nothing else is carried over.
    const upToReset = live.events.slice(0, live.events.findIndex((e) => e.type === 'QueuePurged') + 1);
    expect(upToReset.at(-1)).toMatchObject({ type: 'QueuePurged', refillBucket: true });
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 1, clock: 'wall', configHash: 'x' });
    const restarted = new VirtualDriver({ state: replay(upToReset), log, worker: { answer: (_r, out) => ((out.status = 200), (out.latencyUs = 1000)) }, now: 500_000 });
    restarted.kernel.addTasks([{ queue: 'q' }, { queue: 'q' }, { queue: 'q' }]);
    restarted.runUntilIdle();
    expect(dispatchTimes(log.toArray())).toEqual([0.5, 0.5, 1.5]);
  });

  it('a reset an earlier pushq logged (forgetNames without refillBucket) replays to the bucket it left', () => {
    // What POST /pushq/reset logged before: a purge that frees the names and leaves the tokens.
    const old = twoTests((s) => s.kernel.purgeQueue('q', true));
    const reset = old.events.find((e) => e.type === 'QueuePurged');
    expect(reset).toEqual({ type: 'QueuePurged', t: 500_000, queue: 'q', forgetNames: true });
    expect(dispatchTimes(old.events)).toEqual([0, 0, 1, 2, 3]);
    // Its later dispatches were decided against the half-token bucket, and replay agrees with them.
    expect(stateLines(replay(old.events))).toEqual(stateLines(old.state));
    const bucket = { ...replay(old.events.filter((e) => e.t <= 500_000)).queueByName.get('q')!.bucket! };
    refill(bucket, 500_000);
    expect(bucket.credit).toBe(bucket.periodUs / 2);
  });

  it("the series' tokens gauge shows the full bucket from the reset on, live and folded from the log (the dashboard's figures)", () => {
    const sim = createSimulation({ config: CONFIG, seed: 1, worker, seriesResolutionSeconds: 0.1 });
    sim.addTasks([{ queue: 'q' }, { queue: 'q' }]);
    sim.schedule(0.55, (s) => s.kernel.resetQueue('q'));
    sim.runUntil(1.2);
    const live = sim.series().queues['q']!.tokens;
    // Drained at 0 s, full from the interval of the reset; it would read 0 until 1 s, then 1.
    expect(live).toEqual([0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2]);
    const insight = new InsightProjection({ startUs: 0, resolutionUs: 100_000 });
    const { state } = fold(sim.events, [insight]);
    expect(insight.seriesData(state, 1_200_000).queues['q']!.tokens).toEqual(live);
  });

  it('ends an attempt in flight in its own batch, freeing its slot: the answer that comes later is dropped (docs/serve.md, Test hooks)', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10, { max_concurrent_requests: 1 })), seed: 1, worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } } });
    sim.addTasks([{ queue: 'q' }]);
    sim.schedule(0.1, (s) => {
      s.kernel.resetQueue('q');
      s.addTasks([{ queue: 'q' }]);
    });
    sim.runUntilIdle();
    const orphaned = sim.events.filter((e) => e.type === 'AttemptOrphaned');
    expect(orphaned).toEqual([{ type: 'AttemptOrphaned', t: 100_000, id: 0, status: null, error: RESET_ERROR, latencyUs: 0 }]);
    // Right after the reset's QueuePurged, before anything else: one fact with it.
    const purged = sim.events.findIndex((e) => e.type === 'QueuePurged');
    expect(sim.events[purged + 1]).toBe(orphaned[0]);
    // Its ending is no duration (it was cut short): statistics do not count a 0 s attempt.
    expect(attemptDurationUs(orphaned[0] as { latencyUs: number; error?: string })).toBeNull();
    // The slot is free at once; the worker's answer at 1 s settles nothing (the second task's own does).
    expect(dispatchTimes(sim.events)).toEqual([0, 0.1]);
    expect(sim.events.filter((e) => e.t === 1_000_000)).toEqual([]);
    expect(checkConcurrency(sim.events)).toEqual([]);
    expect(stateLines(replay(sim.events))).toEqual(stateLines(sim.state));
  });

  it('leaves a paused queue paused and a rate-0 queue without a bucket', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 1, { bucket_size: 2 }), pushQueue('stopped', 0)), seed: 1, worker });
    sim.kernel.pauseQueue('q');
    for (const q of sim.state.queues) sim.kernel.resetQueue(q.name);
    expect(sim.state.queueByName.get('q')!.paused).toBe(true);
    expect(sim.state.queueByName.get('stopped')!.bucket).toBeNull();
    expect(stateLines(replay(sim.events))).toEqual(stateLines(sim.state));
  });
});
