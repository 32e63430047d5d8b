/**
 * The codec's validator (STYLE §5: validate an event before writing it and after reading it),
 * generated from field schemas (src/core/event-schema.ts): an object is valid when every required
 * field is there, every field present has its kind, and there is no other key.
 *
 * Two halves with one set of rules: `checkFields` answers valid or not with a straight-line
 * function generated at load per field list (property reads on a known shape are several times
 * faster than a loop over names, and replay runs it once per event); on "not", `explainFields`
 * (the same rules as a plain loop) says what is wrong. Each kind's check is `fieldOk`.
 */
import { TASK_OPTION_SCHEMAS, type FieldKind, type FieldSchema } from '../core/event-schema.js';
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../core/queue-config.js';

/** Each kind, as an error message names it. The key order gives each kind its code. */
const KIND_TEXT: Readonly<Record<FieldKind, string>> = {
  uint: 'a whole number ≥ 0',
  us: 'a whole number ≥ 0',
  status: 'a whole number ≥ 0 or null',
  queue: 'a string',
  string: 'a string',
  reason: 'one of status, deadline, connection',
  true: 'true',
  method: 'an HTTP method',
  headers: 'a list of [name, value] string pairs',
  retry: 'retry parameters',
  config: 'a queue configuration',
  settings: 'engine settings',
  options: 'task options (an object with at least one of its fields)',
};
const KIND_CODES = Object.keys(KIND_TEXT) as FieldKind[];
const UINT = KIND_CODES.indexOf('uint');
const US = KIND_CODES.indexOf('us');

export interface CompiledFields {
  readonly fields: readonly FieldSchema[];
  /** Keys a valid object may hold besides the fields (`type` for an event). */
  readonly extraKeys: number;
  readonly fast: (o: Record<string, unknown>, ok: (kind: number, v: unknown) => boolean) => boolean;
}

/** The generated check of an object with these fields (and `extraKeys` other keys, checked by the caller). */
export function compileChecks(fields: readonly FieldSchema[], extraKeys: number): CompiledFields {
  const lines = fields.map((f) => {
    const code = KIND_CODES.indexOf(f.kind);
    const cond = code === UINT || code === US ? 'Number.isSafeInteger(v) && v >= 0' : `ok(${code}, v)`;
    return `v = o[${JSON.stringify(f.name)}]; if (v === undefined) { ${f.optional ? '' : 'return false;'} } else { n++; if (!(${cond})) return false; }`;
  });
  // Generated from the static schema table, never from input.
  const fast = new Function('o', 'ok', `let v; let n = ${extraKeys};\n${lines.join('\n')}\nreturn Object.keys(o).length === n;`) as CompiledFields['fast'];
  return { fields, extraKeys, fast };
}

const okByCode = (kind: number, v: unknown): boolean => fieldOk(KIND_CODES[kind] as FieldKind, v);

export function checkFields(c: CompiledFields, o: Record<string, unknown>): boolean {
  return c.fast(o, okByCode);
}

/** What is wrong with `o` (an object), as "<label>: ...", or null if nothing is. */
export function explainFields(c: CompiledFields, o: Record<string, unknown>, label: string, path = ''): string | null {
  let present = c.extraKeys;
  for (const f of c.fields) {
    const v = o[f.name];
    if (v === undefined) {
      if (!f.optional) return `${label}: missing field ${path}${f.name}`;
      continue;
    }
    present++;
    if (f.kind === 'options' && isObject(v)) {
      const inner = explainFields(OPTIONS, v, label, `${path}${f.name}.`);
      if (inner !== null) return inner;
      if (definedKeys(v) === 0) return `${label}: field ${path}${f.name} is empty (leave it out instead)`;
    } else if (!fieldOk(f.kind, v)) {
      return `${label}: field ${path}${f.name} is not ${KIND_TEXT[f.kind]}`;
    }
  }
  // Parsed JSON never holds undefined; an object built in memory may (an optional field set to undefined).
  if (definedKeys(o) !== present) {
    const known = new Set(['type', ...c.fields.map((f) => f.name)]);
    const extra = Object.keys(o).filter((k) => !known.has(k));
    return `${label}: unknown field ${path}${extra[0] ?? '?'}`;
  }
  return null;
}

const OPTIONS = compileChecks(TASK_OPTION_SCHEMAS, 0);

function definedKeys(o: Record<string, unknown>): number {
  let n = 0;
  for (const k in o) if (o[k] !== undefined) n++;
  return n;
}

const METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const REASONS = new Set(['status', 'deadline', 'connection']);

function fieldOk(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'uint':
    case 'us':
      return isUint(v);
    case 'status':
      return v === null || isUint(v);
    case 'queue':
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
    case 'options':
      // Canonical: a task without options has none (the key is left out), never `{}`.
      return isObject(v) && checkFields(OPTIONS, v) && Object.keys(v).length > 0;
  }
}

function isUint(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
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
  if (!isObject(v) || !isNum(v.tombstoneSeconds) || !isObject(v.targets) || (v.devServer !== undefined && v.devServer !== true)) return false;
  return Object.values(v.targets).every(
    (t) => isObject(t) && (t.scaling === 'automatic' || t.scaling === 'basic' || t.scaling === 'manual') && (t.url === undefined || typeof t.url === 'string'),
  );
}
