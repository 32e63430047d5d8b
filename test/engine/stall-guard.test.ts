/**
 * The stall guard (src/engine/stall-guard.ts): a run whose virtual clock can never advance again
 * stops with VIRTUAL_TIME_STALLED instead of spinning for ever, and a run that only does a lot at
 * one instant, but will end, is left alone.
 *
 * The loop: dev-server mode (no token bucket), a worker answering 500 in 0 s, retries after 0 s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STALL_TIMERS_MIN, VirtualTimeStalledError } from '../../src/engine/stall-guard.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { pushq } from '../helpers/cli.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const ZERO_BACKOFF = { min_backoff_seconds: 0, max_backoff_seconds: 0 };

/** A dev-server simulation of one failing task on queue `q` with these retry parameters. */
function failingAtOnce(retry: Record<string, unknown>) {
  const config = fileConfig(pushQueue('q', 1, { retry: { ...ZERO_BACKOFF, ...retry } }));
  const sim = createSimulation({ config, seed: 1, devServer: true, worker: () => ({ status: 500, latencyMs: 0 }) });
  sim.addTask({ queue: 'q', name: 'spinner' });
  return sim;
}

describe('a clock that can never advance stops the run', () => {
  it('no retry limit: the run stops with VIRTUAL_TIME_STALLED naming the instant and the task, its events so far kept', () => {
    const sim = failingAtOnce({});
    let error: unknown;
    try {
      sim.runUntilIdle();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VirtualTimeStalledError);
    const stalled = error as VirtualTimeStalledError;
    expect(stalled.code).toBe('VIRTUAL_TIME_STALLED');
    expect(stalled.at).toBe(0);
    expect(stalled.task).toBe('q/spinner');
    // The first look (at the floor) notes how many tasks have ended; the next, at twice the timers, finds none more.
    expect(stalled.timers).toBe(2 * STALL_TIMERS_MIN);
    expect(stalled.message).toMatch(/^virtual time stopped advancing at 0\.000000 s: 2,000,000 timers fired at that instant \(task q\/spinner was dispatched [\d,]+ times\)\. .*dev-server mode reads no rate or bucket_size.*min_backoff_seconds above 0/);
    // Stopped between two steps: the attempt whose answer was the next timer is still in flight.
    const events = sim.events;
    expect(events.filter((e) => e.type === 'AttemptDispatched').length - events.filter((e) => e.type === 'AttemptFailed').length).toBe(1);
  });

  it('a task_age_limit keeps it going for ever at a frozen clock (App Engine retries while either limit holds): stalled too', () => {
    expect(() => failingAtOnce({ task_retry_limit: 5, task_age_limit_seconds: 60 }).runUntilIdle()).toThrow(VirtualTimeStalledError);
  });
});

describe('much at one instant, but a run that ends, goes on', () => {
  it('a retry limit past the floor: ~1.2 million timers at t = 0, then the task gives up and the run ends', () => {
    const limit = 600_000;
    const sim = failingAtOnce({ task_retry_limit: limit });
    sim.runUntilIdle();
    const q = sim.stats().queues.q;
    expect(q?.failed).toBe(1);
    expect(q?.attempts).toBe(limit + 1);
    expect(sim.now).toBe(0);
  });
});

describe('pushq simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-stall-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a worker that fails most attempts but not all: ~3.6 million events at t = 0, tasks ending all the while, and the run ends', async () => {
    // Each attempt succeeds one time in a hundred: no task retries for ever, though one may be
    // dispatched hundreds of times. Before, the guard called it stalled (the busiest task has no
    // retry limit) once 2,000,000 timers had fired, thousands of the 12,000 tasks still to end.
    const path = join(dir, 'mostly-failing.yaml');
    writeFileSync(
      path,
      `dev_server: true
queue:
  - { name: q, rate: 1/s, retry_parameters: { min_backoff_seconds: 0, max_backoff_seconds: 0 } }
workload:
  - { queue: q, count: 12000 }
worker:
  latency: 0ms
  error_rate: 0.99
`,
    );
    const run = await pushq(['simulate', path, '--quiet', '--json', '--seed', '1'], { timeoutMs: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const q = JSON.parse(run.stdout).queues.q;
    expect(q.succeeded).toBe(12000);
    expect(q.attempts).toBeGreaterThan(1_000_000);
  }, 120_000);

  it('a scenario that would spin for ever exits 1 with the reason and what to change', async () => {
    const path = join(dir, 'spin.yaml');
    writeFileSync(
      path,
      `dev_server: true
queue:
  - { name: q, rate: 1/s, retry_parameters: { min_backoff_seconds: 0, max_backoff_seconds: 0 } }
workload:
  - { queue: q, count: 3, rate: 1/s }
worker:
  latency: 0ms
  error_rate: 1
`,
    );
    const run = await pushq(['simulate', path, '--quiet'], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^pushq simulate: the run stopped: virtual time stopped advancing at 0\.000000 s: .* \(task q\/task0 was dispatched [\d,]+ times\)\. .* \(VIRTUAL_TIME_STALLED\)\n$/);
  }, 90_000);
});
