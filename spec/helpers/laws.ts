/**
 * Shared by the law specs: how many runs each property gets (kept modest: the whole spec/ folder
 * must stay well under 40 s on two cores), and an assertion that prints violations readably.
 * fast-check prints the seed and path of a failing run; rerun with `{ seed, path }` to reproduce.
 */
import { expect } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { formatViolations, type Violation } from '../../src/testing/invariants.js';

export const RUNS = { numRuns: 80 };

export function expectLawHolds(violations: readonly Violation[], events: readonly EngineEvent[]): void {
  if (violations.length > 0) {
    const first = violations[0]!.index;
    const around = events.slice(Math.max(0, first - 5), first + 1).map((e, i) => `  ${Math.max(0, first - 5) + i}: ${JSON.stringify(e)}`);
    expect.fail(`${formatViolations(violations.slice(0, 10))}\nevents before the first violation:\n${around.join('\n')}`);
  }
}

/** A deep copy, for tampering with a real run's events without touching the run. */
export function copyEvents(events: readonly EngineEvent[]): EngineEvent[] {
  return events.map((e) => structuredClone(e));
}
