/** The swarm's one seeded random stream (src/engine/prng.ts), with the draws it needs. */
import { createPrng, type Prng } from '../../engine/prng.js';

export class SwarmRng {
  private readonly prng: Prng;

  constructor(readonly seed: number) {
    this.prng = createPrng(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.prng.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** One of `choices`, drawn in proportion to its weight. */
  weighted<T extends string>(choices: Readonly<Record<T, number>>): T {
    const entries = Object.entries(choices) as [T, number][];
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.prng.next() * total;
    for (const [k, w] of entries) {
      x -= w;
      if (x < 0) return k;
    }
    return (entries[entries.length - 1] as [T, number])[0];
  }
}
