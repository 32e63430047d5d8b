/**
 * The statistics of many seeds: mean with a Student-t 95% confidence interval, min, max, and
 * quantiles (median and the 5–95% band of a series).
 *
 * The t quantile is computed, not tabled: for a whole number of degrees of freedom ν the t
 * distribution's P(|T| < t) has a closed form (Abramowitz & Stegun 26.7.3 and 26.7.4, a finite
 * series in cos θ with θ = atan(t / √ν)), and the quantile is found by bisection on it.
 */

import type { FigureSummary } from '../simulate/report/bands-input.js';

export type { FigureSummary };

/** P(|T| < t) for Student's t with ν degrees of freedom (ν a whole number ≥ 1). */
export function studentTAbsCdf(t: number, nu: number): number {
  if (t <= 0) return 0;
  if (!Number.isFinite(t)) return 1;
  const theta = Math.atan(t / Math.sqrt(nu));
  const c2 = Math.cos(theta) ** 2;
  const s = Math.sin(theta);
  if (nu % 2 === 1) {
    // A&S 26.7.3: (2/π)(θ + sin θ (cos θ + (2/3) cos³ θ + … + (2·4···(ν−3))/(1·3···(ν−2)) cos^(ν−2) θ)).
    if (nu === 1) return (2 * theta) / Math.PI;
    let term = Math.cos(theta);
    let sum = term;
    for (let k = 2; k <= nu - 2; k += 2) {
      term *= (k / (k + 1)) * c2;
      sum += term;
    }
    return (2 / Math.PI) * (theta + s * sum);
  }
  // A&S 26.7.4: sin θ (1 + (1/2) cos² θ + (1·3)/(2·4) cos⁴ θ + … + (1·3···(ν−3))/(2·4···(ν−2)) cos^(ν−2) θ).
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= nu - 3; k += 2) {
    term *= (k / (k + 1)) * c2;
    sum += term;
  }
  return s * sum;
}

const tCache = new Map<number, number>();

/** The two-sided 95% quantile of Student's t with ν degrees of freedom: P(|T| < t) = 0.95. */
export function studentT95(nu: number): number {
  if (!(Number.isInteger(nu) && nu >= 1)) throw new RangeError(`degrees of freedom must be a whole number ≥ 1, got ${nu}`);
  const cached = tCache.get(nu);
  if (cached !== undefined) return cached;
  let lo = 0;
  let hi = 1;
  while (studentTAbsCdf(hi, nu) < 0.95) hi *= 2;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTAbsCdf(mid, nu) < 0.95) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  tCache.set(nu, t);
  return t;
}

/**
 * Mean, 95% interval, min and max of `values`. A null among them (a figure a run does not have,
 * such as `drained_at_seconds` of a queue that never drained) makes the mean and the interval
 * null: their value is not known. min and max are over the numbers.
 *
 * `floor`: the least value the quantity can take (0 for a count or a time), when it has one. The
 * t interval is then cut at it: its true mean is never below the floor, so the cut interval holds
 * the true mean exactly when the whole one does (the same 95%), without a bound no run could
 * have (`-0.101` failed tasks). The price: the interval is no longer symmetric about the mean.
 * A difference between two figures has no floor.
 */
export function summarise(values: readonly (number | null)[], floor: number | null = null): FigureSummary {
  const numbers = values.filter((v): v is number => v !== null);
  const min = numbers.length === 0 ? null : Math.min(...numbers);
  const max = numbers.length === 0 ? null : Math.max(...numbers);
  if (numbers.length === 0 || numbers.length < values.length) return { mean: null, ci95_low: null, ci95_high: null, min, max };
  const n = numbers.length;
  // Held within [min, max]: a sum's rounding can push it out (0.1 three times sums to
  // 0.30000000000000004, a third of which is above 0.1), and the mean of runs that all agree is
  // their value, which `--on mean` judges with == and <=.
  const mean = Math.min(max as number, Math.max(min as number, numbers.reduce((a, b) => a + b, 0) / n));
  if (n === 1) return { mean, ci95_low: null, ci95_high: null, min, max };
  const variance = numbers.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = studentT95(n - 1) * Math.sqrt(variance / n);
  const low = mean - half;
  return { mean, ci95_low: floor === null ? low : Math.max(floor, low), ci95_high: mean + half, min, max };
}

/** The q-quantile (0 ≤ q ≤ 1) of sorted `values`, interpolated linearly between order statistics. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of no values');
  const at = q * (n - 1);
  const i = Math.floor(at);
  const lower = sorted[i] as number;
  if (i + 1 >= n) return lower;
  return lower + (at - i) * ((sorted[i + 1] as number) - lower);
}
