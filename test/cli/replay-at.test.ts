/**
 * `--at` as an ISO 8601 instant (a wall-clock log): its fraction of a second is read to the
 * microsecond exactly, so an event logged at that very microsecond is applied (events later than
 * TIME are not; one at TIME is).
 */
import { expect, it } from 'vitest';
import { resolveAt } from '../../src/cli/replay-at.js';

const WHOLE_US = Date.parse('2026-11-23T12:00:00Z') * 1000;

it('reads every microsecond of an ISO 8601 fraction exactly (not through a float: .000249 was 248 µs)', () => {
  const wrong: string[] = [];
  for (let us = 0; us < 1_000_000; us += 7) {
    const digits = String(us).padStart(6, '0');
    if (resolveAt(`2026-11-23T12:00:00.${digits}Z`, 'wall', 0).us !== WHOLE_US + us) wrong.push(digits);
  }
  expect(wrong).toEqual([]);
  expect(resolveAt('2026-11-23T12:00:00.000249Z', 'wall', 0).us).toBe(WHOLE_US + 249);
});

it('a fraction shorter than 6 digits is that many tenths, hundredths, ...; digits beyond the microsecond are cut (the instant is not rounded later)', () => {
  expect(resolveAt('2026-11-23T12:00:00.5Z', 'wall', 0).us).toBe(WHOLE_US + 500_000);
  expect(resolveAt('2026-11-23T12:00:00.25Z', 'wall', 0).us).toBe(WHOLE_US + 250_000);
  expect(resolveAt('2026-11-23T12:00:00.000249999Z', 'wall', 0).us).toBe(WHOLE_US + 249);
  expect(resolveAt('2026-11-23T13:00:00.000003+01:00', 'wall', 0).us).toBe(WHOLE_US + 3);
  expect(resolveAt('2026-11-23T12:00:00Z', 'wall', 0).us).toBe(WHOLE_US);
  expect(resolveAt('2026-11-23T12:00Z', 'wall', 0).us).toBe(WHOLE_US);
});
