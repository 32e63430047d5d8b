/**
 * The event schemas as each log format version lays them out, derived from the core's one table
 * (src/core/event-schema.ts): the codec generates its encoders and validators from these.
 *
 * - Version 2 (current): the core's table as it is; a task's options are one nested object,
 *   `TaskAdded.options`.
 * - Version 1: the same, except that a TaskAdded wrote its options as top-level fields after
 *   `size`, in the same order. Every other line, and every TaskAdded line without options, is
 *   the same bytes in both versions (so the fast decoder serves both).
 *
 * `toLayout` and `fromLayout` turn a current event into a version's shape and back; for the
 * current version they are the identity, for version 1 they flatten or nest TaskAdded's options.
 */
import { EVENT_SCHEMAS, TASK_OPTION_SCHEMAS, type EngineEventType, type FieldSchema } from '../core/event-schema.js';
import type { EngineEvent, TaskAdded } from '../core/events.js';
import { LOG_FORMAT_VERSION } from './event-log.js';

export { EVENT_SCHEMAS, TASK_OPTION_SCHEMAS } from '../core/event-schema.js';

export type LogLayout = Readonly<Record<EngineEventType, readonly FieldSchema[]>>;

/** The version in which TaskAdded's options became one nested object. */
const NESTED_OPTIONS_SINCE = 2;

function layoutOf(version: number): LogLayout {
  if (version >= NESTED_OPTIONS_SINCE) return EVENT_SCHEMAS;
  const taskAdded = EVENT_SCHEMAS.TaskAdded.flatMap((f): readonly FieldSchema[] => (f.kind === 'options' ? TASK_OPTION_SCHEMAS : [f]));
  return { ...EVENT_SCHEMAS, TaskAdded: taskAdded };
}

/** Every version this pushq reads (and appends to), oldest first. */
const LOG_VERSIONS: readonly number[] = Array.from({ length: LOG_FORMAT_VERSION }, (_, i) => i + 1);

export const LOG_LAYOUTS: ReadonlyMap<number, LogLayout> = new Map(LOG_VERSIONS.map((v) => [v, layoutOf(v)]));

/** An event read from a log of `version`, already validated against that version's layout, in the current shape. */
export function fromLayout(value: Record<string, unknown>, version: number): EngineEvent {
  if (version >= NESTED_OPTIONS_SINCE || value.type !== 'TaskAdded') return value as unknown as EngineEvent;
  let options: Record<string, unknown> | undefined;
  const event: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined) continue;
    if (OPTION_NAMES.has(key)) (options ??= {})[key] = v;
    else event[key] = v;
  }
  if (options !== undefined) event.options = options;
  return event as unknown as EngineEvent;
}

/** A current event in the shape of a log of `version` (what that version's encoder writes). */
export function toLayout(e: EngineEvent, version: number): EngineEvent | Record<string, unknown> {
  if (version >= NESTED_OPTIONS_SINCE || e.type !== 'TaskAdded' || e.options === undefined) return e;
  const { options, ...rest } = e as TaskAdded;
  return { ...rest, ...options };
}

const OPTION_NAMES: ReadonlySet<string> = new Set(TASK_OPTION_SCHEMAS.map((f) => f.name));
