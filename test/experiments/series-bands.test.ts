/** The series of many runs as a median and a 5–95% band (src/experiments/series-bands.ts). */
import { describe, expect, it } from 'vitest';
import { seriesBands } from '../../src/experiments/series-bands.js';
import type { SeriesColumns, SeriesData } from '../../src/projections/series-types.js';

function columns(t: number[], dispatched: number[], ready: number[], tokens: (number | null)[] = t.map(() => 5)): SeriesColumns {
  const zero = t.map(() => 0);
  return { t_seconds: t, added: zero, dispatched, succeeded: zero, failed_attempts: zero, gave_up: zero, ready, delayed: zero, backoff: zero, in_flight: zero, tokens };
}

function run(resolution: number, q: SeriesColumns): SeriesData {
  return { resolution_seconds: resolution, queues: { q, '*': q } };
}

describe('seriesBands', () => {
  it('puts runs of different resolutions on the coarsest grid: counts add up, gauges keep the later row', () => {
    const fine = run(1, columns([1, 2, 3, 4], [1, 2, 3, 4], [10, 9, 8, 7]));
    const coarse = run(2, columns([2, 4], [10, 20], [100, 50]));
    const bands = seriesBands([fine, coarse]);
    expect(bands.resolution_seconds).toBe(2);
    expect(bands.runs).toBe(2);
    const q = bands.queues.q!;
    expect(q.t_seconds).toEqual([2, 4]);
    // dispatched: fine merged to [3, 7], coarse [10, 20]; median of two = their mean.
    expect(q.fields.dispatched.median).toEqual([6.5, 13.5]);
    // ready: fine's later rows [9, 7], coarse [100, 50].
    expect(q.fields.ready.median).toEqual([54.5, 28.5]);
    expect(q.fields.ready.p5[0]).toBeCloseTo(9 + 0.05 * 91, 9);
    expect(q.fields.ready.p95[0]).toBeCloseTo(9 + 0.95 * 91, 9);
  });

  it('a run that ended sooner goes on with no counts and its final gauges', () => {
    const short = run(1, columns([1], [4], [3]));
    const long = run(1, columns([1, 2, 3], [4, 6, 8], [3, 2, 1]));
    const q = seriesBands([short, long]).queues.q!;
    expect(q.t_seconds).toEqual([1, 2, 3]);
    expect(q.fields.dispatched.median).toEqual([4, 3, 4]);
    expect(q.fields.ready.median).toEqual([3, 2.5, 2]);
  });

  it('the band holds the middle 90% of many runs; no value where a run has none (tokens without a bucket)', () => {
    const runs = Array.from({ length: 101 }, (_, i) => run(1, columns([1], [i], [0], [null])));
    const q = seriesBands(runs).queues.q!;
    expect([q.fields.dispatched.p5[0], q.fields.dispatched.median[0], q.fields.dispatched.p95[0]]).toEqual([5, 50, 95]);
    expect(q.fields.tokens.median).toEqual([null]);
  });

  it('prints an interpolated band without binary noise (0.05 · 3 is 0.15000000000000002 in floating point)', () => {
    const runs = [0, 1, 1, 1].map((d) => run(1, columns([1], [d], [4 + d])));
    const q = seriesBands(runs).queues.q!;
    expect([q.fields.dispatched.p5[0], q.fields.ready.p5[0], q.fields.ready.p95[0]]).toEqual([0.15, 4.15, 5]);
    const fourRuns = [2, 2, 3, 5].map((d) => run(1, columns([1], [d], [d])));
    expect(seriesBands(fourRuns).queues.q!.fields.dispatched.p95[0]).toBe(4.7);
  });

  it('shares a grid given from outside (compare’s variants), and refuses resolutions that do not divide', () => {
    expect(seriesBands([run(1, columns([1, 2], [1, 1], [0, 0]))], 2).queues.q!.fields.dispatched.median).toEqual([2]);
    expect(() => seriesBands([run(1, columns([1], [1], [0])), run(1.5, columns([1.5], [1], [0]))])).toThrow(/do not divide/);
    expect(() => seriesBands([])).toThrow(RangeError);
  });
});
