/**
 * `expectRefused`: a command must throw a PushqError with the given code and change nothing:
 * the same number of events, and the same state digest (every task, queue and bucket).
 */
import { expect } from 'vitest';
import { PushqError, type PushqErrorCode } from '../../src/core/errors.js';
import type { Simulation } from '../../src/simulate/simulation.js';
import { stateDigest } from '../../src/log/replay.js';

export function expectRefused(sim: Simulation, command: () => unknown, code: PushqErrorCode): PushqError {
  const eventsBefore = sim.events.length;
  const digestBefore = stateDigest(sim.state);
  let caught: unknown;
  try {
    command();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}, but the command was accepted`).toBeInstanceOf(PushqError);
  expect((caught as PushqError).code).toBe(code);
  expect(sim.events.length).toBe(eventsBefore);
  expect(stateDigest(sim.state)).toBe(digestBefore);
  return caught as PushqError;
}
