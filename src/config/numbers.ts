/**
 * Numbers as App Engine's validators read them from text (Python `int()` / `float()` on the
 * scalar): quoted and unquoted values are the same. Anything that is not plainly a number is
 * refused rather than guessed at (no hex, no `inf`, no `1_000`).
 */

const WHOLE = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A whole number within JavaScript's safe integer range, or null. */
export function parseWholeNumber(text: string): number | null {
  if (!WHOLE.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** A finite decimal number (exponents allowed), or null. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
