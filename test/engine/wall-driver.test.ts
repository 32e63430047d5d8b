/**
 * The wall driver's one timer. Node turns a setTimeout delay above 2^31 - 1 ms (about 24.8 days)
 * into 1 ms, so a task 25 to 30 days ahead (the API accepts up to 30) must not be armed as is.
 */
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, createEngineState } from '../../src/core/state.js';
import { TASK_STATES } from '../../src/core/task-machine.js';
import { CLOCK_RECHECK_MS, MAX_TIMER_DELAY_MS, WallDriver, createWallClock } from '../../src/engine/wall-driver.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

let driver: WallDriver | undefined;
afterEach(() => driver?.stop());

/** A wall driver at time 0 whose one task is due in 29 days; its transport never answers. */
function driverWithFarTask(clock: () => number): WallDriver {
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 1, clock: 'wall', configHash: '' });
  const d = new WallDriver({ state: createEngineState(), log, clock, transport: { send: () => new Promise(() => {}) } });
  d.run((k) => k.applyConfig(fileConfig(pushQueue('q', 10)), DEFAULT_SETTINGS));
  d.run((k) => k.addTasks([{ queue: 'q', name: 'far', countdownUs: 29 * 86_400 * 1e6 }]));
  return d;
}

const stateOfFar = (d: WallDriver): string | undefined => TASK_STATES[d.kernel.state.tasks.state[0] as number];

it('a timer 29 days ahead is armed with a delay setTimeout honours: the driver does not wake every millisecond', async () => {
  let clockReads = 0;
  const overflows: Error[] = [];
  const onWarning = (w: Error): void => void (w.name === 'TimeoutOverflowWarning' && overflows.push(w));
  process.on('warning', onWarning);
  try {
    driver = driverWithFarTask(() => (clockReads++, 0));
    expect(driver.kernel.nextTimerAt()).toBe(29 * 86_400 * 1e6);
    clockReads = 0;
    driver.arm();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.off('warning', onWarning);
  }
  expect(overflows).toEqual([]);
  // One read to arm; a 1 ms timer would have read the clock about a hundred times by now.
  expect(clockReads).toBeLessThan(5);
  expect(stateOfFar(driver!)).toBe('pending');
});

it('a capped timer fires early, finds nothing due and re-arms for the rest', () => {
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
    driver = driverWithFarTask(() => nowUs);
    driver.arm();
    // Within what setTimeout honours, and no longer than the clock may go unread.
    expect(CLOCK_RECHECK_MS).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(armed).toEqual([CLOCK_RECHECK_MS]);
    nowUs = CLOCK_RECHECK_MS * 1000;
    fired.shift()!();
    expect(stateOfFar(driver)).toBe('pending');
    expect(armed[1]).toBe(CLOCK_RECHECK_MS);
    nowUs = 29 * 86_400 * 1e6 - 1000; // a millisecond before it is due: the rest is armed
    fired.shift()!();
    expect(stateOfFar(driver)).toBe('pending');
    expect(armed[2]).toBe(1);
    nowUs = 29 * 86_400 * 1e6;
    fired.shift()!();
    expect(stateOfFar(driver)).toBe('dispatching');
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

it('a wall clock whose floor (the log’s last event) is ahead of the machine’s clock runs on from the floor, never held there', async () => {
  const wallUs = Date.now() * 1000;
  const floorUs = wallUs + 3_600_000_000; // the log's last event an hour ahead (another node's clock)
  const clock = createWallClock(floorUs, wallUs);
  const first = clock();
  expect(first).toBeGreaterThanOrEqual(floorUs);
  await new Promise((r) => setTimeout(r, 30));
  expect(clock() - first).toBeGreaterThanOrEqual(20_000); // time passes (timers may fire a little early: not the full 30 ms)
  // Behind the machine's clock, the floor changes nothing.
  const plain = createWallClock(wallUs - 1_000_000, wallUs);
  expect(plain()).toBeGreaterThanOrEqual(wallUs);
  expect(plain()).toBeLessThan(floorUs);
});

it('a wall clock follows the machine\'s clock when it gains on the monotonic one (NTP), and runs on at the monotonic rate, never back, when it is set back', () => {
  let wallUs = 1_796_000_000_000_000;
  let monoMs = 5_000;
  const clock = createWallClock(0, undefined, { wallUs: () => wallUs, monotonicMs: () => monoMs });
  expect(clock()).toBe(wallUs);
  // A day: the monotonic clock counts 86,400 s, the machine's clock 86,429 s (0.33 ms a second).
  monoMs += 86_400_000;
  wallUs += 86_429_000_000;
  expect(clock()).toBe(wallUs); // on the machine's clock: before, 29 s behind it
  // Set back an hour: time runs on at the monotonic rate from where it was, neither back nor held.
  const before = clock();
  wallUs -= 3_600_000_000;
  monoMs += 1_000;
  expect(clock()).toBe(before + 1_000_000);
  monoMs += 500;
  expect(clock()).toBe(before + 1_500_000);
  // Set forward again past that: followed.
  wallUs += 7_200_000_000;
  expect(clock()).toBe(wallUs);
  // Readings between monotonic ticks do not go back when the machine's clock does.
  const held = clock();
  wallUs -= 1;
  expect(clock()).toBe(held);
});

it('a task a day ahead is dispatched on time while the machine\'s clock gains on the timers\' (monotonic) one: the armed timer re-reads the clock', () => {
  // setTimeout counts monotonic time; the service's clock follows the machine's, which gains 0.33 ms a second on it (NTP, as measured on a VM).
  let monotonicMs = 0;
  const clock = (): number => Math.floor(monotonicMs * 1000 * (1 + 0.33e-3));
  const realSetTimeout = globalThis.setTimeout;
  const pending: { fn: () => void; ms: number }[] = [];
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    pending.push({ fn, ms });
    return realSetTimeout(() => {}, 0);
  }) as typeof setTimeout;
  const sent: number[] = [];
  try {
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 1, clock: 'wall', configHash: '' });
    driver = new WallDriver({ state: createEngineState(), log, clock, transport: { send: () => (sent.push(clock()), new Promise(() => {})) } });
    driver.run((k) => k.applyConfig(fileConfig(pushQueue('q', 10)), DEFAULT_SETTINGS));
    const dueUs = clock() + 86_400 * 1e6;
    driver.run((k) => k.addTasks([{ queue: 'q', name: 'tomorrow', countdownUs: 86_400 * 1e6 }]));
    for (let fired = 0; sent.length === 0 && fired < 100_000; fired++) {
      const next = pending.shift()!;
      monotonicMs += next.ms;
      next.fn();
    }
    expect(sent).toHaveLength(1);
    // Armed once for the whole day, it fired 28.5 s late (the machine's clock gained that meanwhile).
    expect(sent[0]! - dueUs).toBeLessThan(100_000);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});
