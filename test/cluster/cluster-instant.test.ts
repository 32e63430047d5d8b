/**
 * One cluster instant in each queue's own seconds (src/cluster/cluster-instant.ts): exact to the
 * µs through the decimal its owner is given (read back as `pushq replay --at` reads it), a queue
 * not begun then, the cluster's span and bad values refused naming `at`, and a log's first event
 * recovered exactly from its service's figures.
 */
import { describe, expect, it } from 'vitest';
import { clusterFirstUs, clusterInstantUs, firstUsFromFigures, ownSeconds, parseAtUs, timestampUs } from '../../src/cluster/cluster-instant.js';
import { ApiError } from '../../src/server/errors.js';
import { instantUs } from '../../src/server/read-source.js';
import { formatTimestamp } from '../../src/server/timestamps.js';

const F = Date.parse('2026-12-05T12:00:00Z') * 1000 + 123_457; // the cluster's first event, µs

function q(at: string): URLSearchParams {
  return new URLSearchParams({ at });
}

describe('a cluster instant in a queue’s own seconds', () => {
  it('is the cluster seconds less the queue’s later start, and its owner reads back exactly the same µs', () => {
    const queueFirst = F + 2_345_679; // 2.345679 s after the cluster's first event
    const at = clusterInstantUs(q('10.5'), F, F + 60_000_000);
    expect(at).toBe(F + 10_500_000);
    const own = ownSeconds(at, queueFirst)!;
    expect(own).toBe('8.154321');
    expect(instantUs(queueFirst, Number(own))).toBe(at);
    // Over many instants and offsets, none off by a µs (a float difference would be, now and then).
    for (let i = 0; i < 2000; i++) {
      const first = F + i * 7_919_311;
      const a = first + i * 123_456_789 + (i % 7);
      expect(instantUs(first, Number(ownSeconds(a, first))), `${i}`).toBe(a);
    }
    expect(ownSeconds(F + 3_000_000, F)).toBe('3');
    expect(ownSeconds(F + 1, F)).toBe('0.000001');
    expect(ownSeconds(F, F)).toBe('0');
  });

  it('is none for a queue whose log begins after the instant, or has no event', () => {
    expect(ownSeconds(F, F + 1)).toBeNull();
    expect(ownSeconds(F, NaN)).toBeNull();
  });

  it('starts the axis at the earliest first event, ignoring queues without one', () => {
    expect(clusterFirstUs([{ firstUs: F + 5 }, { firstUs: NaN }, { firstUs: F }, { firstUs: F + 9 }])).toBe(F);
    expect(clusterFirstUs([{ firstUs: NaN }])).toBeNaN();
  });

  /** `at=bad` over a one-minute span from F is a 400 ApiError naming `at`. */
  function expectRefusedNamingAt(bad: string): void {
    let err: unknown;
    try {
      clusterInstantUs(q(bad), F, F + 60_000_000);
    } catch (e) {
      err = e;
    }
    expect(err, bad).toBeInstanceOf(ApiError);
    expect((err as ApiError).message, bad).toMatch(/^at: /);
    expect((err as ApiError).field, bad).toBe('at');
    expect((err as ApiError).httpStatus, bad).toBe(400);
  }

  it('refuses, naming `at`, a value that is not a number or is outside the cluster’s span', () => {
    for (const bad of ['x', '1e3', 'NaN', '-1', '61', ' ']) {
      expectRefusedNamingAt(bad);
    }
    expect(() => clusterInstantUs(q('1'), NaN, F)).toThrow(/^at: no queue/);
    expect(clusterInstantUs(q('60'), F, F + 60_000_000)).toBe(F + 60_000_000);
    expect(() => parseAtUs(new URLSearchParams({ atUs: '1.5' }))).toThrow(/^atUs: /);
    expect(parseAtUs(new URLSearchParams({ atUs: String(F) }))).toBe(F);
    expect(parseAtUs(new URLSearchParams())).toBeNull();
  });

  it('takes an RFC 3339 instant as one node does (the times the API shows): its µs exactly; a bad one or one outside the span refused naming `at`', () => {
    expect(clusterInstantUs(q(formatTimestamp(F + 10_500_000)), F, F + 60_000_000)).toBe(F + 10_500_000);
    expect(clusterInstantUs(q('2026-12-05T13:00:10.623457+01:00'), F, F + 60_000_000)).toBe(F + 10_500_000);
    for (const bad of ['2026-02-30T12:00:00Z', '2026-12-05T12:00:00', '2026-12-05T11:59:59Z', '2026-12-05T12:02:00Z']) {
      expectRefusedNamingAt(bad);
    }
  });

  it('recovers a log’s first event to the µs from its figures now (`now`, `atSeconds`)', () => {
    for (let i = 0; i < 1000; i++) {
      const first = F + i * 1_000_003;
      const now = first + i * 987_654_321 + 17;
      expect(firstUsFromFigures(formatTimestamp(now), (now - first) / 1e6), `${i}`).toBe(first);
    }
    expect(firstUsFromFigures(formatTimestamp(F), null)).toBeNaN();
    expect(timestampUs('2026-12-05T12:00:00.5Z')).toBe(Date.parse('2026-12-05T12:00:00Z') * 1000 + 500_000);
  });
});
