/**
 * `total_storage_limit`: bytes, or a number with a suffix B K M G T in steps of 1024
 * (PY-QI `ParseTotalStorageLimit`). With a suffix the number may have a fraction and the result is
 * truncated to whole bytes; without one it must be a whole number of bytes.
 */
const SUFFIX_PATTERN = /^(\d+(?:\.\d*)?)([BKMGT])$/;
const BYTES_PATTERN = /^\d+$/;
const SUFFIXES = 'BKMGT';

export type StorageLimitParse = { ok: true; bytes: number } | { ok: false; reason: string };

export function parseTotalStorageLimit(text: string): StorageLimitParse {
  const suffixed = SUFFIX_PATTERN.exec(text);
  let bytes: number;
  if (suffixed !== null) {
    const [, number = '', suffix = 'B'] = suffixed;
    bytes = Math.trunc(Number(number) * 1024 ** SUFFIXES.indexOf(suffix));
  } else if (BYTES_PATTERN.test(text)) {
    bytes = Number(text);
  } else {
    return { ok: false, reason: 'expected a whole number of bytes, or a number followed by B, K, M, G or T, such as `500M`' };
  }
  if (!Number.isSafeInteger(bytes)) return { ok: false, reason: 'it is too large' };
  return { ok: true, bytes };
}

/** Bytes as the shortest exact queue.yaml text: `1048576` → `1M`, `1500` → `1500`. */
export function formatStorageLimit(bytes: number): string {
  for (let power = SUFFIXES.length - 1; power >= 1; power--) {
    const unit = 1024 ** power;
    if (bytes !== 0 && bytes % unit === 0) return `${bytes / unit}${SUFFIXES[power]}`;
  }
  return String(bytes);
}
