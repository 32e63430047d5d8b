/**
 * Law: for every queue and every window [a, a+T), non-forced dispatches ≤ bucket_size + rate·T
 * (DESIGN.md "Queue actors"; reference §5, S25, S26), exactly: the checker works in BigInt over
 * the queue's `rate_exact`, over every window between two dispatches and over windows of several
 * fixed lengths starting at each dispatch. Configs, workloads, workers and operator commands are
 * generated (src/testing); the last tests prove the checker catches a broken run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskAdded } from '../src/core/events.js';
import { refill } from '../src/core/token-bucket.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { simRateArbitrary } from '../src/testing/arbitraries/sim-config.js';
import { checkRateLaw } from '../src/testing/invariants.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { RUNS, copyEvents, expectLawHolds } from './helpers/laws.js';

describe('rate law', () => {
  it('holds for generated configs, workloads, workers and commands', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 80, reloads: true }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        expectLawHolds(checkRateLaw(events), events);
      }),
      RUNS,
    );
  });

  it('holds when the bucket binds: a backlog far above bucket_size, fast workers, no faults', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 1, maxTasks: 150, commands: false, errorRateMax: 0.1, timeoutRateMax: 0 }), (scenario) => {
        const events = runScenario(scenario).sim.events;
        expectLawHolds(checkRateLaw(events), events);
      }),
      { numRuns: 40 },
    );
  });

  it('a reload to another rate or bucket carries the credit over exactly, rounded down: never more than was earned, less by under one unit', () => {
    // The law above is checked per configuration epoch, so a reload that created credit would
    // pass it: this says what crosses the reload. Credit counts 1/period_us of a token (token-bucket.ts).
    const rate = simRateArbitrary().map((r) => r.exact!);
    fc.assert(
      fc.property(rate, rate, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 10_000_000 }), (r1, r2, b1, b2, tasks, reloadAtUs) => {
        const queue = (r: typeof r1, b: number) => fileConfig(pushQueue('q', r.tokens / (r.period_us / 1e6), { rate_exact: r, bucket_size: b }));
        const sim = createSimulation({ config: queue(r1, b1), worker: () => ({ status: 200, latencyMs: 1 }) });
        if (tasks > 0) sim.addTasks(Array.from({ length: tasks }, () => ({ queue: 'q' })));
        let seen: { before: bigint; after: bigint; capped: boolean } | null = null;
        sim.schedule(reloadAtUs / 1e6, (s) => {
          const q = s.state.queueByName.get('q')!;
          const earned = { ...q.bucket! };
          refill(earned, s.kernel.now);
          s.kernel.applyConfig(queue(r2, b2), s.state.settings);
          const after = q.bucket!;
          expect(after.refilledAt).toBe(s.kernel.now);
          seen = { before: BigInt(earned.credit) * BigInt(r2.period_us), after: BigInt(after.credit) * BigInt(r1.period_us), capped: after.credit === after.capacityCredit };
        });
        sim.runUntilIdle();
        const { before, after, capped } = seen!;
        // Both sides in units of 1/(period₁·period₂) of a token.
        expect(after <= before).toBe(true);
        if (!capped) expect(after + BigInt(r1.period_us) > before).toBe(true);
      }),
      RUNS,
    );
  });

  it('S26: rate 20/s, bucket 40, 100 ready tasks: 40 at t=0, then one every 50 ms', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 20, { bucket_size: 40 })), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
    sim.addWorkload({ queue: 'q', count: 100 });
    sim.runUntilIdle();
    const times = sim.events.flatMap((e) => (e.type === 'AttemptDispatched' ? [e.t] : []));
    expect(times.slice(0, 40)).toEqual(Array(40).fill(0));
    expect(times.slice(40)).toEqual(Array.from({ length: 60 }, (_, i) => (i + 1) * 50_000));
    expect(checkRateLaw(sim.events)).toEqual([]);
  });

  describe('the checker can fail', () => {
    const run = () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 10 / 60, { bucket_size: 3, rate_exact: { tokens: 1, period_us: 6_000_000 } })), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
      sim.addWorkload({ queue: 'q', count: 6 });
      sim.runUntilIdle();
      return sim.events;
    };

    it('accepts the real run of a 10/m queue', () => {
      expect(checkRateLaw(run())).toEqual([]);
    });

    it('catches a fourth dispatch moved 1 µs before the 10/m bucket has refilled a token', () => {
      const events = copyEvents(run());
      const dispatches = events.filter((e) => e.type === 'AttemptDispatched');
      expect(dispatches.map((e) => e.t)).toEqual([0, 0, 0, 6_000_000, 12_000_000, 18_000_000]);
      dispatches[3]!.t = 5_999_999;
      const violations = checkRateLaw(events);
      expect(violations.length).toBeGreaterThan(0);
      expect(violations[0]!.law).toBe('rate');
      expect(violations[0]!.index).toBe(events.indexOf(dispatches[3]!));
    });

    it('judges windows across a reload that keeps the bucket: a reload is no free burst', () => {
      // The same file deployed again at 1 s: the engine keeps the queue's tokens (none left).
      const config = fileConfig(pushQueue('q', 10 / 60, { bucket_size: 3, rate_exact: { tokens: 1, period_us: 6_000_000 } }));
      const sim = createSimulation({ config, worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
      sim.addWorkload({ queue: 'q', count: 6 });
      sim.schedule(1, (s) => s.kernel.applyConfig(config, s.state.settings));
      sim.runUntilIdle();
      const events = copyEvents(sim.events);
      const dispatches = events.filter((e) => e.type === 'AttemptDispatched');
      expect(dispatches.map((e) => e.t)).toEqual([0, 0, 0, 6_000_000, 12_000_000, 18_000_000]);
      expect(events.filter((e) => e.type === 'ConfigApplied').map((e) => e.t)).toEqual([0, 1_000_000]);
      expect(checkRateLaw(events)).toEqual([]);
      // An engine that refilled the bucket at the reload: a fourth dispatch 1 µs after it.
      dispatches[3]!.t = 1_000_001;
      const violations = checkRateLaw(events);
      expect(violations.map((v) => [v.law, v.index])).toEqual([['rate', events.indexOf(dispatches[3]!)]]);
      expect(violations[0]!.message).toBe('queue q: 4 dispatches in [0, 1000001] µs exceed bucket_size 3 + 1/6000000 per µs × 1000001 µs');
    });

    describe('a test reset that refills the bucket is a boundary, as a deploy of a new bucket', () => {
      // Bucket 3 at 10/m: the first test spends it at 0 s; a reset at 1 s fills it again, and the
      // second test's burst of 3 goes out at once (the engine's own run, not a tampered one).
      const config = fileConfig(pushQueue('q', 10 / 60, { bucket_size: 3, rate_exact: { tokens: 1, period_us: 6_000_000 } }));
      const reset = (refill: boolean) => {
        const sim = createSimulation({ config, worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
        sim.addWorkload({ queue: 'q', count: 3 });
        sim.schedule(1, (s) => {
          if (refill) s.kernel.resetQueue('q');
          else s.kernel.purgeQueue('q', true); // what a reset logged before refillBucket: the tokens stayed spent
          s.addWorkload({ queue: 'q', count: 4 });
        });
        sim.runUntilIdle();
        return copyEvents(sim.events);
      };

      it('accepts 3 dispatches at 0 s and 3 more right after the reset at 1 s', () => {
        const events = reset(true);
        expect(events.filter((e) => e.type === 'AttemptDispatched').map((e) => e.t)).toEqual([0, 0, 0, 1_000_000, 1_000_000, 1_000_000, 7_000_000]);
        expect(checkRateLaw(events)).toEqual([]);
      });

      it('still catches a violation after the reset: a fourth dispatch 1 µs before the new bucket has a token', () => {
        const events = reset(true);
        const dispatches = events.filter((e) => e.type === 'AttemptDispatched');
        dispatches[6]!.t = 6_999_999;
        expect(checkRateLaw(events).map((v) => [v.law, v.index])).toEqual([['rate', events.indexOf(dispatches[6]!)]]);
      });

      it('still catches one before it, and judges windows across a purge that left the bucket as it was', () => {
        const before = reset(true);
        const dispatches = before.filter((e) => e.type === 'AttemptDispatched');
        const added = before.find((e): e is TaskAdded => e.type === 'TaskAdded' && e.id === dispatches[2]!.id)!;
        // A fourth task of the first test, sent with the first three: one over the bucket before the reset.
        before.splice(before.indexOf(dispatches[2]!) + 1, 0, { ...added, id: 99 }, { type: 'AttemptDispatched', t: 0, id: 99 });
        expect(checkRateLaw(before).map((v) => v.law)).toEqual(['rate']);

        // The engine's run with the old reset: the burst waits for tokens, and the law holds across it.
        const old = reset(false);
        expect(old.filter((e) => e.type === 'AttemptDispatched').map((e) => e.t)).toEqual([0, 0, 0, 6_000_000, 12_000_000, 18_000_000, 24_000_000]);
        expect(checkRateLaw(old)).toEqual([]);
        // Had it sent the burst at once without logging a refill, the checker says so.
        for (const e of old) if (e.type === 'AttemptDispatched' && e.t > 0) e.t = 1_000_000;
        expect(checkRateLaw(old).map((v) => v.law)).toEqual(['rate']);
      });
    });

    it('catches any dispatch of a queue whose rate is 0', () => {
      const events = copyEvents(run());
      const applied = events[0]!;
      if (applied.type !== 'ConfigApplied') throw new Error('first event is not ConfigApplied');
      applied.config.queues[1]!.rate_exact = null;
      expect(checkRateLaw(events).map((v) => v.law)).toEqual(['rate']);
    });

    it('ignores force-runs, which take no token', () => {
      const events = copyEvents(run());
      for (const e of events) if (e.type === 'AttemptDispatched') e.t = 0;
      expect(checkRateLaw(events).length).toBeGreaterThan(0);
      for (const e of events) if (e.type === 'AttemptDispatched') e.forced = true;
      expect(checkRateLaw(events)).toEqual([]);
    });
  });
});
