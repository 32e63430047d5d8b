/**
 * A seeded sequential generator, xoroshiro128+ (pure-rand), for callers who want one stream in
 * draw order (tests, tools). A simulation draws from keyed streams instead (streams.ts: common
 * random numbers); both take their seed from the log header, so a run can be repeated exactly.
 * The `Prng` interface is what latency samplers read from.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

export interface Prng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
}

export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
  const rng = xoroshiro128plus(seed | 0);
  return { seed, next: () => uniformFloat64(rng) };
}
