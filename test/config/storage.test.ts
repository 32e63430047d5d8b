import { describe, expect, it } from 'vitest';
import { formatStorageLimit, parseTotalStorageLimit } from '../../src/config/storage.js';

describe('parseTotalStorageLimit (S5)', () => {
  it.each([
    ['1K', 1024],
    ['1M', 1_048_576],
    ['5T', 5 * 1024 ** 4],
    ['1G', 1_073_741_824],
    ['999M', 999 * 1024 ** 2],
    ['1.5K', 1536],
    ['0.1K', 102],
    ['120B', 120],
    ['500', 500],
    ['0', 0],
    ['1.M', 1_048_576],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseTotalStorageLimit(text)).toEqual({ ok: true, bytes });
  });

  it.each(['', 'M', '1.5', '-1M', '1 M', '1KB', '1k', '1P', '1e3K'])('rejects %j', (text) => {
    expect(parseTotalStorageLimit(text).ok).toBe(false);
  });
});

describe('formatStorageLimit', () => {
  it.each([
    [1_048_576, '1M'],
    [5 * 1024 ** 4, '5T'],
    [1536, '1536'],
    [1024, '1K'],
    [0, '0'],
    [1000, '1000'],
  ])('%i prints as %s, which parses back', (bytes, text) => {
    expect(formatStorageLimit(bytes)).toBe(text);
    expect(parseTotalStorageLimit(text)).toEqual({ ok: true, bytes });
  });
});
