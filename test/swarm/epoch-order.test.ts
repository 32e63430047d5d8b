/**
 * The PostgreSQL swarm's check "at most one epoch appends to a queue at a time"
 * (checkEpochOrder, src/testing/swarm/checks.ts) on hand-made rows: it passes the orders a fenced
 * store leaves, and fails each way a deposed writer's batch could land.
 */
import { describe, expect, test } from 'vitest';
import { SwarmCheckFailure, checkEpochOrder, type Handover } from '../../src/testing/swarm/checks.js';

const rows = (...epochs: number[]): { position: number; epoch: number }[] => epochs.map((epoch, position) => ({ position, epoch }));

function failure(fn: () => void): SwarmCheckFailure {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmCheckFailure) return err;
    throw err;
  }
  throw new Error('the check passed');
}

describe('checkEpochOrder', () => {
  const handovers: Handover[] = [
    { epoch: 1, position: 0 },
    { epoch: 2, position: 3 },
    { epoch: 4, position: 3 }, // epoch 2 took the stream and wrote nothing before epoch 4 took it
    { epoch: 5, position: 6 },
  ];

  test('passes each epoch writing only while it owns the stream', () => {
    expect(() => checkEpochOrder('s', rows(1, 1, 1, 4, 4, 4, 5), handovers)).not.toThrow();
    expect(() => checkEpochOrder('s', [], handovers)).not.toThrow();
  });

  test('fails an older epoch batch landing after a newer one wrote', () => {
    const f = failure(() => checkEpochOrder('s', rows(1, 1, 1, 4, 1), handovers));
    expect(f.check).toBe('epoch-order');
    expect(f.message).toMatch(/event 4 was written by epoch 1, but epoch 4/);
  });

  test('fails an older epoch batch landing after a newer one acquired, before it wrote anything', () => {
    expect(failure(() => checkEpochOrder('s', rows(1, 1, 1, 1), handovers)).message).toMatch(/event 3 was written by epoch 1/);
  });

  test('fails a write by an epoch that was superseded before it wrote', () => {
    expect(failure(() => checkEpochOrder('s', rows(1, 1, 1, 2), handovers)).message).toMatch(/epoch 2, but epoch 4/);
  });

  test('fails a newer epoch written before its acquire, and a write before any owner', () => {
    expect(failure(() => checkEpochOrder('s', rows(1, 4), handovers)).message).toMatch(/event 1 was written by epoch 4, but epoch 1/);
    expect(failure(() => checkEpochOrder('s', rows(1), [])).message).toMatch(/before any owner/);
  });

  test('fails positions that are not dense', () => {
    expect(failure(() => checkEpochOrder('s', [{ position: 0, epoch: 1 }, { position: 2, epoch: 1 }], handovers)).message).toMatch(/position 2 where 1 was due/);
  });
});
