/**
 * total_storage_limit with bytes held elsewhere (a cluster's other queues, src/cluster/storage-budget.ts):
 * the kernel asks its `storedElsewhere` at each add and the pure core counts it with its own bytes,
 * refusing with the one-node error and message; without the hook nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { decideAddTasks } from '../../src/core/decide.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const EACH = 'POST'.length + '/_ah/queue/q'.length + 100; // 116 bytes a task of 100 body bytes

function limited(limit: number) {
  const s = createSimulation({ config: { ...fileConfig(pushQueue('q', 5)), total_storage_limit_bytes: limit } });
  s.pauseQueue('q');
  return s;
}

describe('total_storage_limit: bytes stored elsewhere count with the kernel own', () => {
  it('the core refuses a batch that fits its own bytes but not with those held elsewhere, with the one-node message', () => {
    const s = limited(1024);
    s.addTasks(Array.from({ length: 4 }, () => ({ queue: 'q', bodyBytes: 100 })));
    const spec = [{ queue: 'q', bodyBytes: 100 }];
    expect(() => decideAddTasks(s.state, spec, 0, 'taskqueue', 1024 - 4 * EACH - EACH + 1)).toThrow(
      `adding ${EACH} bytes would pass total_storage_limit (${1024 - EACH + 1} of 1024 bytes in use)`,
    );
    expect(decideAddTasks(s.state, spec, 0, 'taskqueue', 1024 - 4 * EACH - EACH)).toHaveLength(1); // exactly full
  });

  it('the kernel asks its hook at every add; the figure may change between adds; freed bytes elsewhere admit again', () => {
    const s = limited(1024);
    let elsewhere = 0;
    let asked = 0;
    s.kernel.storedElsewhere = () => {
      asked++;
      return elsewhere;
    };
    s.addTasks(Array.from({ length: 4 }, () => ({ queue: 'q', bodyBytes: 100 }))); // 464 bytes here
    elsewhere = 1024 - 4 * EACH - EACH + 1; // one byte short of room for one more
    const err = expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 100 }), 'STORAGE_LIMIT_EXCEEDED');
    expect(err.message).toBe(`adding ${EACH} bytes would pass total_storage_limit (${1024 - EACH + 1} of 1024 bytes in use)`);
    elsewhere -= 1;
    s.addTask({ queue: 'q', bodyBytes: 100 });
    expect(asked).toBe(3);
    expect(s.state.storageBytes).toBe(5 * EACH); // the kernel's own figure holds only its own tasks
  });

  it('without a hook, or with a figure of 0, the one-node rule is unchanged', () => {
    const s = limited(1024);
    s.addTasks(Array.from({ length: 8 }, () => ({ queue: 'q', bodyBytes: 100 })));
    expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 100 }), 'STORAGE_LIMIT_EXCEEDED');
    s.kernel.storedElsewhere = () => 0;
    expectRefused(s, () => s.addTask({ queue: 'q', bodyBytes: 100 }), 'STORAGE_LIMIT_EXCEEDED');
    s.addTask({ queue: 'q', bodyBytes: 1024 - 8 * EACH - 16 });
  });
});
