import { describe, expect, it } from 'vitest';
import { isValidQueueName, isValidTarget } from '../../src/config/names.js';
import { parseDecimal, parseWholeNumber } from '../../src/config/numbers.js';
import { closestKey, editDistance } from '../../src/config/suggest.js';

describe('queue names (S2)', () => {
  it.each(['default', 'a', 'A-b-9', '-', 'x'.repeat(100), '0123'])('accepts %j', (name) => {
    expect(isValidQueueName(name)).toBe(true);
  });
  it.each(['', 'x'.repeat(101), 'a_b', 'a.b', 'a b', 'é'])('rejects %j', (name) => {
    expect(isValidQueueName(name)).toBe(false);
  });
});

describe('targets: service or version.service', () => {
  it.each(['notifier', 'default-go', 'ah-builtin-python-bundle', 'v2.backend', 'a'.repeat(63), `${'v'.repeat(100)}.svc`])('accepts %j', (target) => {
    expect(isValidTarget(target)).toBe(true);
  });
  it.each(['', 'Backend', '-svc', 'v1.-svc', '-v.svc', 'a.b.c', 'a'.repeat(64), `${'v'.repeat(101)}.svc`, 'svc_1', 'v1.'])('rejects %j', (target) => {
    expect(isValidTarget(target)).toBe(false);
  });
});

describe('numbers as App Engine reads them', () => {
  it('whole numbers', () => {
    expect(parseWholeNumber('42')).toBe(42);
    expect(parseWholeNumber('-3')).toBe(-3);
    expect(parseWholeNumber('+7')).toBe(7);
    for (const bad of ['', '1.0', '1e3', '0x10', ' 1', '1_000', '99999999999999999999']) expect(parseWholeNumber(bad)).toBeNull();
  });
  it('decimals', () => {
    expect(parseDecimal('0.1')).toBe(0.1);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('5.')).toBe(5);
    expect(parseDecimal('1e-7')).toBe(1e-7);
    expect(parseDecimal('1.5e+21')).toBe(1.5e21);
    for (const bad of ['', 'inf', 'nan', '1e999', '1,5', '0x1']) expect(parseDecimal(bad)).toBeNull();
  });
});

describe('did-you-mean suggestions', () => {
  const keys = ['name', 'mode', 'rate', 'bucket_size', 'max_concurrent_requests', 'target', 'retry_parameters', 'acl'];
  it.each([
    ['bucked_size', 'bucket_size'],
    ['bucket-size', 'bucket_size'],
    ['Bucket_Size', 'bucket_size'],
    ['bucketsize', 'bucket_size'],
    ['rtae', 'rate'],
    ['max_concurrent_request', 'max_concurrent_requests'],
    ['retry_parameter', 'retry_parameters'],
  ])('%s → %s', (word, suggestion) => {
    expect(closestKey(word, keys)).toBe(suggestion);
  });
  it('suggests nothing for a word far from every key', () => {
    expect(closestKey('description', keys)).toBeNull();
  });
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('rtae', 'rate')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
