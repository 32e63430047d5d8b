/** The statistics of many seeds (src/experiments/statistics.ts) against published values. */
import { describe, expect, it } from 'vitest';
import { summariseFigure } from '../../src/experiments/figures.js';
import { quantileSorted, studentT95, studentTAbsCdf, summarise } from '../../src/experiments/statistics.js';

describe('Student t', () => {
  // Two-sided 95% quantiles as every t table prints them (to 3 decimals).
  const TABLE: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [9, 2.262], [10, 2.228], [19, 2.093], [29, 2.045], [30, 2.042], [60, 2.0], [120, 1.98]];

  it.each(TABLE)('ν = %i: t = %f', (nu, t) => {
    expect(studentT95(nu)).toBeCloseTo(t, 3);
  });

  it('has the closed forms of ν = 1 (Cauchy) and ν = 2, and tends to the normal 1.960', () => {
    expect(studentT95(1)).toBeCloseTo(Math.tan(0.95 * Math.PI / 2), 9);
    expect(studentT95(2)).toBeCloseTo(0.95 * Math.sqrt(2 / (1 - 0.95 ** 2)), 9);
    expect(studentT95(5000)).toBeCloseTo(1.96, 2);
    expect(studentTAbsCdf(0, 7)).toBe(0);
    expect(studentTAbsCdf(Infinity, 7)).toBe(1);
  });

  it('refuses degrees of freedom that are not whole and positive', () => {
    expect(() => studentT95(0)).toThrow(RangeError);
    expect(() => studentT95(2.5)).toThrow(RangeError);
  });
});

describe('summarise', () => {
  it('gives the mean, mean ± t·s/√n, min and max', () => {
    const s = summarise([2, 4, 4, 4, 5, 5, 7, 9]);
    const sd = Math.sqrt(32 / 7);
    expect(s.mean).toBe(5);
    expect(s.ci95_low).toBeCloseTo(5 - 2.3646 * sd / Math.sqrt(8), 3);
    expect(s.ci95_high).toBeCloseTo(5 + 2.3646 * sd / Math.sqrt(8), 3);
    expect([s.min, s.max]).toEqual([2, 9]);
  });

  it('one run: its value, no interval; a null in a run: no mean and no interval, min and max of the rest', () => {
    expect(summarise([3])).toEqual({ mean: 3, ci95_low: null, ci95_high: null, min: 3, max: 3 });
    expect(summarise([1, null, 5])).toEqual({ mean: null, ci95_low: null, ci95_high: null, min: 1, max: 5 });
    expect(summarise([null])).toEqual({ mean: null, ci95_low: null, ci95_high: null, min: null, max: null });
    expect(summarise([4, 4, 4])).toEqual({ mean: 4, ci95_low: 4, ci95_high: 4, min: 4, max: 4 });
  });

  it('runs that all agree have their value as the mean and a zero-width interval there, not a rounding of the sum', () => {
    // 0.1 + 0.1 + 0.1 is 0.30000000000000004: its third is above 0.1, every run's value.
    expect(summarise([0.1, 0.1, 0.1])).toEqual({ mean: 0.1, ci95_low: 0.1, ci95_high: 0.1, min: 0.1, max: 0.1 });
    expect(summariseFigure([1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3])).toEqual({ mean: 1 / 3, ci95_low: 1 / 3, ci95_high: 1 / 3, min: 1 / 3, max: 1 / 3 });
    for (const values of [[0.1, 0.1, 0.1 + 1e-17], [0.7, 0.7, 0.7, 0.7, 0.7], [1e-9, 1e-9, 1e-9]]) {
      const s = summarise(values);
      expect(s.mean!).toBeGreaterThanOrEqual(s.min!);
      expect(s.mean!).toBeLessThanOrEqual(s.max!);
    }
  });
});

describe('an interval with a floor', () => {
  it('a figure (a count, a time) has its interval cut at 0, the upper bound unchanged; a difference keeps it whole', () => {
    // The runs of `failed` 1, 3, 0: mean 1.33, t interval -2.46 to 5.13.
    const whole = summarise([1, 3, 0]);
    expect(whole.ci95_low!).toBeLessThan(0);
    const figure = summariseFigure([1, 3, 0]);
    expect(figure).toEqual({ ...whole, ci95_low: 0 });
    expect(summarise([1, 3, 0], 0)).toEqual(figure);
    // A floor below the t interval changes nothing.
    expect(summarise([10, 11, 12], 0)).toEqual(summarise([10, 11, 12]));
  });

  it('cutting at the floor keeps the coverage: over 4000 samples of a non-negative quantity, the cut and whole intervals hold the mean equally often', () => {
    // Counts from a skewed distribution with mean 0.5 (a rare failure): 0 w.p. 0.75, 2 w.p. 0.25.
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    let whole = 0;
    let cut = 0;
    for (let i = 0; i < 4000; i++) {
      const values = Array.from({ length: 5 }, () => (next() < 0.25 ? 2 : 0));
      const w = summarise(values);
      const c = summariseFigure(values);
      if (w.ci95_low! <= 0.5 && 0.5 <= w.ci95_high!) whole++;
      if (c.ci95_low! <= 0.5 && 0.5 <= c.ci95_high!) cut++;
      expect(c.ci95_low!).toBeGreaterThanOrEqual(0);
    }
    expect(cut).toBe(whole);
  });
});

describe('quantileSorted', () => {
  it('interpolates between order statistics', () => {
    expect(quantileSorted([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10, 20], 0.05)).toBeCloseTo(10.5, 9);
    expect(quantileSorted([7], 0.95)).toBe(7);
    expect(() => quantileSorted([], 0.5)).toThrow(RangeError);
  });
});
