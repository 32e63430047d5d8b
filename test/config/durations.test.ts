import { describe, expect, it } from 'vitest';
import { parseTaskAgeLimit } from '../../src/config/durations.js';

describe('parseTaskAgeLimit (S6)', () => {
  it.each([
    ['2.5m', 150],
    ['30s', 30],
    ['15m', 900],
    ['12h', 43_200],
    ['2d', 172_800],
    ['1.5s', 1],
    ['1e2s', 100],
    ['1.5E1m', 900],
    ['2.s', 2],
    // Python's int(float('2.05') * 60) is 122, not 123: App Engine truncates the float product, and so do we.
    ['2.05m', 122],
    ['0.35d', 30_239],
  ])('%s is %i s', (text, seconds) => {
    expect(parseTaskAgeLimit(text)).toEqual({ ok: true, seconds });
  });

  it.each(['0s', '0d', '-1s', '-2.5m'])('%s is rejected: not above zero', (text) => {
    expect(parseTaskAgeLimit(text)).toEqual({ ok: false, reason: 'it must be greater than zero' });
  });

  it('explains that a sub-second limit truncates to zero', () => {
    const parsed = parseTaskAgeLimit('0.5s');
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(/less than one second.*truncates to 0/);
  });

  it.each(['', '5', 's', '5x', '5 s', '1w', '+5s', '1e400s'])('rejects %j', (text) => {
    expect(parseTaskAgeLimit(text).ok).toBe(false);
  });
});
