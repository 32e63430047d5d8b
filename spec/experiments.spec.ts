/**
 * Laws of the experiments (issue "Experiments"):
 * - the 95% confidence interval of a figure narrows about as 1/√N with the number of seeds N
 *   (its half-width is t(N−1) · s / √N, and s settles as N grows);
 * - tune on App Engine's burst example (1,000 tasks at once, bucket 40, 1 ms latency) with the goal
 *   `last_dispatch_at_seconds <= 60` answers the least rate that meets it, and the step below
 *   misses it: the first 40 go at once, then one per token, so the last goes at 960 / rate.
 */
import { describe, expect, it } from 'vitest';
import { runSeeds } from '../src/experiments/run-seeds.js';
import { studentT95 } from '../src/experiments/statistics.js';
import { tune } from '../src/experiments/tune.js';
import { parseScenario } from '../src/scenario/parse.js';
import type { Scenario } from '../src/scenario/types.js';

async function scenario(text: string): Promise<Scenario> {
  const { scenario: s, issues } = await parseScenario(text, { file: 'spec.yaml' });
  if (s === null) throw new Error(issues.map((i) => i.message).join('\n'));
  return s;
}

describe('experiments', () => {
  it('the CI of a figure (attempts: retries of failed attempts) narrows about as 1/√N', async () => {
    const s = await scenario(`seed: 1
queue:
  - { name: q, rate: 30/s, bucket_size: 10, max_concurrent_requests: 5, retry_parameters: { task_retry_limit: 3 } }
workload:
  - { queue: q, count: 120, rate: 25/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 80ms, p99: 900ms }
  error_rate: 0.15
`);
    const width = async (n: number) => {
      const r = await runSeeds(s, { seeds: n });
      const f = r.queues.q!.attempts;
      return (f.ci95_high as number) - (f.ci95_low as number);
    };
    const [w10, w40, w160] = [await width(10), await width(40), await width(160)];
    expect(w40).toBeLessThan(w10);
    expect(w160).toBeLessThan(w40);
    // Each fourfold increase of N halves the width, give or take the t quantile and the noise in s.
    const expected = (a: number, b: number) => (studentT95(a - 1) / Math.sqrt(a)) / (studentT95(b - 1) / Math.sqrt(b));
    for (const [wa, wb, a, b] of [[w10, w40, 10, 40], [w40, w160, 40, 160]] as const) {
      const ratio = wa / wb;
      expect(ratio).toBeGreaterThan(expected(a, b) / 1.6);
      expect(ratio).toBeLessThan(expected(a, b) * 1.6);
    }
  }, 240_000);

  it("tune on App Engine's burst example answers the least rate meeting last_dispatch_at_seconds <= 60; the step below misses it", async () => {
    const s = await scenario(`seed: 1
queue:
  - { name: burst, rate: 20/s, bucket_size: 40 }
workload:
  - { queue: burst, count: 1000 }
worker:
  latency: 1ms
`);
    for (const [range, answer, below] of [['1..100', 16, 15], ['1/s..500/s:0.5/s', 16, 15.5], ['10..40:3', 16, 13]] as const) {
      const r = await tune(s, { seeds: 3, vary: [`burst.rate=${range}`], goals: ['burst.last_dispatch_at_seconds <= 60'] });
      expect(r.search).toBe('bisection');
      expect(r.answer).toEqual({ 'burst.rate': answer });
      expect(r.binding_goal).toBe('burst.last_dispatch_at_seconds <= 60');
      expect(r.at_answer?.runs.every((run) => run.queues.burst!.last_dispatch_at_seconds! <= 60)).toBe(true);
      expect(r.below_answer?.setting).toEqual({ 'burst.rate': below });
      expect(r.below_answer?.runs.every((run) => run.queues.burst!.last_dispatch_at_seconds! > 60)).toBe(true);
      expect(r.below_answer?.runs[0]!.queues.burst!.last_dispatch_at_seconds).toBeCloseTo(960 / below, 6);
    }
  }, 240_000);
});
