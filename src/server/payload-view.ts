/**
 * A task's request as its worker receives it (method, URL, headers) and its payload decoded for
 * reading: JSON pretty-printed, other UTF-8 text as it is, anything else as a hex dump. Read from
 * the task's TaskAdded options (TaskMeta), so a task that ended long ago still shows them.
 *
 * The text is data, never markup: the dashboard writes it with textContent. Long payloads are cut
 * (PAYLOAD_SHOWN_BYTES_MAX), and say so.
 */
import { isUtf8 } from 'node:buffer';
import type { TaskMeta } from '../core/task-table.js';
import { defaultTaskUrl } from '../core/task-spec.js';

/** Bytes of a payload decoded for the page; the rest is counted, not shown. */
export const PAYLOAD_SHOWN_BYTES_MAX = 16_384;

export interface RequestView {
  method: string;
  url: string;
  headers: [string, string][];
  /** The App Engine service (and version) it is routed to; null for the queue's or the default. */
  target: string | null;
}

export interface PayloadView {
  /** `none`: no payload; `modelled`: a simulated payload of `bytes` bytes with no content. */
  kind: 'none' | 'json' | 'text' | 'binary' | 'modelled';
  bytes: number;
  /** JSON pretty-printed, the text, or a hex dump (offset, 16 bytes, their ASCII); '' for none and modelled. */
  text: string;
  /** Only the first PAYLOAD_SHOWN_BYTES_MAX bytes are in `text`. */
  truncated: boolean;
}

export function requestView(meta: TaskMeta | undefined, queue: string): RequestView {
  return { method: meta?.method ?? 'POST', url: meta?.httpUrl ?? meta?.url ?? defaultTaskUrl(queue), headers: meta?.headers === undefined ? [] : meta.headers.map(([k, v]) => [k, v]), target: meta?.target ?? null };
}

export function payloadView(meta: TaskMeta | undefined): PayloadView {
  if (meta?.body === undefined) {
    const modelled = meta?.bodyBytes;
    return modelled === undefined || modelled === 0 ? { kind: 'none', bytes: 0, text: '', truncated: false } : { kind: 'modelled', bytes: modelled, text: '', truncated: false };
  }
  const bytes = Buffer.from(meta.body, 'base64');
  if (bytes.length === 0) return { kind: 'none', bytes: 0, text: '', truncated: false };
  const truncated = bytes.length > PAYLOAD_SHOWN_BYTES_MAX;
  if (isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    if (!truncated) {
      try {
        return { kind: 'json', bytes: bytes.length, text: JSON.stringify(JSON.parse(text), null, 2), truncated: false };
      } catch {
        // not JSON: shown as text
      }
    }
    return { kind: 'text', bytes: bytes.length, text: truncated ? cutUtf8(bytes) : text, truncated };
  }
  return { kind: 'binary', bytes: bytes.length, text: hexDump(bytes.subarray(0, PAYLOAD_SHOWN_BYTES_MAX)), truncated };
}

/** The first PAYLOAD_SHOWN_BYTES_MAX bytes as text, not splitting a character. */
function cutUtf8(bytes: Buffer): string {
  let end = PAYLOAD_SHOWN_BYTES_MAX;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

/** `00000000  7b 22 61 22 ...  |{"a"...|`, 16 bytes a line. */
function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}
