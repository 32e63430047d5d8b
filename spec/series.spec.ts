/**
 * The series and wait figures against the laws (issue "Simulations that answer questions"):
 * counts sum to the totals; gauges are never negative; in_flight ≤ max_concurrent_requests;
 * dispatched per interval ≤ bucket + rate·Δ; ready-task-seconds by cause add up to the waits;
 * and hand-computed cases: App Engine's burst (1,000 tasks at 20/s, bucket 40) and its worked
 * example (0.3 s latency is held by tokens, 5 s by concurrency).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, type SeriesColumns } from '../src/projections/series-types.js';
import { createSimulation, type Simulation } from '../src/simulate/simulation.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

function burst(latencyUs: number, cap: number | undefined, resolutionSeconds?: number): Simulation {
  const sim = createSimulation({
    config: fileConfig(pushQueue('q', 20, { bucket_size: 40, ...(cap === undefined ? {} : { max_concurrent_requests: cap }) })),
    worker: { latency: { distribution: 'constant', valueUs: latencyUs } },
    ...(resolutionSeconds === undefined ? {} : { seriesResolutionSeconds: resolutionSeconds }),
  });
  sim.addWorkload({ queue: 'q', count: 1000 });
  sim.runUntilIdle();
  return sim;
}

describe('series: hand-computed cases', () => {
  it('1,000 tasks at once at 20/s, bucket 40, 1 ms latency: 59 or 60 dispatches in the first second, 20 in each later one, drained at 48 s', () => {
    const sim = burst(1_000, undefined, 1);
    const q = sim.series().queues['q']!;
    expect([59, 60]).toContain(q.dispatched[0]);
    const later = q.dispatched.slice(1);
    const full = later.slice(0, -1); // the last interval holds what is left
    expect(full.every((n) => n === 20)).toBe(true);
    expect(sum(q.dispatched)).toBe(1000);
    const figures = sim.stats().queues['q']!;
    expect(figures.drained_at_seconds).toBeCloseTo(48, 0);
    expect(figures.backlog_max).toBeGreaterThanOrEqual(900);
    expect(figures.bound).toMatchObject({ throughput_per_second: 20, binding: 'rate' });
  });

  it('backlog_max counts the backlog at the end of an instant: N tasks at once, bucket 40, gives N − 40 whatever the batches', () => {
    for (const n of [50, 100, 101, 150, 1000]) {
      const sim = createSimulation({
        config: fileConfig(pushQueue('q', 20, { bucket_size: 40 })),
        worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } },
      });
      sim.addWorkload({ queue: 'q', count: n });
      sim.runUntilIdle();
      const figures = sim.stats().queues['q']!;
      expect([n, figures.backlog_max, figures.backlog_max_at_seconds]).toEqual([n, n - 40, 0]);
    }
  });

  it('reading the figures in the middle of an instant does not change backlog_max', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 20, { bucket_size: 40 })), worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } } });
    sim.addTasks(Array.from({ length: 100 }, () => ({ queue: 'q' }))); // at 0 s: 40 go, 60 wait
    expect(sim.stats().queues['q']!.backlog_max).toBe(60); // as it stands
    sim.purgeQueue('q'); // still at 0 s: nothing waits once the instant is over
    sim.runUntilIdle();
    expect(sim.stats().queues['q']!.backlog_max).toBe(0);
  });

  it('a bucket of 0 never dispatches, and its bound says so: throughput 0, bucket_size binds, no drain bound', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5, { bucket_size: 0 })), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
    sim.addWorkload({ queue: 'q', count: 5 });
    sim.runUntilIdle();
    const figures = sim.stats().queues['q']!;
    expect([figures.attempts, figures.pending]).toEqual([0, 5]);
    expect(figures.bound).toMatchObject({ throughput_per_second: 0, binding: 'bucket_size', drain_lower_bound_seconds: null });
  });

  it("App Engine's worked example: at 0.3 s the queue is held by tokens, at 5 s by concurrency (cap 10); the bound says which term wins", () => {
    const fast = sim300();
    const w300 = fast.stats().queues['q']!;
    expect(w300.wait_by_cause_task_seconds.tokens).toBeGreaterThan(5 * w300.wait_by_cause_task_seconds.concurrency);
    expect(w300.bound).toMatchObject({ throughput_per_second: 20, binding: 'rate' });
    const slow = burst(5_000_000, 10);
    const w5 = slow.stats().queues['q']!;
    expect(w5.wait_by_cause_task_seconds.tokens).toBe(0);
    expect(w5.wait_by_cause_task_seconds.concurrency).toBeGreaterThan(0);
    expect(w5.bound).toMatchObject({ throughput_per_second: 2, binding: 'max_concurrent_requests' });
    // 1,000 tasks, 10 at a time, 5 s each: the queue drains at 500 s, the bound's own figure.
    expect(w5.drained_at_seconds).toBe(500);
    expect(w5.bound.drain_lower_bound_seconds).toBe(500);
  });

  it('a paused queue: its ready tasks wait under `paused`, exactly as long as the pause', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 100, { bucket_size: 100 })), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
    sim.pauseQueue('q');
    sim.addTasks([{ queue: 'q' }, { queue: 'q' }, { queue: 'q' }]);
    sim.schedule(10, (s) => s.resumeQueue('q'));
    sim.runUntilIdle();
    const f = sim.stats().queues['q']!;
    expect(f.wait_by_cause_task_seconds.paused).toBe(30); // 3 tasks × 10 s
    expect(f.wait_seconds.max).toBe(10);
  });

  it('a delayed task is not ready until its ETA: it waits only from then', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 1, { bucket_size: 1 })), worker: { latency: { distribution: 'constant', valueUs: 1000 } }, seriesResolutionSeconds: 1 });
    sim.addTasks([{ queue: 'q' }, { queue: 'q', countdownSeconds: 0.5 }]);
    sim.runUntilIdle();
    const f = sim.stats().queues['q']!;
    // The second is ready at 0.5 s and goes at 1 s (the next token): 0.5 s held by tokens.
    expect(f.wait_by_cause_task_seconds.tokens).toBeCloseTo(0.5, 6);
    const q = sim.series().queues['q']!;
    expect(q.delayed[0]).toBe(0); // at t = 1 s the second task is no longer delayed
  });

  it('automatic resolution: every row ends on the grid of resolution_seconds, the last one too, when the final halving leaves it alone', () => {
    for (const endMs of [1501, 1999, 2500, 3001]) {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)), worker: { latency: { distribution: 'constant', valueUs: 1000 } } });
      sim.addTasks([{ queue: 'q' }]);
      sim.runUntil(endMs / 1000);
      const series = sim.series();
      const stepUs = Math.round(series.resolution_seconds * 1e6);
      const t = series.queues['q']!.t_seconds.map((x) => Math.round(x * 1e6));
      expect(t.filter((x) => x % stepUs !== 0)).toEqual([]);
      // The last row is the interval the run ended in: [t − Δ, t) holds the end.
      const last = t[t.length - 1]!;
      expect(last - stepUs <= endMs * 1000 && endMs * 1000 <= last).toBe(true);
      expect(series.queues['q']!.dispatched.reduce((a, b) => a + b, 0)).toBe(1);
    }
  });
});

function sim300(): Simulation {
  return burst(300_000, 10);
}

describe('series: laws over generated runs', () => {
  it('counts sum to the totals; gauges are whole and never negative; in_flight ≤ cap; dispatched per interval ≤ bucket + rate·Δ; causes add up to the waits', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, commands: true }), fc.constantFrom(undefined, 60, 600), (scenario, resolution) => {
        const run = prepareScenario(scenario, resolution === undefined ? {} : { seriesResolutionSeconds: resolution });
        const sim = run.sim;
        sim.runUntilIdle({ maxSeconds: 86_400 });
        const series = sim.series();
        const stats = sim.stats();
        const Δ = series.resolution_seconds;
        const all = series.queues['*']!;
        for (const [name, cols] of Object.entries(series.queues)) {
          checkShape(cols);
          if (name === '*') continue;
          const totals = stats.queues[name];
          if (totals === undefined) {
            expect(sum(cols.added)).toBe(0);
            continue;
          }
          expect(sum(cols.added)).toBe(totals.tasks_added);
          expect(sum(cols.dispatched)).toBe(totals.attempts);
          expect(sum(cols.succeeded)).toBe(totals.succeeded);
          expect(sum(cols.gave_up)).toBe(totals.failed);
          const runtime = sim.state.queueByName.get(name)!;
          if (scenario.commands.length === 0 && totals.pending === 0) {
            // Every ready-task-second ended in a dispatch: the causes add up to the waits.
            const byCause = Object.values(totals.wait_by_cause_task_seconds).reduce((a, b) => a + b, 0);
            expect(byCause).toBeCloseTo((totals.wait_seconds.mean ?? 0) * totals.attempts, 3);
          }
          // A forced run (RunTask) goes past the cap and takes no token (docs/testing.md, the
          // concurrency law: no non-forced dispatch at the cap): only a run without one is held to
          // the cap and the bucket here. (A run ending where it went idle, not at its limit, has a
          // finer automatic resolution: a forced run's overlap at t=0 shows in in_flight.)
          const forced = scenario.commands.some((c) => c.kind === 'run');
          if (!forced) expect(Math.max(0, ...cols.in_flight)).toBeLessThanOrEqual(runtime.maxConcurrent);
          const config = runtime.config;
          if (config.rate_exact !== null && config.bucket_size !== null) {
            const rate = config.rate_exact.tokens / (config.rate_exact.period_us / 1e6);
            if (!forced) {
              const limit = config.bucket_size + rate * Δ + 1e-9;
              expect(cols.dispatched.filter((n) => n > limit)).toEqual([]);
            }
          }
        }
        for (const field of SERIES_COUNT_FIELDS) {
          const perQueue = Object.entries(series.queues).filter(([n]) => n !== '*').map(([, c]) => sum(c[field]));
          expect(sum(all[field])).toBe(sum(perQueue));
        }
      }),
      { numRuns: Number(process.env.SERIES_RUNS ?? 60) },
    );
  });

  it('a run without its series (series: false) has every other figure as with it, and its series() refuses with SERIES_NOT_KEPT', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, commands: true }), (scenario) => {
        const figures = (series: boolean) => {
          const run = prepareScenario(scenario, { series });
          run.sim.runUntilIdle({ maxSeconds: 86_400 });
          return { run, stats: run.sim.stats() };
        };
        const kept = figures(true);
        const skipped = figures(false);
        expect(skipped.stats).toEqual(kept.stats);
        expect(skipped.run.refused).toEqual(kept.run.refused);
        expect(() => skipped.run.sim.series()).toThrow(expect.objectContaining({ name: 'SeriesNotKeptError', code: 'SERIES_NOT_KEPT' }));
        expect(() => kept.run.sim.series()).not.toThrow();
      }),
      { numRuns: Number(process.env.SERIES_RUNS ?? 60) },
    );
  });
});

/** Rows line up, times increase, counts and gauges are whole and never negative (one expect: a run has thousands of cells). */
function checkShape(cols: SeriesColumns): void {
  const n = cols.t_seconds.length;
  const bad: string[] = [];
  for (const f of [...SERIES_COUNT_FIELDS, ...SERIES_GAUGE_FIELDS]) if (cols[f].length !== n) bad.push(`${f} has ${cols[f].length} rows, t_seconds ${n}`);
  for (let i = 1; i < n; i++) if (!(cols.t_seconds[i]! > cols.t_seconds[i - 1]!)) bad.push(`t_seconds not increasing at row ${i}`);
  for (const f of [...SERIES_COUNT_FIELDS, 'ready', 'delayed', 'backoff', 'in_flight'] as const) {
    cols[f].forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0) bad.push(`${f}[${i}] = ${v}`);
    });
  }
  cols.tokens.forEach((v, i) => {
    if (v !== null && !(Number.isInteger(v) && v >= 0)) bad.push(`tokens[${i}] = ${v}`);
  });
  expect(bad.slice(0, 5)).toEqual([]);
}
