/**
 * Law (issue "Experiments", common random numbers): every draw has its own stream, keyed by the
 * seed, its purpose and what it is about (src/engine/streams.ts). So two configurations of one
 * scenario that differ only in a queue's rate (or max_concurrent_requests, or bucket_size) see the
 * same arrivals, and attempt n of task i has the same outcome and latency in both: the same
 * (task, attempt) pairs fail. Without outages or age limits (whose effect depends on when an
 * attempt happens), the two runs make exactly the same attempts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/core/events.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';

type Outcome = string;

/** (task, attempt number) → how the attempt ended: status or failure reason, and latency. */
function attemptOutcomes(events: readonly EngineEvent[]): Map<string, Outcome> {
  const attempts = new Map<number, number>();
  const out = new Map<string, Outcome>();
  for (const e of events) {
    if (e.type === 'AttemptDispatched') attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
    else if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp') {
      const ok = e.type === 'AttemptSucceeded';
      out.set(`${e.id}#${attempts.get(e.id)}`, `${ok ? 'ok' : 'failed'} ${e.status ?? (e.type === 'AttemptSucceeded' ? '' : e.reason)} ${e.latencyUs}`);
    }
  }
  return out;
}

function arrivals(events: readonly EngineEvent[]): string[] {
  return events.filter((e) => e.type === 'TaskAdded').map((e) => `${e.id}@${e.t}`);
}

const setting = fc.record({
  rate: fc.integer({ min: 1, max: 200 }),
  bucket: fc.integer({ min: 1, max: 100 }),
  cap: fc.integer({ min: 1, max: 50 }),
});

describe('common random numbers', () => {
  it('two configs that differ only in rate, bucket or cap: the same arrivals, and the same (task, attempt) pairs fail, with the same latencies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        setting,
        setting,
        fc.double({ min: 0.05, max: 0.6, noNaN: true }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.constantFrom('poisson' as const, 'even' as const, null),
        (seed, a, b, errorRate, timeoutRate, arrival) => {
          const run = (s: typeof a) => {
            const sim = createSimulation({
              config: fileConfig(pushQueue('q', s.rate, { bucket_size: s.bucket, max_concurrent_requests: s.cap, retry: { task_retry_limit: 4, min_backoff_seconds: 0.1, max_backoff_seconds: 2 } })),
              seed,
              worker: { latency: { distribution: 'lognormal', p50Us: 20_000, p99Us: 400_000 }, errorRate, timeoutRate },
              targets: {},
            });
            sim.addWorkload(arrival === null ? { queue: 'q', count: 150 } : { queue: 'q', count: 150, ratePerSecond: 30, arrivals: arrival });
            sim.runUntilIdle();
            return sim.events;
          };
          const ea = run(a);
          const eb = run(b);
          expect(arrivals(eb)).toEqual(arrivals(ea));
          const oa = attemptOutcomes(ea);
          const ob = attemptOutcomes(eb);
          expect([...ob.keys()].sort()).toEqual([...oa.keys()].sort());
          for (const [key, outcome] of oa) expect(ob.get(key), key).toBe(outcome);
          // And the draws did decide something: some attempts failed.
          expect([...oa.values()].some((o) => o.startsWith('failed'))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a worker function draws the same random() for the same (task, attempt) whatever the rate', () => {
    const seen = (rate: number) => {
      const draws = new Map<string, number[]>();
      const sim = createSimulation({
        config: fileConfig(pushQueue('q', rate, { bucket_size: 5, retry: { task_retry_limit: 2 } })),
        seed: 9,
        worker: ({ request, random }) => {
          const d = [random(), random()];
          draws.set(`${request.id}#${request.retryCount + 1}`, d);
          return { status: (d[0] as number) < 0.3 ? 500 : 200, latencyMs: 10 };
        },
      });
      sim.addWorkload({ queue: 'q', count: 60 });
      sim.runUntilIdle();
      return draws;
    };
    const slow = seen(2);
    const fast = seen(100);
    expect([...fast.keys()].sort()).toEqual([...slow.keys()].sort());
    for (const [key, d] of slow) expect(fast.get(key), key).toEqual(d);
  });

  it('two workloads keep their own arrivals when one of them changes', () => {
    const times = (secondCount: number) => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 50), pushQueue('r', 50)), seed: 4 });
      sim.addWorkload({ queue: 'q', count: 40, ratePerSecond: 10, arrivals: 'poisson' });
      sim.addWorkload({ queue: 'r', count: secondCount, ratePerSecond: 10, arrivals: 'poisson' });
      sim.runUntilIdle();
      return sim.events.filter((e) => e.type === 'TaskAdded' && sim.state.queues[sim.state.tasks.queue[e.id] as number]?.name === 'q').map((e) => e.t);
    };
    expect(times(5)).toEqual(times(80));
  });
});
