/**
 * The seeded streams (src/engine/streams.ts): Philox4x32-10 gives Random123's known answers, and
 * the draws built on it are uniform, independent of their neighbours' keys, and reproducible.
 */
import { describe, expect, it } from 'vitest';
import { AttemptDraws, philox4x32, SequenceStream, STREAM_PURPOSE } from '../../src/engine/streams.js';

const hex = (out: Uint32Array): string[] => [...out].map((w) => w.toString(16).padStart(8, '0'));

describe('Philox4x32-10', () => {
  // Random123's tests/kat_vectors, the three `philox4x32 10` lines: counter[4], key[2] → result[4].
  it('gives the known answers', () => {
    const out = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, out);
    expect(hex(out)).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
    expect(hex(out)).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
    expect(hex(out)).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

/** Pearson's χ² of `values` (in [0, 1)) over `bins` equal bins. */
function chiSquare(values: readonly number[], bins: number): number {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.floor(v * bins)]! += 1;
  const expected = values.length / bins;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

// χ² with 99 degrees of freedom: the 99.9th percentile is about 148.2.
const CHI2_99_DF_999 = 148.2;

describe('attempt draws', () => {
  it('slot k of (task, attempt) is uniform over consecutive tasks (the keys a run uses)', () => {
    const draws = new AttemptDraws(42);
    for (const slot of [0, 1, 2, 3, 4]) {
      const values = Array.from({ length: 50_000 }, (_, task) => draws.reset(task, 1).slot(slot));
      expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
      expect(chiSquare(values, 100)).toBeLessThan(CHI2_99_DF_999);
    }
  });

  it('neighbouring tasks, attempts and slots are uncorrelated', () => {
    const draws = new AttemptDraws(7);
    const n = 50_000;
    const pairs: [string, (i: number) => [number, number]][] = [
      ['task i, i+1', (i) => [draws.reset(i, 1).slot(0), draws.reset(i + 1, 1).slot(0)]],
      ['attempt 1, 2', (i) => [draws.reset(i, 1).slot(1), draws.reset(i, 2).slot(1)]],
      ['slot 0, 1', (i) => { const d = draws.reset(i, 3); return [d.slot(0), d.slot(1)]; }],
    ];
    for (const [, pair] of pairs) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let i = 0; i < n; i++) {
        const [x, y] = pair(i);
        sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      const r = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
      // |r| of independent uniforms is below 4/√n with probability ~1 − 6e-5.
      expect(Math.abs(r)).toBeLessThan(4 / Math.sqrt(n));
    }
  });

  it('a draw depends on its coordinates only, not on what was drawn before', () => {
    const a = new AttemptDraws(3);
    const b = new AttemptDraws(3);
    const first = a.reset(10, 2).slot(2);
    b.reset(99, 1).slot(0);
    b.reset(10, 5).slot(7);
    expect(b.reset(10, 2).slot(2)).toBe(first);
    expect(b.reset(10, 2).seek(2).next()).toBe(first);
    expect(new AttemptDraws(4).reset(10, 2).slot(2)).not.toBe(first);
  });

  it('purposes and seeds past 2^32 are keys of their own', () => {
    const attempt = new AttemptDraws(5, STREAM_PURPOSE.ATTEMPT).reset(1, 1).slot(0);
    expect(new AttemptDraws(5, STREAM_PURPOSE.WORKER_FUNCTION).reset(1, 1).slot(0)).not.toBe(attempt);
    expect(new AttemptDraws(5 + 2 ** 32).reset(1, 1).slot(0)).not.toBe(attempt);
    expect(() => new AttemptDraws(1.5)).toThrow(TypeError);
  });
});

describe('sequence streams', () => {
  it('give 53-bit uniforms in [0, 1), uniform, the same again after reset', () => {
    const s = new SequenceStream(11, STREAM_PURPOSE.ARRIVALS).reset(0, 0);
    const values = Array.from({ length: 50_000 }, () => s.next());
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(values.some((v) => !Number.isInteger(v * 2 ** 32))).toBe(true);
    expect(chiSquare(values, 100)).toBeLessThan(CHI2_99_DF_999);
    s.reset(0, 0);
    expect(Array.from({ length: 5 }, () => s.next())).toEqual(values.slice(0, 5));
    expect(new SequenceStream(11, STREAM_PURPOSE.ARRIVALS).reset(1, 0).next()).not.toBe(values[0]);
  });
});
