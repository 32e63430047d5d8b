/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial 0xEDB88320), table-driven, slicing by 4 bytes.
 *
 * Why not a package or zlib: Node 20 has no `zlib.crc32` (added in Node 22), and the npm
 * packages are the same ~20 lines of pure JS; owning them costs less than a dependency. The
 * file log checks one CRC per batch (not per line), so this is off the hot path's critical part.
 *
 * Invariant: `crc32(b) === crc32Final(crc32Update(CRC32_INIT, b, 0, b.length))`, and updating in
 * pieces gives the same value as updating once over the concatenation.
 */

const TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 4; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

export const CRC32_INIT = -1;

/** Continues a running CRC (start from CRC32_INIT) over bytes[start, end). */
export function crc32Update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let c = crc | 0;
  let i = start;
  const end4 = end - ((end - start) & 3);
  while (i < end4) {
    c ^= (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    c =
      (t[768 + (c & 0xff)] as number) ^
      (t[512 + ((c >>> 8) & 0xff)] as number) ^
      (t[256 + ((c >>> 16) & 0xff)] as number) ^
      (t[c >>> 24] as number);
    i += 4;
  }
  while (i < end) c = (t[(c ^ (bytes[i++] as number)) & 0xff] as number) ^ (c >>> 8);
  return c;
}

// Warm-up: give both loops type feedback before V8 optimises the function. Optimised first on
// short batches (the 4-byte loop never ran), it was seen deoptimising over and over under load
// ("insufficient type feedback for compare operation") and taking 44% of the service's CPU.
{
  const sample = new Uint8Array(64).map((_, i) => i * 7);
  for (let round = 0; round < 200; round++) crc32Update(CRC32_INIT, sample, 0, 1 + (round % 64));
}

/** The finished CRC as an unsigned 32-bit number. */
export function crc32Final(crc: number): number {
  return (crc ^ -1) >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes, 0, bytes.length));
}

/** 8 lowercase hex digits, as written in commit markers. */
export function crc32Hex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
