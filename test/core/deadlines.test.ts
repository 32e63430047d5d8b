// S34: a handler gets 10 minutes on automatic scaling, 24 hours on a target declared basic or
// manual; no answer by then is a failure (reason `deadline`), retried like any other.
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const MIN_US = 60_000_000;

function firstSettle(target: string | undefined, answer: { status: number | null; latencyMs: number }) {
  const s = createSimulation({
    config: fileConfig(pushQueue('q', 5, { retry: { task_retry_limit: 0 } })),
    targets: { batch: { scaling: 'basic' }, ops: { scaling: 'manual' } },
    worker: () => answer,
  });
  s.addTask({ queue: 'q', ...(target === undefined ? {} : { target }) });
  s.runUntilIdle();
  return s.events.find((e) => e.type === 'AttemptSucceeded' || e.type === 'TaskGaveUp')!;
}

describe('S34: handler deadlines', () => {
  it('no answer: fails at 10 min on the default (automatic) service', () => {
    expect(firstSettle(undefined, { status: null, latencyMs: 0 })).toMatchObject({ type: 'TaskGaveUp', reason: 'deadline', t: 10 * MIN_US, status: null });
  });

  it('no answer: fails at 24 h on a basic or manual target (also as version.service)', () => {
    for (const target of ['batch', 'v2.batch', 'ops']) {
      expect(firstSettle(target, { status: null, latencyMs: 0 })).toMatchObject({ type: 'TaskGaveUp', reason: 'deadline', t: 24 * 60 * MIN_US });
    }
  });

  it('a 15-minute answer is too late on automatic scaling but fine on basic', () => {
    expect(firstSettle(undefined, { status: 200, latencyMs: 15 * 60_000 })).toMatchObject({ type: 'TaskGaveUp', reason: 'deadline', t: 10 * MIN_US });
    expect(firstSettle('batch', { status: 200, latencyMs: 15 * 60_000 })).toMatchObject({ type: 'AttemptSucceeded', t: 15 * MIN_US });
  });
});
