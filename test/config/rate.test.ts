import { describe, expect, it } from 'vitest';
import { formatRate, parseRate, rateExceeds, ratePerSecond } from '../../src/config/rate.js';

function exact(text: string) {
  const parsed = parseRate(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
  return parsed;
}

describe('parseRate', () => {
  it.each([
    ['10/m', 1, 6_000_000, 1 / 6],
    ['0.01/s', 1, 100_000_000, 0.01],
    ['1.5/s', 3, 2_000_000, 1.5],
    ['2000/d', 1, 43_200_000, 2000 / 86_400],
    ['5/s', 1, 200_000, 5],
    ['2.0/s', 1, 500_000, 2],
    ['4900/m', 49, 600_000, 4900 / 60],
    ['1/h', 1, 3_600_000_000, 1 / 3600],
    ['5./s', 1, 200_000, 5],
    ['500/s', 1, 2_000, 500],
  ])('%s is %i token(s) per %i µs (%f/s)', (text, tokens, period_us, perSecond) => {
    const parsed = exact(text);
    expect(parsed.exact).toEqual({ tokens, period_us });
    expect(parsed.per_second).toBe(perSecond);
  });

  it.each(['0', '0/s', '0.0/m', '000/d'])('%s is a zero rate: no exact fraction', (text) => {
    expect(exact(text)).toEqual({ ok: true, per_second: 0, exact: null });
  });

  it.each(['', '5', '5/x', '5 /s', '5/ s', '.5/s', '-1/s', '1e3/s', '5/sec', '5/S', 'five/s', '0 ', '00', '1/s/s'])('rejects %j', (text) => {
    expect(parseRate(text).ok).toBe(false);
  });

  it('refuses fractions too precise to hold in safe integers', () => {
    expect(parseRate('0.00000000000000001/d').ok).toBe(false);
  });
});

describe('rateExceeds', () => {
  it('compares exactly, at and around 500/s', () => {
    expect(rateExceeds(exact('500/s').exact!, 500)).toBe(false);
    expect(rateExceeds(exact('30000/m').exact!, 500)).toBe(false);
    expect(rateExceeds(exact('30001/m').exact!, 500)).toBe(true);
    expect(rateExceeds(exact('500.000001/s').exact!, 500)).toBe(true);
  });
});

describe('formatRate', () => {
  it.each([
    ['10/m', '10/m'],
    ['1.5/s', '90/m'],
    ['0.01/s', '36/h'],
    ['2000/d', '2000/d'],
    ['2.0/s', '2/s'],
    ['0.3/d', '0.3/d'],
    ['0.125/d', '0.125/d'],
  ])('%s prints as %s', (text, printed) => {
    expect(formatRate(exact(text).exact!)).toBe(printed);
  });

  it('throws for a fraction no decimal can express', () => {
    expect(() => formatRate({ tokens: 1, period_us: 7 * 86_400_000_000 })).toThrow(/no exact decimal/);
  });

  it('ratePerSecond is tokens per second', () => {
    expect(ratePerSecond({ tokens: 3, period_us: 2_000_000 })).toBe(1.5);
  });
});
