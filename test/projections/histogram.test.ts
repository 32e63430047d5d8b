/**
 * The streaming histogram's promises (src/projections/histogram.ts): exact up to EXACT_MAX values;
 * beyond, within 1/128 of the exact nearest-rank percentile; exact when a bucket's values are
 * equal; max, min and mean exact; buckets continuous across the fast path's edge (2^31 µs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXACT_MAX, LogHistogram } from '../../src/projections/histogram.js';

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

describe('LogHistogram', () => {
  it('is exact up to EXACT_MAX values', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (values, p) => {
        const h = new LogHistogram();
        for (const v of values) h.record(v);
        expect(h.percentile(p)).toBe(nearestRank(values, p));
      }),
    );
  });

  it('beyond EXACT_MAX: within 1/128 of the exact percentile, with exact max, min and mean', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 42 }), { minLength: EXACT_MAX + 1, maxLength: EXACT_MAX + 500 }), fc.constantFrom(50, 90, 99, 99.9), (values, p) => {
        const h = new LogHistogram();
        for (const v of values) h.record(v);
        const exact = nearestRank(values, p);
        expect(Math.abs(h.percentile(p)! - exact)).toBeLessThanOrEqual(exact / 128 + 1e-9);
        expect(h.max).toBe(Math.max(...values));
        expect(h.min).toBe(Math.min(...values));
        expect(h.mean()).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 3);
      }),
      { numRuns: 30 },
    );
  });

  it('a bucket of equal values answers exactly (a constant latency, a deadline), below and above 2^31 µs', () => {
    for (const v of [100_000, 600_000_000, 86_400_000_000]) {
      const h = new LogHistogram();
      for (let i = 0; i < EXACT_MAX * 2; i++) h.record(v);
      expect(h.percentile(50)).toBe(v);
      expect(h.percentile(99)).toBe(v);
    }
  });

  it('neighbouring values across 2^31 µs land in ordered buckets (the fast path meets the general one)', () => {
    const h = new LogHistogram();
    const values = [2 ** 31 - 2, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32];
    for (let i = 0; i < EXACT_MAX + 1; i++) h.record(values[i % values.length]!);
    const ps = [10, 30, 50, 70, 90, 100].map((p) => h.percentile(p)!);
    expect([...ps].sort((a, b) => a - b)).toEqual(ps);
    expect(ps.at(-1)).toBe(2 ** 32);
  });
});
