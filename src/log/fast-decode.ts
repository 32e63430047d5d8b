/**
 * A fast path for decoding the frequent event lines straight from bytes, for replay.
 *
 * INVARIANT: `fastDecode(b, start, end)` returns exactly what `JSON.parse` + `checkEvent` (codec.ts)
 * return for the line b[start, end) (same keys, same key order, same values), or null, and then the
 * caller falls back to that path, so error messages, corruption detection and validation are
 * the codec's alone. It never accepts a line that path would reject.
 *
 * It is strict: it accepts only the exact bytes `encodeEvent` writes for these types (schemas.ts
 * order, no whitespace, integers as canonical digits 0 or [1-9][0-9]* up to 2^53 - 1, strings of
 * printable ASCII without escapes). So an accepted line is also the canonical encoding of the
 * value returned: `encodeEvent(fastDecode(line)) === line`. Anything else (another key order, an
 * extra or missing key, spaces, escapes, 1e3, 01, -0, 1.0, a number beyond 2^53, a type not
 * handled here such as ConfigApplied, or TaskAdded with optional fields) returns null.
 *
 * Handled: TaskAdded (type,t,id,queue,eta,size only: any optional field, dispatchDeadlineUs
 * included, falls back, since `close` demands the brace right after size), AttemptDispatched (forced or not),
 * AttemptSucceeded, AttemptFailed and TaskGaveUp (with or without error), BackoffElapsed,
 * AttemptOrphaned, TaskDeleted. The rest always fall back.
 *
 * Speed: one pass over the bytes with no intermediate string; queue names, which repeat, come
 * from a small cache instead of a new string per event.
 */
import type { EngineEvent } from '../core/events.js';

const lit = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const PREFIX = lit('{"type":"'); // 9 bytes
const K_ID = lit(',"id":');
const K_QUEUE = lit(',"queue":');
const K_ETA = lit(',"eta":');
const K_SIZE = lit(',"size":');
const K_STATUS = lit(',"status":');
const K_REASON = lit(',"reason":');
const K_ERROR = lit(',"error":');
const K_LATENCY = lit(',"latencyUs":');
const K_RETRY = lit(',"retry":');
const K_DELAY = lit(',"delayUs":');
const K_RETRY_AT = lit(',"retryAt":');
const FORCED_END = lit(',"forced":true}');
const NULL = lit('null');

// The rest of each type name after the prefix, up to and including the first key.
const T_TASK_ADDED = lit('TaskAdded","t":');
const T_TASK_GAVE_UP = lit('TaskGaveUp","t":');
const T_TASK_DELETED = lit('TaskDeleted","t":');
const T_DISPATCHED = lit('AttemptDispatched","t":');
const T_SUCCEEDED = lit('AttemptSucceeded","t":');
const T_FAILED = lit('AttemptFailed","t":');
const T_ORPHANED = lit('AttemptOrphaned","t":');
const T_BACKOFF = lit('BackoffElapsed","t":');

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

/** See the header: the event on line b[start, lineEnd), exactly as JSON.parse + checkEvent give it, or null. */
export function fastDecode(b: Buffer, start: number, lineEnd: number): EngineEvent | null {
  at = start;
  end = lineEnd;
  if (!match(b, PREFIX)) return null;
  switch (b[at]) {
    case 0x41: // A
      switch (b[at + 7]) {
        case 0x44: return dispatched(b);
        case 0x53: return succeeded(b);
        case 0x46: return failed(b);
        case 0x4f: return orphaned(b);
        default: return null;
      }
    case 0x54: // T
      switch (b[at + 4]) {
        case 0x41: return taskAdded(b);
        case 0x47: return gaveUp(b);
        case 0x44: return deleted(b);
        default: return null;
      }
    case 0x42: // B
      return backoff(b);
    default:
      return null;
  }
}

function taskAdded(b: Buffer): EngineEvent | null {
  if (!match(b, T_TASK_ADDED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !match(b, K_QUEUE)) return null;
  const queue = simpleString(b, true);
  if (queue === null || !match(b, K_ETA)) return null;
  const eta = uint(b);
  if (eta < 0 || !match(b, K_SIZE)) return null;
  const size = uint(b);
  if (size < 0 || !close(b)) return null;
  return { type: 'TaskAdded', t, id, queue, eta, size };
}

function dispatched(b: Buffer): EngineEvent | null {
  if (!match(b, T_DISPATCHED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0) return null;
  if (close(b)) return { type: 'AttemptDispatched', t, id };
  if (match(b, FORCED_END) && at === end) return { type: 'AttemptDispatched', t, id, forced: true };
  return null;
}

function succeeded(b: Buffer): EngineEvent | null {
  if (!match(b, T_SUCCEEDED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !match(b, K_STATUS)) return null;
  const status = uint(b);
  if (status < 0 || !match(b, K_LATENCY)) return null;
  const latencyUs = uint(b);
  if (latencyUs < 0 || !close(b)) return null;
  return { type: 'AttemptSucceeded', t, id, status, latencyUs };
}

function failed(b: Buffer): EngineEvent | null {
  if (!match(b, T_FAILED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !match(b, K_STATUS)) return null;
  const s = status(b);
  if (s === NO || !match(b, K_REASON)) return null;
  const r = reason(b);
  if (r === null) return null;
  let error: string | null = null;
  if (match(b, K_ERROR)) {
    error = simpleString(b, false);
    if (error === null) return null;
  }
  if (!match(b, K_LATENCY)) return null;
  const latencyUs = uint(b);
  if (latencyUs < 0 || !match(b, K_RETRY)) return null;
  const retry = uint(b);
  if (retry < 0 || !match(b, K_DELAY)) return null;
  const delayUs = uint(b);
  if (delayUs < 0 || !match(b, K_RETRY_AT)) return null;
  const retryAt = uint(b);
  if (retryAt < 0 || !close(b)) return null;
  const st = s === NULL_STATUS ? null : s;
  return error === null
    ? { type: 'AttemptFailed', t, id, status: st, reason: r, latencyUs, retry, delayUs, retryAt }
    : { type: 'AttemptFailed', t, id, status: st, reason: r, error, latencyUs, retry, delayUs, retryAt };
}

function gaveUp(b: Buffer): EngineEvent | null {
  if (!match(b, T_TASK_GAVE_UP)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !match(b, K_STATUS)) return null;
  const s = status(b);
  if (s === NO || !match(b, K_REASON)) return null;
  const r = reason(b);
  if (r === null) return null;
  let error: string | null = null;
  if (match(b, K_ERROR)) {
    error = simpleString(b, false);
    if (error === null) return null;
  }
  if (!match(b, K_LATENCY)) return null;
  const latencyUs = uint(b);
  if (latencyUs < 0 || !close(b)) return null;
  const st = s === NULL_STATUS ? null : s;
  return error === null
    ? { type: 'TaskGaveUp', t, id, status: st, reason: r, latencyUs }
    : { type: 'TaskGaveUp', t, id, status: st, reason: r, error, latencyUs };
}

function orphaned(b: Buffer): EngineEvent | null {
  if (!match(b, T_ORPHANED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !match(b, K_STATUS)) return null;
  const s = status(b);
  if (s === NO || !match(b, K_LATENCY)) return null;
  const latencyUs = uint(b);
  if (latencyUs < 0 || !close(b)) return null;
  return { type: 'AttemptOrphaned', t, id, status: s === NULL_STATUS ? null : s, latencyUs };
}

function backoff(b: Buffer): EngineEvent | null {
  if (!match(b, T_BACKOFF)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !close(b)) return null;
  return { type: 'BackoffElapsed', t, id };
}

function deleted(b: Buffer): EngineEvent | null {
  if (!match(b, T_TASK_DELETED)) return null;
  const t = uint(b);
  if (t < 0 || !match(b, K_ID)) return null;
  const id = uint(b);
  if (id < 0 || !close(b)) return null;
  return { type: 'TaskDeleted', t, id };
}
