// When two workloads' generated task names meet (the rule behind name-prefix-duplicate),
// checked against brute force: list both entries' names and intersect them.
import { describe, expect, it } from 'vitest';
import { clashingName, type NamedEntry } from '../../src/scenario/workload.js';

function bruteForce(a: NamedEntry, b: NamedEntry): string | null {
  const names = new Set(Array.from({ length: a.count }, (_, i) => `${a.prefix}${i}`));
  const common = Array.from({ length: b.count }, (_, j) => `${b.prefix}${j}`).filter((n) => names.has(n));
  return common.length === 0 ? null : common.sort((x, y) => x.length - y.length || (x < y ? -1 : 1))[0]!;
}

function names(e: NamedEntry): Set<string> {
  return new Set(Array.from({ length: e.count }, (_, i) => `${e.prefix}${i}`));
}

describe('clashingName', () => {
  it('agrees with brute force on every pair of small entries', () => {
    const prefixes = ['j', 'j1', 'j10', 'j0', 'j2', 'k', 'j1x', ''];
    const counts = [0, 1, 2, 10, 11, 20, 101, 150];
    let clashes = 0;
    for (const p of prefixes) for (const q of prefixes) for (const m of counts) for (const n of counts) {
      const a = { prefix: p, count: m };
      const b = { prefix: q, count: n };
      const expected = bruteForce(a, b);
      const found = clashingName(a, b);
      expect(found !== null, `${p}×${m} / ${q}×${n}`).toBe(expected !== null);
      if (found !== null) {
        clashes++;
        // The name given is one both entries would really use.
        expect(names(a).has(found) && names(b).has(found), found).toBe(true);
      }
    }
    expect(clashes).toBeGreaterThan(100);
  });

  it('names a name both entries would use', () => {
    expect(clashingName({ prefix: 'job-', count: 12 }, { prefix: 'job-1', count: 2 })).toBe('job-10');
    expect(clashingName({ prefix: 'a', count: 1 }, { prefix: 'a', count: 1 })).toBe('a0');
    expect(clashingName({ prefix: 'job-', count: 10 }, { prefix: 'job-1', count: 2 })).toBeNull();
  });
});
