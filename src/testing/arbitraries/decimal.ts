/**
 * Numbers in steps of a millionth (for times in seconds: whole microseconds, the engine's grain).
 * Drawn as `fc.double` draws them (the kit's spread of values is unchanged: fast-check's doubles
 * lean towards small magnitudes) and rounded to a step, so a value that does not matter to a
 * failing property shrinks to the least exactly, and one that does prints as a short decimal
 * (`0.000001`, `30`), where the double itself left counterexamples such as
 * `1.068004491803799e-240`, `5e-324` or `29.999999999999947`.
 */
import fc from 'fast-check';

const STEPS_PER_UNIT = 1_000_000;

/** `min` to `max` (inclusive, both rounded inwards to a step), in steps of 10⁻⁶; shrinks towards `min`. */
export function decimalArbitrary(min: number, max: number): fc.Arbitrary<number> {
  const low = Math.ceil(min * STEPS_PER_UNIT);
  const high = Math.max(low, Math.floor(max * STEPS_PER_UNIT));
  // n / 10⁶ of an exact integer n is the double nearest that decimal, which prints as it.
  return fc.double({ min, max, noNaN: true }).map((x) => Math.min(high, Math.max(low, Math.round(x * STEPS_PER_UNIT))) / STEPS_PER_UNIT);
}
