/**
 * The schema of every event as it is written to a log file: for each type, its fields in the
 * one fixed order the codec writes them (the order the core builds events in, so a decoded event
 * serialises to the same bytes), each with its kind and whether it may be omitted.
 *
 * This table is the single source for three things: the codec's encoder (key order), its
 * validator (STYLE §5: validate before writing and after reading), and docs/events.md, which a
 * test checks against it field by field. A hand-written validator rather than zod: a replay
 * checks millions of events and zod's per-object cost would dominate it (see the note in
 * codec.ts). `satisfies` ties the table to the `EngineEvent` union, so a new event type or a
 * renamed field breaks the build here.
 */
import type { EngineEvent, EngineEventType } from '../core/events.js';

export type FieldKind =
  /** an integer ≥ 0 (microseconds, ids, counts, bytes) */
  | 'uint'
  /** an integer ≥ 0, or null */
  | 'status'
  | 'string'
  /** 'status' | 'deadline' | 'connection' */
  | 'reason'
  /** the literal `true` */
  | 'true'
  /** GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS */
  | 'method'
  /** [name, value] string pairs */
  | 'headers'
  /** a RetryParameters object */
  | 'retry'
  /** a QueueFileConfig object */
  | 'config'
  /** an EngineSettings object */
  | 'settings';

export interface FieldSchema {
  readonly name: string;
  readonly kind: FieldKind;
  readonly optional: boolean;
}

type FieldsOf<E> = E extends EngineEvent ? Exclude<keyof E, 'type'> : never;

function f<N extends string>(name: N, kind: FieldKind, optional = false): FieldSchema & { name: N } {
  return { name, kind, optional };
}

/** Every event type's fields, in write order (`type` is always first and is not listed). */
export const EVENT_SCHEMAS = {
  ConfigApplied: [f('t', 'uint'), f('config', 'config'), f('settings', 'settings')],
  TaskAdded: [
    f('t', 'uint'), f('id', 'uint'), f('queue', 'string'), f('eta', 'uint'), f('size', 'uint'),
    f('name', 'string', true), f('url', 'string', true), f('method', 'method', true), f('headers', 'headers', true),
    f('body', 'string', true), f('bodyBytes', 'uint', true), f('target', 'string', true), f('retry', 'retry', true),
    f('dispatchDeadlineUs', 'uint', true),
  ],
  AttemptDispatched: [f('t', 'uint'), f('id', 'uint'), f('forced', 'true', true)],
  AttemptSucceeded: [f('t', 'uint'), f('id', 'uint'), f('status', 'uint'), f('latencyUs', 'uint')],
  AttemptFailed: [
    f('t', 'uint'), f('id', 'uint'), f('status', 'status'), f('reason', 'reason'), f('error', 'string', true),
    f('latencyUs', 'uint'), f('retry', 'uint'), f('delayUs', 'uint'), f('retryAt', 'uint'),
  ],
  TaskGaveUp: [f('t', 'uint'), f('id', 'uint'), f('status', 'status'), f('reason', 'reason'), f('error', 'string', true), f('latencyUs', 'uint')],
  BackoffElapsed: [f('t', 'uint'), f('id', 'uint')],
  AttemptOrphaned: [f('t', 'uint'), f('id', 'uint'), f('status', 'status'), f('latencyUs', 'uint')],
  TaskDeleted: [f('t', 'uint'), f('id', 'uint')],
  QueuePaused: [f('t', 'uint'), f('queue', 'string')],
  QueueResumed: [f('t', 'uint'), f('queue', 'string')],
  QueuePurged: [f('t', 'uint'), f('queue', 'string')],
} as const satisfies { [T in EngineEventType]: readonly (FieldSchema & { name: FieldsOf<Extract<EngineEvent, { type: T }>> })[] };

// Every field of every event type is listed (the `satisfies` above checks the other direction).
type Listed<T extends EngineEventType> = (typeof EVENT_SCHEMAS)[T][number]['name'];
type Missing = { [T in EngineEventType]: Exclude<FieldsOf<Extract<EngineEvent, { type: T }>>, Listed<T>> }[EngineEventType];
const noneMissing: [Missing] extends [never] ? true : Missing = true;
void noneMissing;

export function schemaOf(type: EngineEventType): readonly FieldSchema[] {
  return EVENT_SCHEMAS[type];
}
