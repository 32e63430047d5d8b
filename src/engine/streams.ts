/**
 * Common random numbers: every random draw of a simulation comes from a stream of its own, keyed
 * by the seed, the draw's purpose and what it is about, so a change to one part of a scenario does
 * not reshuffle the draws of another. Two runs that differ only in a queue's `rate` or
 * `max_concurrent_requests` draw the same outcome and latency for attempt n of task i, whenever
 * that attempt happens; the difference between them is the configuration's, not the dice's.
 *
 * A draw is a counter-based generator's output: Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011; it passes TestU01's BigCrush). It maps
 * a 128-bit counter and a 64-bit key to 128 random bits, with no state between calls: a draw is
 * computed from its coordinates, not from the draws before it.
 *
 *   key     = (seed mod 2^32, purpose + 256 · (seed div 2^32 mod 2^24))
 *   counter = (a, b, block, 0)
 *
 * | purpose            | a                 | b                      | use                                |
 * |--------------------|-------------------|------------------------|------------------------------------|
 * | ARRIVALS (1)       | workload index    | 0                      | Poisson gaps, 53-bit uniforms      |
 * | ATTEMPT (2)        | task id           | attempt number (1, …)  | slot 0 no answer, 1 error, 2… latency; 32-bit uniforms |
 * | WORKER_FUNCTION (3)| task id           | attempt number (1, …)  | a worker function's `random()`, 53-bit |
 *
 * A 53-bit uniform takes two 32-bit words (one block holds two), a 32-bit one a word (a block
 * holds four): an attempt's four slots cost one Philox call, computed only if a slot is read.
 */
import type { Prng } from './prng.js';

/** What a stream's draws are for: part of the key, so two purposes never share a draw. */
export const STREAM_PURPOSE = Object.freeze({ ARRIVALS: 1, ATTEMPT: 2, WORKER_FUNCTION: 3 });
export type StreamPurpose = (typeof STREAM_PURPOSE)[keyof typeof STREAM_PURPOSE];

// Philox4x32's multipliers and Weyl key increments (Random123's PHILOX_M4x32_*, PHILOX_W32_*).
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const ROUNDS = 10;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/**
 * Philox4x32-10 of counter (c0, c1, c2, c3) and key (k0, k1), all unsigned 32-bit, into `out`.
 *
 * The words travel as int32 (`| 0`): V8 keeps int32 loop variables in registers, while unsigned
 * ones above 2^31 are doubles that it boxed on every round (160 bytes of garbage per call,
 * measured). `out` is a Uint32Array, so the stores give the unsigned words back. The high half
 * of each 32×32-bit product is worked out from 16-bit limbs in integers (mulHigh): every partial
 * product is below 2^32, and this was a third faster than splitting one factor in doubles.
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) {
      k0 = (k0 + W0) | 0;
      k1 = (k1 + W1) | 0;
    }
    const hi0 = mulHigh(c0, M0_LO, M0_HI);
    const lo0 = Math.imul(M0, c0);
    const hi1 = mulHigh(c2, M1_LO, M1_HI);
    const lo1 = Math.imul(M1, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** The high 32 bits (as int32) of the 64-bit product of `a` (any int32, read unsigned) and the unsigned mHi·2^16 + mLo. */
function mulHigh(a: number, mLo: number, mHi: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const ll = aLo * mLo;
  const lh = aLo * mHi;
  const hl = aHi * mLo;
  // The middle column's carry into the high word.
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aHi * mHi + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** The two key words of `seed` and `purpose` (any integer seed; the scenario's are below 2^32). */
function keyOf(seed: number, purpose: StreamPurpose): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  return [seed >>> 0, (purpose + 256 * (high & 0xffffff)) >>> 0];
}

/**
 * One keyed stream, read in order: draw i is the i-th 53-bit uniform of counter (a, b, ·, 0).
 * `reset` re-aims it (a reused object: a million attempts allocate no streams).
 */
export class SequenceStream implements Prng {
  private readonly k0: number;
  private readonly k1: number;
  private a = 0;
  private b = 0;
  private index = 0;
  private block = -1;
  private readonly words = new Uint32Array(4);

  constructor(
    readonly seed: number,
    purpose: StreamPurpose,
  ) {
    [this.k0, this.k1] = keyOf(seed, purpose);
  }

  reset(a: number, b: number): this {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.index = 0;
    this.block = -1;
    return this;
  }

  /** Uniform in [0, 1), 53 bits. */
  next(): number {
    const i = this.index++;
    const block = Math.floor(i / 2);
    if (block !== this.block) {
      philox4x32(this.a, this.b, block >>> 0, 0, this.k0, this.k1, this.words);
      this.block = block;
    }
    const w = (i & 1) * 2;
    return (((this.words[w] as number) >>> 5) * 67108864 + ((this.words[w + 1] as number) >>> 6)) / TWO_POW_53;
  }
}

/**
 * The draws of one attempt: slot k is a 32-bit uniform of counter (task, attempt, k div 4, 0),
 * word k mod 4. Read a slot with `slot(k)`; `seek(k)` then `next()` reads slots k, k + 1, …
 * (for a latency sampler that takes a Prng).
 */
export class AttemptDraws implements Prng {
  private readonly k0: number;
  private readonly k1: number;
  private task = 0;
  private attempt = 0;
  private index = 0;
  private block = -1;
  private readonly words = new Uint32Array(4);

  constructor(
    readonly seed: number,
    purpose: StreamPurpose = STREAM_PURPOSE.ATTEMPT,
  ) {
    [this.k0, this.k1] = keyOf(seed, purpose);
  }

  /** Aims at attempt `attempt` (1 for the first) of task `task`. */
  reset(task: number, attempt: number): this {
    this.task = task >>> 0;
    this.attempt = attempt >>> 0;
    this.index = 0;
    this.block = -1;
    return this;
  }

  /** Uniform in [0, 1), 32 bits: slot k of this attempt. */
  slot(k: number): number {
    const block = k >>> 2;
    if (block !== this.block) {
      philox4x32(this.task, this.attempt, block, 0, this.k0, this.k1, this.words);
      this.block = block;
    }
    return (this.words[k & 3] as number) / TWO_POW_32;
  }

  seek(k: number): this {
    this.index = k;
    return this;
  }

  next(): number {
    return this.slot(this.index++);
  }
}

/** The slots of an attempt's draws (fixed: a draw the model does not need leaves the others in place). */
export const ATTEMPT_SLOT = Object.freeze({ NO_ANSWER: 0, ERROR: 1, LATENCY: 2 });
