/**
 * The log file format, in one place:
 *
 *   line 1      header     {"format":"pushq-events","version":2,"pushqVersion":..,"seed":..,"clock":..,"configHash":..}
 *   lines       events     one JSON object per line (codec.ts), the events of one engine step
 *   line        marker     {"commit":<batch no, from 1>,"n":<events in the batch>,"crc":"<8 hex>"}
 *   ... events, marker, events, marker ...
 *
 * The CRC-32 covers the bytes of the batch's event lines, newlines included, and nothing else:
 * one checksum per batch, not per line (DESIGN.md: per-line checksums double replay time). A
 * batch is complete when its marker is present and agrees (number in sequence, count, CRC).
 * The header holds no wall-clock time, so the same seed and inputs give the same bytes.
 *
 * Versions (LOG_FORMAT_VERSION, event-log.ts), all read, each appended to in its own layout:
 *   1  TaskAdded's options (name, url, ...) as top-level fields after `size`
 *   2  the same events, TaskAdded's options nested in one `options` object (schemas.ts derives
 *      each version's layout from the one event schema, src/core/event-schema.ts)
 * Markers and the header are the same in both.
 */
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader } from './event-log.js';
import { crc32Hex } from './crc32.js';
import { LogError } from './log-errors.js';
import { parseJsonObject } from '../core/json-object.js';

export function encodeHeader(h: LogHeader): string {
  return JSON.stringify({ format: h.format, version: h.version, pushqVersion: h.pushqVersion, seed: h.seed, clock: h.clock, configHash: h.configHash });
}

export function encodeMarker(batch: number, n: number, crc: number): string {
  return `{"commit":${batch},"n":${n},"crc":"${crc32Hex(crc)}"}`;
}

export interface Marker {
  commit: number;
  n: number;
  crc: string;
}

/** What parseMarkerBytes read (one reused object: the reader calls it once per batch). */
export const markerRead = { commit: 0, n: 0, crc: 0 };

/**
 * Parses a marker line from bytes [start, end) without building a string, exactly in the form
 * encodeMarker writes (so the bytes are canonical). Fills `markerRead`; false if malformed.
 */
const PREFIX_BYTES = Buffer.from('{"commit":');
const MID_BYTES = Buffer.from(',"n":');
const CRC_BYTES = Buffer.from(',"crc":"');

function matches(b: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let k = 0; k < want.length; k++) if (b[at + k] !== want[k]) return false;
  return true;
}

export function parseMarkerBytes(b: Uint8Array, start: number, end: number): boolean {
  // Shortest marker: {"commit":1,"n":1,"crc":"xxxxxxxx"} = 35 bytes.
  if (end - start < 35 || !matches(b, start, PREFIX_BYTES)) return false;
  let i = start + PREFIX_BYTES.length;
  let commit = 0;
  const commitStart = i;
  let c = b[i] as number;
  while (c >= 48 && c <= 57) {
    commit = commit * 10 + (c - 48);
    c = b[++i] as number;
  }
  if (i === commitStart || i - commitStart > 16 || commit > Number.MAX_SAFE_INTEGER || b[commitStart] === 48 || !matches(b, i, MID_BYTES)) return false;
  i += MID_BYTES.length;
  let n = 0;
  const nStart = i;
  c = b[i] as number;
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    c = b[++i] as number;
  }
  if (i === nStart || i - nStart > 16 || n > Number.MAX_SAFE_INTEGER || b[nStart] === 48 || !matches(b, i, CRC_BYTES)) return false;
  i += CRC_BYTES.length;
  if (end - i !== 10) return false;
  let crc = 0;
  for (let k = 0; k < 8; k++) {
    c = b[i++] as number;
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (v < 0) return false;
    crc = crc * 16 + v;
  }
  if (b[i] !== 0x22 || b[i + 1] !== 0x7d) return false;
  markerRead.commit = commit;
  markerRead.n = n;
  markerRead.crc = crc;
  return true;
}

/** The marker a line holds, or null if it is not a well-formed marker. */
export function parseMarker(line: string): Marker | null {
  const m = parseJsonObject(line);
  if (m === null) return null;
  if (Object.keys(m).length !== 3) return null;
  if (!Number.isSafeInteger(m.commit) || (m.commit as number) < 1) return null;
  if (!Number.isSafeInteger(m.n) || (m.n as number) < 1) return null;
  if (typeof m.crc !== 'string' || !/^[0-9a-f]{8}$/.test(m.crc)) return null;
  return m as unknown as Marker;
}

/** The header a first line holds; a LogError (not a pushq log, or too new) otherwise. */
export function decodeHeader(line: string, file: string): LogHeader {
  const h = parseJsonObject(line);
  if (h === null || h.format !== LOG_FORMAT) {
    throw new LogError('LOG_NOT_PUSHQ', `${file}: not a pushq event log (the first line is not a pushq-events header)`, { file, line: 1, offset: 0 });
  }
  if (!Number.isSafeInteger(h.version) || (h.version as number) < 1) {
    throw new LogError('LOG_NOT_PUSHQ', `${file}: the log header has no valid format version`, { file, line: 1, offset: 0 });
  }
  if ((h.version as number) > LOG_FORMAT_VERSION) {
    throw new LogError('LOG_VERSION_NEWER', `${file}: log format version ${h.version as number} is newer than this pushq (${LOG_FORMAT_VERSION})`, { file, line: 1, offset: 0 });
  }
  if (typeof h.pushqVersion !== 'string' || typeof h.seed !== 'number' || (h.clock !== 'virtual' && h.clock !== 'wall') || typeof h.configHash !== 'string') {
    throw new LogError('LOG_NOT_PUSHQ', `${file}: the log header is incomplete (needs pushqVersion, seed, clock, configHash)`, { file, line: 1, offset: 0 });
  }
  return { format: LOG_FORMAT, version: h.version as number, pushqVersion: h.pushqVersion, seed: h.seed, clock: h.clock, configHash: h.configHash };
}
