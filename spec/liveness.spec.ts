/**
 * Liveness (DESIGN.md/STYLE.md §10: "safety then liveness"): when the simulation has nothing
 * left to do, nothing is stuck. Every attempt has ended, and every queue that can dispatch
 * (running, rate > 0, a bucket that holds a token) has no task waiting, in backoff or in flight:
 * a lost wake-up (a task that is due, with a token and a free slot, but no timer to dispatch it)
 * would leave one behind. Runs go to idle with no time limit, past ETAs up to 30 days ahead;
 * workers always eventually answer 2xx (error share < 1), so every run ends.
 *
 * And no task waits when it could be dispatched: whenever the engine goes idle until a later
 * timer, no queue could dispatch before that timer (it is running, a task of it is due, a token
 * is there, a slot is free) and no backoff ends before it. A wake-up lost for a while, and then
 * made good by something else happening in the queue (a response, a retry, a new task), delays
 * dispatch without leaving anything stuck at the end: only this check, after every step, sees
 * it. It is not made between two timers of one instant: the queue's wake for that instant may
 * still be due, and no virtual time passes (a dispatch later in the same instant is not late).
 * Its scenarios add commands timed while a queue has a backlog (helpers/backlog.ts): commands at
 * random times mostly find queues idle, where a lost wake-up loses nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queueStateName, type QueueRuntime } from '../src/core/state.js';
import { TASK_STATES, TaskState } from '../src/core/task-machine.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { prepareScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { fileConfig, pushQueue } from '../test/helpers/config.js';
import { withBacklogCommands } from './helpers/backlog.js';
import { RUNS } from './helpers/laws.js';

type Sim = ReturnType<typeof createSimulation>;

/** Queues that could still dispatch but hold unfinished tasks, with their counts by state. */
function stuck(sim: Sim): string[] {
  const out: string[] = [];
  for (const q of sim.state.queues) {
    const counts = Object.fromEntries(TASK_STATES.map((s, i) => [s, q.countByState[i]!]));
    if (q.inFlight !== 0) out.push(`${q.name}: ${q.inFlight} attempts still in flight`);
    const canDispatch = queueStateName(q) === 'running' && q.bucket !== null && q.bucket.capacityCredit >= q.bucket.periodUs;
    if (canDispatch && counts.pending! + counts.backoff! + counts.dispatching! > 0) out.push(`${q.name}: ${JSON.stringify(counts)} at ${sim.now} s with nothing left to happen`);
  }
  return out;
}

/**
 * The earliest time `q` could dispatch with nothing else happening first (µs), or null: running,
 * a slot free, a pending task due, a whole token. Read off the state with the spec's own
 * arithmetic (the bucket's exact credit, tokensPerPeriod per µs), not with the engine's decide.
 */
function dispatchableAt(sim: Sim, q: QueueRuntime): number | null {
  const b = q.bucket;
  if (queueStateName(q) !== 'running' || !q.isPush || b === null || b.capacityCredit < b.periodUs || q.inFlight >= q.maxConcurrent) return null;
  const tasks = sim.state.tasks;
  let due = Infinity;
  for (let id = tasks.base; id < tasks.count; id++) {
    const r = tasks.heldRow(id);
    if (r >= 0 && tasks.queue[r] === q.index && tasks.state[r] === TaskState.Pending) due = Math.min(due, tasks.eta[r]!);
  }
  if (due === Infinity) return null;
  const token = b.credit >= b.periodUs ? b.refilledAt : b.refilledAt + Math.ceil((b.periodUs - b.credit) / b.tokensPerPeriod);
  return Math.max(due, token);
}

/** What the engine left for later than it should, now that it waits for its next timer. */
function leftForLater(sim: Sim): string[] {
  const now = sim.kernel.now;
  const next = sim.kernel.nextTimerAt();
  if (next <= now) return []; // another timer of this instant is still due
  const out: string[] = [];
  for (const q of sim.state.queues) {
    const at = dispatchableAt(sim, q);
    if (at !== null && at < next) out.push(`${q.name}: could dispatch at ${at} µs, but at ${now} µs nothing is due before ${next} µs (counts ${JSON.stringify(Array.from(q.countByState))}, in flight ${q.inFlight})`);
  }
  const tasks = sim.state.tasks;
  for (let id = tasks.base; id < tasks.count; id++) {
    const r = tasks.heldRow(id);
    if (r >= 0 && tasks.state[r] === TaskState.Backoff && tasks.eta[r]! < next) out.push(`task ${id}: its backoff ends at ${tasks.eta[r]} µs, but at ${now} µs nothing is due before ${next} µs`);
  }
  return out;
}

/** Runs `sim` to idle one timer at a time, checking after each; the first findings, or []. */
function runCheckingEveryStep(sim: Sim): string[] {
  const kernel = sim.kernel;
  let found = leftForLater(sim);
  while (found.length === 0 && kernel.nextTimerAt() !== Infinity) {
    kernel.fireNext();
    found = leftForLater(sim);
  }
  return found;
}

describe('liveness', () => {
  it('a simulation that has gone idle has left no task behind on a queue that can dispatch', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, maxCommands: 8, reloads: true, errorRateMax: 0.6, farEtas: true }), (scenario) => {
        const { sim } = prepareScenario(scenario);
        expect(runCheckingEveryStep(sim)).toEqual([]);
        expect(sim.kernel.nextTimerAt()).toBe(Infinity);
        expect(stuck(sim)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('no task waits when it could be dispatched: not after a resume, a redeploy that gives a queue room, or anything else', () => {
    // Tasks due within minutes (no far ETAs), so that a queue's backlog is due while it is held back.
    fc.assert(
      fc.property(withBacklogCommands(scenarioArbitrary({ maxQueues: 2, maxTasks: 60, maxCommands: 8, reloads: true, errorRateMax: 0.6 })), (scenario) => {
        const { sim } = prepareScenario(scenario);
        expect(runCheckingEveryStep(sim)).toEqual([]);
        expect(stuck(sim)).toEqual([]);
      }),
      RUNS,
    );
  });

  describe('the check can fail', () => {
    it('reports a task left waiting on a running queue', () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
      sim.pauseQueue('q');
      sim.addTask({ queue: 'q' });
      sim.runUntilIdle();
      expect(stuck(sim)).toEqual([]); // paused: waiting is right
      // Resume without the kernel's pump (a lost wake-up, simulated by applying the event alone).
      sim.state.queues[1]!.paused = false;
      expect(stuck(sim)).toHaveLength(1);
    });

    it('reports a queue that could dispatch before the next timer, now or later', () => {
      const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
      sim.pauseQueue('q');
      sim.addTask({ queue: 'q' });
      sim.schedule(10, () => {}); // a later timer, unrelated to the queue
      expect(leftForLater(sim)).toEqual([]); // paused: waiting is right
      sim.state.queues[1]!.paused = false; // resumed without the kernel's pump
      expect(leftForLater(sim)).toEqual([expect.stringContaining('q: could dispatch at 0 µs, but at 0 µs nothing is due before 10000000 µs')]);
      // Its token spent: it could dispatch once the next one comes (0.2 s at 5/s), still before the timer.
      sim.state.queues[1]!.bucket!.credit = 0;
      expect(leftForLater(sim)).toEqual([expect.stringContaining('q: could dispatch at 200000 µs')]);
      // Not between two timers of one instant: the queue's wake for it may still be due.
      sim.schedule(0, () => {});
      expect(leftForLater(sim)).toEqual([]);
    });
  });
});
