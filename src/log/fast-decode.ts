/**
 * A fast path for decoding the frequent event lines straight from bytes, for replay.
 *
 * INVARIANT: `fastDecode(b, start, end)` returns exactly what `JSON.parse` + `checkEvent` (codec.ts)
 * return for the line b[start, end) (same keys, same key order, same values), or null, and then the
 * caller falls back to that path, so error messages, corruption detection and validation are
 * the codec's alone. It never accepts a line that path would reject.
 *
 * It is strict: it accepts only the exact bytes `encodeEvent` writes (schema order, no
 * whitespace, integers as canonical digits 0 or [1-9][0-9]* up to 2^53 - 1, strings of printable
 * ASCII without escapes). So an accepted line is also the canonical encoding of the value
 * returned: `encodeEvent(fastDecode(line)) === line`. Anything else (another key order, an extra
 * or missing key, spaces, escapes, 1e3, 01, -0, 1.0, a number beyond 2^53) returns null.
 *
 * Derived from the schema table (src/core/event-schema.ts): one matcher per event type, generated
 * at load as straight-line code (match the key's bytes, read the value, ... close), and a
 * dispatcher that tells the types apart by a few bytes of their names. Kinds it reads: integers,
 * statuses, reasons, strings, `true`. A type with a required field of another kind (ConfigApplied)
 * always falls back; an optional field of another kind (TaskAdded's options) makes the line fall
 * back when it is present. The types handled are FAST_DECODED_TYPES.
 *
 * Format versions: every line it accepts is the same bytes in each version this pushq reads
 * (schemas.ts: only TaskAdded's options differ), so it serves them all.
 *
 * Speed: one pass over the bytes with no intermediate string; queue names, which repeat, come
 * from a small cache instead of a new string per event.
 */
import { EVENT_SCHEMAS, type EngineEventType, type FieldKind, type FieldSchema } from '../core/event-schema.js';
import type { EngineEvent } from '../core/events.js';

const lit = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const PREFIX = lit('{"type":"'); // then the type's name
const NULL = lit('null');
const TRUE = lit('true');
const R_STATUS = lit('"status"');
const R_DEADLINE = lit('"deadline"');
const R_CONNECTION = lit('"connection"');

const MAX_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits
const NO = -1;
const NULL_STATUS = -2;

/** The read position: each reader below advances it, or answers NO (the line is not for the fast path). */
let at = 0;
let end = 0;

function match(b: Uint8Array, want: Uint8Array): boolean {
  const n = want.length;
  if (at + n > end) return false;
  for (let k = 0; k < n; k++) if (b[at + k] !== want[k]) return false;
  at += n;
  return true;
}

/** A canonical integer 0 ≤ v ≤ 2^53 - 1, or NO. */
function uint(b: Uint8Array): number {
  let c = b[at] as number;
  if (c === 0x30) {
    // "0" alone: a leading zero ("01") is not JSON, and "0.5", "0e1" are not for the fast path.
    at++;
    c = b[at] as number;
    return c >= 0x30 && c <= 0x39 ? NO : 0;
  }
  const from = at;
  let v = 0;
  while (c >= 0x30 && c <= 0x39 && at < end) {
    v = v * 10 + (c - 0x30);
    c = b[++at] as number;
  }
  // Digits stop at the next key's comma or the closing brace (a '.', 'e' or anything else: NO).
  if (at === from || at - from > MAX_DIGITS || v > Number.MAX_SAFE_INTEGER) return NO;
  return v;
}

/** `null` (NULL_STATUS) or a uint, or NO. */
function status(b: Uint8Array): number {
  if (b[at] === 0x6e) return match(b, NULL) ? NULL_STATUS : NO;
  return uint(b);
}

function reason(b: Uint8Array): 'status' | 'deadline' | 'connection' | null {
  switch (b[at + 1]) {
    case 0x73: return match(b, R_STATUS) ? 'status' : null;
    case 0x64: return match(b, R_DEADLINE) ? 'deadline' : null;
    case 0x63: return match(b, R_CONNECTION) ? 'connection' : null;
    default: return null;
  }
}

function flag(b: Uint8Array): true | null {
  return match(b, TRUE) ? true : null;
}

// Queue names by a hash of their bytes, checked byte for byte on a hit (a collision just makes a new string).
const QUEUE_CACHE = new Map<number, string>();
const QUEUE_CACHE_MAX = 1024;

/**
 * A string of printable ASCII (0x20 to 0x7e) without '"' or '\', quotes included, or null. Such a
 * string means the same in latin1, UTF-8 and JSON, and JSON.stringify writes it back verbatim.
 */
function simpleString(b: Buffer, cache: boolean): string | null {
  if (b[at] !== 0x22) return null;
  const from = ++at;
  let h = 0;
  let c = b[at] as number;
  while (c !== 0x22) {
    if (c < 0x20 || c > 0x7e || c === 0x5c || at >= end) return null;
    h = (Math.imul(h, 31) + c) | 0;
    c = b[++at] as number;
  }
  if (at >= end) return null;
  const to = at++;
  if (!cache) return b.toString('latin1', from, to);
  const known = QUEUE_CACHE.get(h);
  if (known !== undefined && known.length === to - from) {
    let same = true;
    for (let k = 0; k < known.length; k++) {
      if (known.charCodeAt(k) !== b[from + k]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const s = b.toString('latin1', from, to);
  if (known === undefined && QUEUE_CACHE.size < QUEUE_CACHE_MAX) QUEUE_CACHE.set(h, s);
  return s;
}

/** The closing brace, and nothing after it on the line. */
function close(b: Uint8Array): boolean {
  return b[at] === 0x7d && at + 1 === end;
}

// ---- generated from the schema table ---------------------------------------------------------------

/** How a kind is read: the reader call, the test that it failed, and the value from the read. */
interface Reader {
  read: string;
  failed: (v: string) => string;
  value: (v: string) => string;
}

function readerFor(kind: FieldKind): Reader | null {
  const as = (v: string): string => v;
  switch (kind) {
    case 'us':
    case 'uint':
      return { read: 'uint(b)', failed: (v) => `${v} < 0`, value: as };
    case 'status':
      return { read: 'status(b)', failed: (v) => `${v} === ${NO}`, value: (v) => `(${v} === ${NULL_STATUS} ? null : ${v})` };
    case 'reason':
      return { read: 'reason(b)', failed: (v) => `${v} === null`, value: as };
    case 'queue':
      return { read: 'str(b, true)', failed: (v) => `${v} === null`, value: as };
    case 'string':
      return { read: 'str(b, false)', failed: (v) => `${v} === null`, value: as };
    case 'true':
      return { read: 'flag(b)', failed: (v) => `${v} === null`, value: as };
    case 'method':
    case 'headers':
    case 'retry':
    case 'config':
    case 'settings':
    case 'options':
      return null;
  }
}

/** Beyond this many optional fields a type is left to the codec (each combination is one object literal). */
const OPTIONAL_READ_MAX = 2;

const HELPERS = { match, uint, status, reason, flag, str: simpleString, close };
type Decoder = (b: Buffer) => EngineEvent | null;

/**
 * The matcher of one type, or null if the type is left to the codec. It starts right after the
 * prefix, at the type's name, and checks every byte from there to the closing brace.
 */
function compileDecoder(type: string, fields: readonly FieldSchema[]): Decoder | null {
  const literals: Uint8Array[] = [];
  const lines: string[] = [];
  let pending = `${type}"`; // bytes still to match, merged until the next read
  const flush = (): string => {
    literals.push(lit(pending));
    pending = '';
    return `L${literals.length - 1}`;
  };
  const present: { name: string; v: string; value: string }[] = [];
  const optionalRead: number[] = [];
  for (const [i, f] of fields.entries()) {
    const key = `,${JSON.stringify(f.name)}:`;
    const r = readerFor(f.kind);
    if (r === null) {
      // A field of a kind not read here: its bytes do not match what follows, so the line falls back.
      if (f.optional) continue;
      return null;
    }
    const v = `f${i}`;
    if (f.optional) {
      const before = pending === '' ? '' : `if (!match(b, ${flush()})) return null; `;
      pending = key;
      lines.push(`${before}let ${v}; if (match(b, ${flush()})) { ${v} = ${r.read}; if (${r.failed(v)}) return null; }`);
      optionalRead.push(present.length);
    } else {
      pending += key;
      lines.push(`if (!match(b, ${flush()})) return null; const ${v} = ${r.read}; if (${r.failed(v)}) return null;`);
    }
    present.push({ name: f.name, v, value: r.value(v) });
  }
  if (optionalRead.length > OPTIONAL_READ_MAX) return null;
  if (pending !== '') lines.push(`if (!match(b, ${flush()})) return null;`);
  lines.push('if (!close(b)) return null;');
  // One object literal per combination of optional fields present, so each has one fixed shape.
  for (let mask = (1 << optionalRead.length) - 1; mask >= 0; mask--) {
    const has = (k: number): boolean => (mask & (1 << k)) !== 0;
    const keys = present.filter((_, j) => !optionalRead.includes(j) || has(optionalRead.indexOf(j)));
    const literal = `{ type: ${JSON.stringify(type)}, ${keys.map((p) => `${JSON.stringify(p.name)}: ${p.value}`).join(', ')} }`;
    const cond = optionalRead.map((j, k) => `${present[j]!.v} ${has(k) ? '!==' : '==='} undefined`).join(' && ');
    lines.push(mask === 0 || cond === '' ? `return ${literal};` : `if (${cond}) return ${literal};`);
  }
  const names = [...Object.keys(HELPERS), ...literals.map((_, k) => `L${k}`)];
  // Generated from the static schema table, never from input.
  const factory = new Function(...names, `'use strict';\nreturn function ${type}(b) {\n${lines.join('\n')}\n};`) as (...args: unknown[]) => Decoder;
  return factory(...Object.values(HELPERS), ...literals);
}

/**
 * A switch on the fewest bytes that tell `names` apart (each name with its closing quote), read
 * at `a` + offset; each leaf calls that type's matcher, which checks the whole name.
 */
function dispatchCode(names: readonly string[], index: (name: string) => number): string {
  if (names.length === 1) return `return D${index(names[0] as string)}(b);`;
  const shortest = Math.min(...names.map((n) => n.length));
  let best = -1;
  let groups = new Map<number, string[]>();
  for (let p = 0; p < shortest; p++) {
    const g = new Map<number, string[]>();
    for (const n of names) g.set(n.charCodeAt(p), [...(g.get(n.charCodeAt(p)) ?? []), n]);
    if (g.size > groups.size) {
      best = p;
      groups = g;
    }
  }
  if (groups.size < 2) throw new Error(`fast-decode: cannot tell ${names.join(', ')} apart`);
  const cases = [...groups].map(([c, group]) => `case ${c}: ${dispatchCode(group, index)}`);
  return `switch (b[a + ${best}]) {\n${cases.join('\n')}\ndefault: return null;\n}`;
}

function compileAll(): { dispatch: (b: Buffer, a: number) => EngineEvent | null; types: EngineEventType[] } {
  const types: EngineEventType[] = [];
  const decoders: Decoder[] = [];
  for (const [type, fields] of Object.entries(EVENT_SCHEMAS) as [EngineEventType, readonly FieldSchema[]][]) {
    const d = compileDecoder(type, fields);
    if (d === null) continue;
    types.push(type);
    decoders.push(d);
  }
  const names = types.map((t) => `${t}"`);
  const body = dispatchCode(names, (n) => names.indexOf(n));
  // Generated from the static schema table, never from input.
  const factory = new Function(...decoders.map((_, k) => `D${k}`), `'use strict';\nreturn function dispatch(b, a) {\n${body}\n};`);
  return { dispatch: factory(...decoders) as (b: Buffer, a: number) => EngineEvent | null, types };
}

const COMPILED = compileAll();
const dispatch = COMPILED.dispatch;

/** The event types whose lines the fast path takes (the others always fall back). */
export const FAST_DECODED_TYPES: readonly EngineEventType[] = COMPILED.types;

/** See the header: the event on line b[start, lineEnd), exactly as JSON.parse + checkEvent give it, or null. */
export function fastDecode(b: Buffer, start: number, lineEnd: number): EngineEvent | null {
  at = start;
  end = lineEnd;
  if (!match(b, PREFIX)) return null;
  return dispatch(b, at);
}
