/**
 * The one codec between events and log lines, for every format version this pushq reads.
 *
 * encode: the event's fields in the fixed order of its version's layout (schemas.ts, derived
 * from src/core/event-schema.ts), `type` first, optional fields left out when undefined, a task's
 * options in their own fixed order; so the bytes depend only on the event's values, never on how
 * the object was built, and the same run gives the same file. The event is validated first
 * (STYLE §5), so nothing invalid ever reaches a log.
 *
 * decode: JSON.parse, then the same validation against the log's version, strictly (an unknown
 * type, a missing or extra field, a wrong kind), then the current shape (`fromLayout`): the caller
 * turns a failure into corruption at a line and byte offset. Decoded objects keep the file's key
 * order, which is the layout's order, so `encode(decode(line)) === line` for every line this
 * codec wrote.
 *
 * Speed: one encoder and one validator per event type and version, generated at load from the
 * schema table (straight-line code: replay validates every event of logs with millions of them,
 * and a loop over field names, or zod, would dominate it). test/log/codec-encoder.test.ts checks
 * the generated encoders against a plain JSON.stringify of the same fields.
 */
import { TASK_OPTION_SCHEMAS, type FieldKind, type FieldSchema } from '../core/event-schema.js';
import type { EngineEvent } from '../core/events.js';
import { LOG_FORMAT_VERSION } from './event-log.js';
import { checkFields, compileChecks, explainFields, type CompiledFields } from './event-check.js';
import { LOG_LAYOUTS, fromLayout, toLayout, type LogLayout } from './schemas.js';

type Encoder = (e: Record<string, unknown>, options: Encoder) => string;

/**
 * Straight-line string building in the schema's key order: the same bytes `JSON.stringify` of the
 * fields in that order gives (numbers are validated safe integers, so `String(v)` is their
 * JSON). Building an object per event to stringify it cost the service ~1.5 µs an event.
 * `head` opens an event (`{"type":"X"`); null encodes a task's options (an object of its own).
 */
function compileEncoder(fields: readonly FieldSchema[], head: string | null): Encoder {
  const parts = fields.map((field) => `v = e[${JSON.stringify(field.name)}]; if (v !== undefined) s += ${JSON.stringify(`,${JSON.stringify(field.name)}:`)} + ${valueCode(field.kind)};`);
  const [start, finish] = head === null ? ["''", "'{' + s.slice(1) + '}'"] : [JSON.stringify(head), "s + '}'"];
  // Generated from the static schema table, never from input.
  return new Function('e', 'options', `let v; let s = ${start};\n${parts.join('\n')}\nreturn ${finish};`) as Encoder;
}

function valueCode(kind: FieldKind): string {
  switch (kind) {
    case 'us':
    case 'uint':
      return 'String(v)';
    case 'status':
      return "(v === null ? 'null' : String(v))";
    case 'options':
      return 'options(v, options)';
    case 'queue':
    case 'string':
    case 'reason':
    case 'true':
    case 'method':
    case 'headers':
    case 'retry':
    case 'config':
    case 'settings':
      return 'JSON.stringify(v)';
  }
}

interface Compiled {
  encoders: Map<string, Encoder>;
  checks: Map<string, CompiledFields>;
}

function compileLayout(layout: LogLayout): Compiled {
  const entries = Object.entries(layout);
  return {
    encoders: new Map(entries.map(([type, fields]) => [type, compileEncoder(fields, `{"type":${JSON.stringify(type)}`)])),
    checks: new Map(entries.map(([type, fields]) => [type, compileChecks(fields, 1)])),
  };
}

const OPTIONS_ENCODER = compileEncoder(TASK_OPTION_SCHEMAS, null);
const CURRENT = compileLayout(LOG_LAYOUTS.get(LOG_FORMAT_VERSION) as LogLayout);
const BY_VERSION = new Map([...LOG_LAYOUTS].map(([version, layout]) => [version, version === LOG_FORMAT_VERSION ? CURRENT : compileLayout(layout)]));

function compiledFor(version: number): Compiled {
  const c = BY_VERSION.get(version);
  if (c === undefined) throw new EventShapeError(`log format version ${version} is not one this pushq reads`);
  return c;
}

/** The event's JSON line (without the newline) in a log of `version`. Throws EventShapeError if it is not valid. */
export function encodeEvent(e: EngineEvent, version = LOG_FORMAT_VERSION): string {
  const problem = checkEvent(e);
  if (problem !== null) throw new EventShapeError(problem);
  const c = version === LOG_FORMAT_VERSION ? CURRENT : compiledFor(version);
  return (c.encoders.get(e.type) as Encoder)(toLayout(e, version) as unknown as Record<string, unknown>, OPTIONS_ENCODER);
}

/** The reference encoding the generated encoders must match: the fields, in order, through JSON.stringify. */
export function encodeEventReference(e: EngineEvent, version = LOG_FORMAT_VERSION): string {
  const src = toLayout(e, version) as Record<string, unknown>;
  return JSON.stringify(pick({ type: e.type }, src, (LOG_LAYOUTS.get(version) as LogLayout)[e.type]));
}

function pick(out: Record<string, unknown>, src: Record<string, unknown>, fields: readonly FieldSchema[]): Record<string, unknown> {
  for (const field of fields) {
    const v = src[field.name];
    if (v === undefined) continue;
    out[field.name] = field.kind === 'options' ? pick({}, v as Record<string, unknown>, TASK_OPTION_SCHEMAS) : v;
  }
  return out;
}

/** The event a line of a log of `version` holds, in the current shape. Throws EventShapeError (bad JSON or bad event). */
export function decodeEvent(line: string, version = LOG_FORMAT_VERSION): EngineEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new EventShapeError(`not JSON (${(err as Error).message})`);
  }
  const problem = checkEvent(value, version);
  if (problem !== null) throw new EventShapeError(problem);
  return fromLayout(value as Record<string, unknown>, version);
}

/** `value` (valid for a log of `version`: see checkEvent) in the current shape. */
export function upgradeEvent(value: unknown, version: number): EngineEvent {
  return fromLayout(value as Record<string, unknown>, version);
}

export class EventShapeError extends Error {
  override name = 'EventShapeError';
}

/** null when `value` is a valid event in a log of `version`, else what is wrong with it. */
export function checkEvent(value: unknown, version = LOG_FORMAT_VERSION): string | null {
  const checks = (version === LOG_FORMAT_VERSION ? CURRENT : compiledFor(version)).checks;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const type = (value as { type?: unknown }).type;
    const compiled = typeof type === 'string' ? checks.get(type) : undefined;
    if (compiled === undefined) return `unknown event type ${JSON.stringify(type)}`;
    if (checkFields(compiled, value as Record<string, unknown>)) return null;
    return explainFields(compiled, value as Record<string, unknown>, type as string);
  }
  return 'not an object';
}

