/**
 * The first of pushq's three error channels (STYLE.md §4): an engine bug. It crashes loudly and
 * is never caught to carry on. Callers' mistakes are typed errors (errors.ts); a failed HTTP
 * attempt is an event.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/**
 * Throws when `condition` is false. The message is built before the call, so hot paths (run
 * millions of times) write `if (!ok) fail(`...${x}`)` instead: a template literal with numbers
 * in it costs a string conversion on every call even when nothing is wrong.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Throws an AssertionError: the hot-path form of `assert` (see above). */
export function fail(message: string): never {
  throw new AssertionError(message);
}

/** Ends every exhaustive `switch`: a new union member breaks the build where it is unhandled. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unhandled ${what}: ${JSON.stringify(value)}`);
}
