/**
 * The fields each request body of the API may hold, as in the Cloud Tasks v2 protos, and the check
 * that refuses any other: Cloud Tasks answers an unknown field with INVALID_ARGUMENT, so a typo
 * (`relativeUrl` for `relativeUri`) must not be dropped quietly and the task sent to `/`.
 *
 * proto3 JSON admits each field under its lowerCamelCase name and under its proto name
 * (`relative_uri`); `normalizeFields` returns a copy that uses the camelCase names only, so the
 * rest of the API reads one spelling. Output-only fields (`createTime`, `dispatchCount`, ...) are
 * known, so a Task read back and sent again is accepted; like Cloud Tasks, pushq ignores them.
 *
 * Only the names are checked here; the values are checked where they are read (resources.ts).
 */
import { closestKey } from '../config/suggest.js';
import { ApiError } from './errors.js';

/** A field's value: a message (its fields checked in turn), a map (any keys), or anything else. */
type FieldKind = MessageSchema | 'map' | 'value';

export interface MessageSchema {
  readonly fields: Readonly<Record<string, FieldKind>>;
}

const message = (fields: Record<string, FieldKind>): MessageSchema => ({ fields });

/** google.protobuf.Timestamp and Duration: a string, or pushq's `{seconds, nanos}` object form. */
const SECONDS_NANOS = message({ seconds: 'value', nanos: 'value' });

const ATTEMPT = message({
  scheduleTime: SECONDS_NANOS,
  dispatchTime: SECONDS_NANOS,
  responseTime: SECONDS_NANOS,
  responseStatus: message({ code: 'value', message: 'value', details: 'value' }),
});

const APP_ENGINE_ROUTING = message({ service: 'value', version: 'value', instance: 'value', host: 'value' });

const APP_ENGINE_HTTP_REQUEST = message({
  httpMethod: 'value',
  appEngineRouting: APP_ENGINE_ROUTING,
  relativeUri: 'value',
  headers: 'map',
  body: 'value',
});

const HTTP_REQUEST = message({
  url: 'value',
  httpMethod: 'value',
  headers: 'map',
  body: 'value',
  oauthToken: message({ serviceAccountEmail: 'value', scope: 'value' }),
  oidcToken: message({ serviceAccountEmail: 'value', audience: 'value' }),
});

const TASK = message({
  name: 'value',
  appEngineHttpRequest: APP_ENGINE_HTTP_REQUEST,
  httpRequest: HTTP_REQUEST,
  scheduleTime: SECONDS_NANOS,
  createTime: SECONDS_NANOS,
  dispatchDeadline: SECONDS_NANOS,
  dispatchCount: 'value',
  responseCount: 'value',
  firstAttempt: ATTEMPT,
  lastAttempt: ATTEMPT,
  view: 'value',
});

/**
 * The request bodies, by call. The resource a call acts on (`parent`, `name`) is in the URL; a
 * copy in the body is known (REST transcoding allows it) and must name the same resource.
 */
export const REQUEST_BODIES = {
  createTask: message({ parent: 'value', task: TASK, responseView: 'value' }),
  runTask: message({ name: 'value', responseView: 'value' }),
  /** PauseQueue, ResumeQueue, PurgeQueue, DeleteTask: nothing but the resource's name. */
  named: message({ name: 'value' }),
  /** pushq's own commands (reload). */
  empty: message({}),
} as const;

/** The fields that repeat the URL's resource name. */
export const PATH_FIELDS = ['parent', 'name'] as const;

/** `path.key`, or `path["key"]` for a key that is not a plain name (empty, dotted, spaced). */
function pathTo(path: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A JSON field name as its proto spells it (`pageSize` → `page_size`): the name a BadRequest gives. */
export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `body` with every field of `schema` (at any depth) under its camelCase name, or an
 * INVALID_ARGUMENT naming the first unknown field by its path as the client wrote it
 * (`task.appEngineHttpRequest.relativeUrl`). A value that is not an object where a message is
 * expected is left as it is, for the reader of that field to refuse with its own message.
 */
export function normalizeFields(body: unknown, schema: MessageSchema): unknown {
  return normalize(body, schema, '');
}

function normalize(value: unknown, schema: MessageSchema, path: string): unknown {
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  const names = Object.keys(schema.fields);
  for (const [key, v] of Object.entries(value)) {
    const name = Object.hasOwn(schema.fields, key) ? key : names.find((n) => snakeCase(n) === key);
    const at = pathTo(path, key);
    if (name === undefined) {
      throw new ApiError('UNKNOWN_FIELD', `unknown field ${at}${hintFor(key, names)}`, at);
    }
    if (Object.hasOwn(out, name)) throw new ApiError('INVALID_FIELD', `field ${at} is given twice (as ${name} and as ${snakeCase(name)})`, at);
    const kind = schema.fields[name] as FieldKind;
    out[name] = typeof kind === 'object' ? normalize(v, kind, at) : v;
  }
  return out;
}

function hintFor(key: string, names: readonly string[]): string {
  const near = closestKey(key, names);
  if (near !== null) return ` (did you mean ${near}?)`;
  if (names.length === 0) return ': this call takes no fields';
  return names.length <= 4 ? `: the fields here are ${names.join(', ')}` : '';
}

