/**
 * The retry policy for transactions aborted by a conflict (src/store/pg-retry.ts), on its own:
 * which SQLSTATEs are retried, the bound, the jittered waits from an injected source, the typed
 * error when attempts run out. The real conflicts on a real PostgreSQL are in pg-conflicts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { conflictRetry, seededRandom } from '../../src/store/pg-retry.js';
import { StoreError } from '../../src/store/store.js';

/** A driver error as node-postgres gives it: an Error with the SQLSTATE in `code`. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function recorder(values: number[]): { random: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  const slept: number[] = [];
  let i = 0;
  return { random: () => values[i++ % values.length]!, sleep: async (ms) => void slept.push(ms), slept };
}

describe('conflictRetry', () => {
  it('runs the whole attempt again after 40001 and 40P01, waiting full-jitter delays from the injected source', async () => {
    const r = recorder([0.5, 0.25, 1 - 2 ** -20, 0]);
    const retry = conflictRetry('postgres://u:***@h/db', { random: r.random, sleep: r.sleep, backoffMsFirst: 10, backoffMsMax: 30 });
    const failures = ['40001', '40P01', '40001', '40001'];
    let attempts = 0;
    const out = await retry.run(async () => {
      attempts++;
      const f = failures.shift();
      if (f !== undefined) throw pgError(f, 'could not serialize access due to concurrent update');
      return 'done';
    }, 'append to queue/a');
    expect(out).toBe('done');
    expect(attempts).toBe(5);
    // Ceilings 10, 20, 30 (capped), 30; each times the source's value.
    expect(r.slept).toEqual([5, 5, 30 * (1 - 2 ** -20), 0]);
    expect(retry.stats).toEqual({ retries: 4, exhausted: 0, serializationFailures: 3, deadlocks: 1 });
  });

  it('gives up after attemptsMax with STORE_CONFLICT naming the operation and the last SQLSTATE', async () => {
    const r = recorder([0.5]);
    const retry = conflictRetry('postgres://u:***@h/db', { attemptsMax: 3, random: r.random, sleep: r.sleep });
    let attempts = 0;
    const err = await retry
      .run(async () => {
        attempts++;
        throw pgError(attempts === 3 ? '40P01' : '40001', 'deadlock detected');
      }, 'acquire of queue/a')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_CONFLICT');
    expect((err as StoreError).message).toMatch(/^postgres:\/\/u:\*\*\*@h\/db: acquire of queue\/a: aborted by the database 3 time\(s\) in a row \(last: 40P01 deadlock_detected: deadlock detected\)/);
    expect(attempts).toBe(3);
    expect(r.slept).toHaveLength(2);
    expect(retry.stats).toEqual({ retries: 2, exhausted: 1, serializationFailures: 2, deadlocks: 1 });
  });

  it('never retries a fence refusal, another SQLSTATE or a lost connection: the first error is thrown as it came', async () => {
    const retry = conflictRetry('postgres://h/db', { sleep: async () => undefined });
    for (const err of [new StoreError('STORE_FENCED', 'deposed'), pgError('23505', 'duplicate key'), pgError('ECONNRESET', 'reset'), pgError('57P01', 'terminating connection'), new Error('no code')]) {
      let attempts = 0;
      const got = await retry
        .run(async () => {
          attempts++;
          throw err;
        }, 'x')
        .catch((e: unknown) => e);
      expect(got).toBe(err);
      expect(attempts).toBe(1);
    }
    expect(retry.stats.retries).toBe(0);
  });

  it('attemptsMax 1 never retries', async () => {
    const retry = conflictRetry('postgres://h/db', { attemptsMax: 1, sleep: async () => undefined });
    const err = await retry.run(async () => Promise.reject(pgError('40001', 'x')), 'x').catch((e: unknown) => e);
    expect((err as StoreError).code).toBe('STORE_CONFLICT');
    expect(retry.stats).toMatchObject({ retries: 0, exhausted: 1 });
  });

  it('the default source is seeded: the same seed gives the same waits, another seed others, all inside their ceilings', async () => {
    const waits = async (seed: number): Promise<number[]> => {
      const slept: number[] = [];
      const retry = conflictRetry('postgres://h/db', { seed, attemptsMax: 9, sleep: async (ms) => void slept.push(ms) });
      await retry.run(async () => Promise.reject(pgError('40001', 'x')), 'x').catch(() => undefined);
      return slept;
    };
    const a = await waits(7);
    expect(await waits(7)).toEqual(a);
    expect(await waits(8)).not.toEqual(a);
    expect(a).toHaveLength(8);
    a.forEach((ms, n) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(200, 2 * 2 ** n));
    });
    const g = seededRandom(1);
    const xs = Array.from({ length: 1000 }, g);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(new Set(xs).size).toBe(1000);
  });
});
