/**
 * The one codec between events and log lines.
 *
 * encode: the event's fields in the fixed order of schemas.ts (`type` first), optional fields
 * left out when undefined; so the bytes depend only on the event's values, never on how the
 * object was built, and the same run gives the same file. The event is validated first (STYLE
 * §5), so nothing invalid ever reaches a log.
 *
 * decode: JSON.parse, then the same validation, strictly (an unknown type, a missing or extra
 * field, a wrong kind): the caller turns a failure into corruption at a line and byte offset.
 * Decoded objects keep the file's key order, which is the schema order, so
 * `encode(decode(line)) === line` for every line this codec wrote.
 *
 * Speed: validation is hand-written from the schema table because replay checks every event of
 * logs with millions of them; the common events are checked by a few typeof tests.
 */
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../core/queue-config.js';
import { ENGINE_EVENT_TYPES, type EngineEvent, type EngineEventType } from '../core/events.js';
import { EVENT_SCHEMAS, type FieldKind, type FieldSchema } from './schemas.js';

const SCHEMAS = EVENT_SCHEMAS as unknown as Record<string, readonly FieldSchema[]>;
const METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const REASONS = new Set(['status', 'deadline', 'connection']);

/** The event's JSON line (without the newline). Throws EventShapeError if it is not valid. */
export function encodeEvent(e: EngineEvent): string {
  const problem = checkEvent(e);
  if (problem !== null) throw new EventShapeError(problem);
  return (ENCODERS.get(e.type) as Encoder)(e as unknown as Record<string, unknown>);
}

/**
 * One encoder per event type, generated from the schema table: straight-line string building in
 * the table's key order, the same bytes `JSON.stringify` of the fields in that order gives
 * (numbers are validated safe integers, so `String(v)` is their JSON; everything else goes
 * through JSON.stringify). Building an object per event to stringify it cost the service ~1.5 µs
 * an event. test/log/codec-encoder.test.ts checks the two agree.
 */
type Encoder = (e: Record<string, unknown>) => string;
const ENCODERS = new Map<string, Encoder>(
  Object.entries(SCHEMAS).map(([type, fields]) => {
    const parts = fields.map((field) => {
      const key = JSON.stringify(`,${JSON.stringify(field.name)}:`);
      const value = field.kind === 'uint' ? 'String(v)' : field.kind === 'status' ? "(v === null ? 'null' : String(v))" : 'JSON.stringify(v)';
      return `v = e[${JSON.stringify(field.name)}]; if (v !== undefined) s += ${key} + ${value};`;
    });
    // Generated from the static schema table, never from input.
    const fn = new Function('e', `let v; let s = ${JSON.stringify(`{"type":${JSON.stringify(type)}`)};\n${parts.join('\n')}\nreturn s + '}';`) as Encoder;
    return [type, fn];
  }),
);

/** The reference encoding the generated encoders must match: the fields, in order, through JSON.stringify. */
export function encodeEventReference(e: EngineEvent): string {
  const src = e as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: e.type };
  for (const field of SCHEMAS[e.type] as readonly FieldSchema[]) {
    const v = src[field.name];
    if (v !== undefined) out[field.name] = v;
  }
  return JSON.stringify(out);
}

/** The event a line holds. Throws EventShapeError (bad JSON or bad event). */
export function decodeEvent(line: string): EngineEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new EventShapeError(`not JSON (${(err as Error).message})`);
  }
  const problem = checkEvent(value);
  if (problem !== null) throw new EventShapeError(problem);
  return value as EngineEvent;
}

export class EventShapeError extends Error {
  override name = 'EventShapeError';
}

// Kinds as small integers, fields as parallel arrays: the validator runs once per event of a
// replay, so it avoids string switches and per-call allocation.
const KIND_CODES: readonly FieldKind[] = ['uint', 'status', 'string', 'reason', 'true', 'method', 'headers', 'retry', 'config', 'settings'];
interface CompiledSchema {
  names: string[];
  kinds: Uint8Array;
  optional: Uint8Array;
}
const COMPILED = new Map<string, CompiledSchema>(
  Object.entries(SCHEMAS).map(([type, fields]) => [
    type,
    { names: fields.map((f) => f.name), kinds: Uint8Array.from(fields.map((f) => KIND_CODES.indexOf(f.kind))), optional: Uint8Array.from(fields.map((f) => (f.optional ? 1 : 0))) },
  ]),
);

/**
 * One validator per event type, generated from the schema table (the table stays the single
 * source): straight-line property reads on a known shape are several times faster than a loop
 * over field names, and replay runs this once per event. It only answers valid or not; on
 * "not", `explain` (below, the same rules written plainly) says what is wrong.
 */
type FastCheck = (o: Record<string, unknown>, fieldOk: (kind: number, v: unknown) => boolean) => boolean;
const FAST = new Map<string, FastCheck>(
  [...COMPILED].map(([type, { names, kinds, optional }]) => {
    const lines = names.map((name, i) => {
      const cond = kinds[i] === 0 ? 'Number.isSafeInteger(v) && v >= 0' : `ok(${kinds[i] as number}, v)`;
      const missing = optional[i] === 1 ? '' : 'return false;';
      return `v = o[${JSON.stringify(name)}]; if (v === undefined) { ${missing} } else { n++; if (!(${cond})) return false; }`;
    });
    // Generated from the static schema table, never from input.
    const fn = new Function('o', 'ok', `let v; let n = 1;\n${lines.join('\n')}\nreturn Object.keys(o).length === n;`) as FastCheck;
    return [type, fn];
  }),
);
const fieldOkByCode = (kind: number, v: unknown): boolean => fieldOk(KIND_CODES[kind] as FieldKind, v);

/** null when `value` is a valid event, else what is wrong with it. */
export function checkEvent(value: unknown): string | null {
  if (typeof value === 'object' && value !== null) {
    const fast = FAST.get((value as { type?: unknown }).type as string);
    if (fast !== undefined && !Array.isArray(value) && fast(value as Record<string, unknown>, fieldOkByCode)) return null;
  }
  return explain(value);
}

function explain(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const o = value as Record<string, unknown>;
  const type = o.type;
  const schema = typeof type === 'string' ? COMPILED.get(type) : undefined;
  if (schema === undefined) return `unknown event type ${JSON.stringify(type)}`;
  const { names, kinds, optional } = schema;
  let present = 1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const v = o[name];
    if (v === undefined) {
      if (optional[i] === 0) return `${type as string}: missing field ${name}`;
      continue;
    }
    present++;
    const kind = kinds[i] as number;
    // The common kind inline: a whole number ≥ 0.
    if (kind === 0 ? !(Number.isSafeInteger(v) && (v as number) >= 0) : !fieldOk(KIND_CODES[kind] as FieldKind, v)) {
      return `${type as string}: field ${name} is not ${kindText(KIND_CODES[kind] as FieldKind)}`;
    }
  }
  // Parsed JSON never holds undefined; an object built in memory may (an optional field set to undefined).
  let keys = Object.keys(o).length;
  if (keys !== present) for (const k in o) if (o[k] === undefined) keys--;
  if (keys !== present) {
    const known = new Set(['type', ...names]);
    const extra = Object.keys(o).filter((k) => !known.has(k));
    return `${type as string}: unknown field ${extra[0] ?? '?'}`;
  }
  return null;
}

function isUint(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function fieldOk(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'uint':
      return isUint(v);
    case 'status':
      return v === null || isUint(v);
    case 'string':
      return typeof v === 'string';
    case 'reason':
      return typeof v === 'string' && REASONS.has(v);
    case 'true':
      return v === true;
    case 'method':
      return typeof v === 'string' && METHODS.has(v);
    case 'headers':
      return Array.isArray(v) && v.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string');
    case 'retry':
      return isRetry(v);
    case 'config':
      return isConfig(v);
    case 'settings':
      return isSettings(v);
  }
}

function kindText(kind: FieldKind): string {
  switch (kind) {
    case 'uint': return 'a whole number ≥ 0';
    case 'status': return 'a whole number ≥ 0 or null';
    case 'string': return 'a string';
    case 'reason': return 'one of status, deadline, connection';
    case 'true': return 'true';
    case 'method': return 'an HTTP method';
    case 'headers': return 'a list of [name, value] string pairs';
    case 'retry': return 'retry parameters';
    case 'config': return 'a queue configuration';
    case 'settings': return 'engine settings';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);

function isRetry(v: unknown): v is RetryParameters {
  return (
    isObject(v) && isNumOrNull(v.task_retry_limit) && isNumOrNull(v.task_age_limit_seconds) &&
    isNum(v.min_backoff_seconds) && isNum(v.max_backoff_seconds) && isNum(v.max_doublings)
  );
}

function isQueue(v: unknown): v is QueueConfig {
  if (!isObject(v)) return false;
  const rate = v.rate_exact;
  return (
    typeof v.name === 'string' && (v.mode === 'push' || v.mode === 'pull') && (v.state === 'running' || v.state === 'paused') &&
    isNumOrNull(v.rate_per_second) && (rate === null || (isObject(rate) && isUint(rate.tokens) && isUint(rate.period_us) && (rate.period_us as number) > 0)) &&
    isNumOrNull(v.bucket_size) && isNumOrNull(v.max_concurrent_requests) && (v.target === null || typeof v.target === 'string') &&
    isRetry(v.retry_parameters)
  );
}

function isConfig(v: unknown): v is QueueFileConfig {
  return isObject(v) && isNumOrNull(v.total_storage_limit_bytes) && Array.isArray(v.queues) && v.queues.every(isQueue);
}

function isSettings(v: unknown): boolean {
  if (!isObject(v) || !isNum(v.tombstoneSeconds) || !isObject(v.targets)) return false;
  return Object.values(v.targets).every(
    (t) => isObject(t) && (t.scaling === 'automatic' || t.scaling === 'basic' || t.scaling === 'manual') && (t.url === undefined || typeof t.url === 'string'),
  );
}

/** Every event type, for tests and docs. */
export const EVENT_TYPES: readonly EngineEventType[] = ENGINE_EVENT_TYPES;
