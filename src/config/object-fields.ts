/**
 * Reading an object the library was given in place of a file (a configuration, a worker model):
 * what it is, how a value is shown in a message, and the first key it should not have. One set for
 * both checkers (config/object-check.ts, simulate/worker-rules.ts); each says it in its own error.
 */
import { closestKey } from './suggest.js';

export type Fields = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a message shows it: a string quoted, a number as written, an array or object by its kind. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** The first key of `value` not in `known`, with the known key closest to it (or null); null when there is none. */
export function firstUnknownKey(value: Fields, known: readonly string[]): { key: string; near: string | null } | null {
  for (const key of Object.keys(value)) if (!known.includes(key)) return { key, near: closestKey(key, known) };
  return null;
}
