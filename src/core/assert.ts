/**
 * The first of pushq's three error channels (STYLE.md §4): an engine bug. It crashes loudly and
 * is never caught to carry on. Callers' mistakes are typed errors (errors.ts); a failed HTTP
 * attempt is an event.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Ends every exhaustive `switch`: a new union member breaks the build where it is unhandled. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unhandled ${what}: ${JSON.stringify(value)}`);
}
