/**
 * A streaming histogram of non-negative durations (integer µs), for percentiles in bounded memory:
 * a million latencies cost the same few kilobytes as ten.
 *
 * Buckets are log-linear (as in HdrHistogram): values below 128 have a bucket each; above, every
 * power of two [2^e, 2^(e+1)) is split into 128 equal buckets, so a bucket's width is at most 1/128
 * of its lower bound. Each bucket keeps its count and the sum of its values, and a percentile is
 * the mean of the bucket that holds the nearest-rank value. Precision: the answer lies in the same
 * bucket as the exact nearest-rank percentile, so it is within 1/128 (0.78%) of it, and exact when
 * the values in that bucket are all equal (a constant latency, a deadline, 0). Max, min and the
 * mean are exact.
 *
 * Small samples stay exact: up to EXACT_MAX values are also kept as they are, and percentiles come
 * from them (nearest rank by selection); past that the copy is dropped and the buckets answer. So
 * a test's or a short run's figures are exact, and a million-task run costs a few kilobytes.
 */

import { widenField } from '../core/field-shapes.js';

/** Values kept exactly before the buckets alone answer (32 KiB). */
export const EXACT_MAX = 4_096;
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128

/** The bucket index of an integer value ≥ 0. */
function bucketOf(v: number): number {
  if (v < SUB) return v;
  if (v < 0x80000000) {
    // The common case (under 35 minutes in µs): the exponent from clz32, the mantissa by a shift.
    const shift = 31 - Math.clz32(v) - SUB_BITS;
    return shift * SUB + (v >>> shift);
  }
  let e = Math.floor(Math.log2(v));
  // Math.log2 can be off by one ulp right at a power of two: correct it.
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  const shift = e - SUB_BITS;
  return shift * SUB + Math.floor(v / 2 ** shift);
}

export class LogHistogram {
  private counts = new Float64Array(64);
  private sums = new Float64Array(64);
  private exact: Float64Array | null = new Float64Array(64);
  count = 0;
  /** Sum of the recorded values (after rounding to whole µs). */
  sum = 0;
  /** Exact extremes; NaN while empty. */
  min = NaN;
  max = NaN;

  constructor() {
    // A long run's sum passes the small integers, and its exact values are dropped (null): the
    // fields are compiled as what they will be from the start (core/field-shapes.ts).
    widenField(this, 'sum', 0.5);
    widenField(this, 'exact', null);
  }

  record(value: number): void {
    const v = value > 0 ? Math.round(value) : 0;
    const i = bucketOf(v);
    if (i >= this.counts.length) this.grow(i);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sums[i] = (this.sums[i] as number) + v;
    if (this.count === 0 || v < this.min) this.min = v;
    if (this.count === 0 || v > this.max) this.max = v;
    const exact = this.exact;
    if (exact !== null) {
      if (this.count === EXACT_MAX) this.exact = null;
      else {
        if (this.count === exact.length) {
          this.exact = new Float64Array(exact.length * 2);
          this.exact.set(exact);
        }
        (this.exact as Float64Array)[this.count] = v;
      }
    }
    this.count++;
    this.sum += v;
  }

  /** The mean of the recorded values; null when empty. */
  mean(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /** Nearest-rank percentile, p in (0, 100]; null when empty. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (this.exact !== null) return select(this.exact.slice(0, this.count), rank - 1);
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i] as number;
      if (c === 0) continue;
      seen += c;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, (this.sums[i] as number) / c));
    }
    return this.max;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LogHistogram): void {
    if (other.count === 0) return;
    if (this.exact !== null && other.exact !== null && this.count + other.count <= EXACT_MAX) {
      const both = new Float64Array(Math.max(64, this.count + other.count));
      both.set(this.exact.subarray(0, this.count));
      both.set(other.exact.subarray(0, other.count), this.count);
      this.exact = both;
    } else {
      this.exact = null;
    }
    this.sum += other.sum;
    if (other.counts.length > this.counts.length) this.grow(other.counts.length - 1);
    for (let i = 0; i < other.counts.length; i++) {
      this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
      this.sums[i] = (this.sums[i] as number) + (other.sums[i] as number);
    }
    this.min = this.count === 0 ? other.min : Math.min(this.min, other.min);
    this.max = this.count === 0 ? other.max : Math.max(this.max, other.max);
    this.count += other.count;
  }

  private grow(index: number): void {
    let n = this.counts.length;
    while (n <= index) n *= 2;
    const counts = new Float64Array(n);
    const sums = new Float64Array(n);
    counts.set(this.counts);
    sums.set(this.sums);
    this.counts = counts;
    this.sums = sums;
  }
}

/**
 * The k-th smallest value (0-based), by quickselect (Hoare partition, median-of-three): O(n),
 * where sorting to read two percentiles would be O(n log n). Reorders `a`.
 */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo] as number, y = a[mid] as number, z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number;
  }
  return a[k] as number;
}
