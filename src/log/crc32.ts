/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial 0xEDB88320) of the log's batches: Node's own
 * `zlib.crc32` (native, in Node since 20.15; pushq needs ≥ 20.19), so the log's checksums are
 * the standard ones any zlib computes (test/log/crc32.test.ts pins known values).
 *
 * Invariant: a CRC can be continued: `crc32(b, j, k, crc32(b, i, j)) === crc32(b, i, k)`, so a
 * reader whose buffer moves in the middle of a batch carries the CRC of the part it has seen.
 *
 * Cost: each call crosses into C++ and needs a view of the range (~0.15-0.2 µs a call, whatever
 * the length), so callers make one call per batch (or per buffer refill), never one per line.
 * For the short batches a simulation writes (~130 bytes) that is slower than the table code this
 * replaced: replaying a 1.07 M-event log (816 k batches) took ~0.18 s more CPU (scan alone 0.46 s
 * -> 0.65 s, measured A/B on a loaded 2-core machine); the replay stays below the cost of just
 * JSON.parse-ing the log (bench/replay.bench.mjs).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** The CRC of no bytes: where a batch's CRC starts. */
export const CRC32_EMPTY = 0;

/** The CRC of bytes[start, end), continuing `previous` (the CRC of the bytes before them). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = CRC32_EMPTY): number {
  if (start === end) return previous;
  return zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), previous);
}

/** 8 lowercase hex digits, as written in commit markers. */
export function crc32Hex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
