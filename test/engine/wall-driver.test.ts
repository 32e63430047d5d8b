/**
 * The wall driver's one timer. Node turns a setTimeout delay above 2^31 - 1 ms (about 24.8 days)
 * into 1 ms, so a task 25 to 30 days ahead (the API accepts up to 30) must not be armed as is.
 */
import { afterEach, expect, it } from 'vitest';
import { createSimulation } from '../../src/engine/simulation.js';
import { MAX_TIMER_DELAY_MS, WallDriver } from '../../src/engine/wall-driver.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

let driver: WallDriver | undefined;
afterEach(() => driver?.stop());

it('a timer 29 days ahead is armed with a delay setTimeout honours: the driver does not wake every millisecond', async () => {
  const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
  sim.addTask({ queue: 'q', name: 'far', countdownSeconds: 29 * 86_400 });
  expect(sim.kernel.nextTimerAt()).toBe(29 * 86_400 * 1e6);
  let clockReads = 0;
  const overflows: Error[] = [];
  const onWarning = (w: Error): void => void (w.name === 'TimeoutOverflowWarning' && overflows.push(w));
  process.on('warning', onWarning);
  try {
    driver = new WallDriver(sim.kernel, () => (clockReads++, 0));
    driver.arm();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.off('warning', onWarning);
  }
  expect(overflows).toEqual([]);
  // One read to arm; a 1 ms timer would have read the clock about a hundred times by now.
  expect(clockReads).toBeLessThan(5);
  expect(sim.task('q', 'far').state).toBe('pending');
});

it('a capped timer fires early, finds nothing due and re-arms for the rest', () => {
  const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
  sim.addTask({ queue: 'q', name: 'far', countdownSeconds: 29 * 86_400 });
  let nowUs = 0;
  const armed: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  const fired: (() => void)[] = [];
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    armed.push(ms);
    fired.push(fn);
    return realSetTimeout(() => {}, 0);
  }) as typeof setTimeout;
  try {
    driver = new WallDriver(sim.kernel, () => nowUs);
    driver.arm();
    expect(armed).toEqual([MAX_TIMER_DELAY_MS]);
    nowUs = MAX_TIMER_DELAY_MS * 1000;
    fired.shift()!();
    expect(sim.task('q', 'far').state).toBe('pending');
    expect(armed[1]).toBe(29 * 86_400_000 - MAX_TIMER_DELAY_MS);
    nowUs = 29 * 86_400 * 1e6;
    fired.shift()!();
    expect(sim.task('q', 'far').state).toBe('dispatching');
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});
