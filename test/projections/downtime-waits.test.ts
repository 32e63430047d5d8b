/**
 * What held a waiting task while pushq was not running, worked out by hand on small restarts in
 * virtual time (the restart path of `pushq serve` and the crash swarm: fold the log, a new kernel
 * later, resumeFromLog): from the last event before the start to the start, the wait is
 * `not_running`, in the task's story and in the queue's wait by cause, unless the queue was paused
 * (which held it anyway); before and after, the queue's own cause, as without a restart.
 */
import { expect, it } from 'vitest';
import type { EngineEvent, EngineSettings } from '../../src/core/events.js';
import type { QueueFileConfig } from '../../src/core/queue-config.js';
import { resumeFromLog } from '../../src/engine/restart.js';
import { VirtualDriver, type ModelledWorker } from '../../src/engine/virtual-driver.js';
import { encodeEvent } from '../../src/log/codec.js';
import { LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { fold } from '../../src/projections/fold.js';
import { InsightProjection } from '../../src/projections/insight.js';
import { TaskStoryCollector } from '../../src/projections/task-story.js';
import { createSimulation, type Simulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const S = 1_000_000;
/** Every attempt answers 200 after 10 ms. */
const WORKER: ModelledWorker = { answer: (_request, out) => ((out.status = 200), (out.latencyUs = 10_000)) };

/**
 * Three tasks in a queue of 1/s with a bucket of 1, added at 0: the first goes at once (answered
 * at 0.01 s, the last event), the others wait for tokens. `before` runs first (a pause, say).
 * Then pushq is "killed" and started again at `startUs` on the same log, and runs until idle.
 */
function restarted(startUs: number, before: (sim: Simulation) => void = () => undefined): { events: EngineEvent[]; config: QueueFileConfig } {
  const config = fileConfig(pushQueue('slow', 1, { bucket_size: 1 }));
  const sim = createSimulation({ config, worker: () => ({ status: 200, latencyMs: 10 }) });
  for (const name of ['a', 'b', 'c']) sim.addTask({ queue: 'slow', name });
  before(sim);
  sim.runUntil(0.5);
  const log = sim.kernel.log;
  const state = fold([...(log as unknown as Iterable<EngineEvent>)], [], { misfit: 'assert' }).state;
  const driver = new VirtualDriver({ state, log, worker: WORKER, now: startUs });
  resumeFromLog(driver.kernel, config, sim.kernel.state.settings as EngineSettings);
  driver.runUntilIdle();
  return { events: [...(log as unknown as Iterable<EngineEvent>)], config };
}

function storyOf(events: EngineEvent[], name: string) {
  const story = new TaskStoryCollector(name, undefined);
  fold(events, [story], { misfit: 'assert' });
  return story.stories[0]!;
}

function waitByCause(events: EngineEvent[]) {
  const insight = new InsightProjection();
  const { state } = fold(events, [insight], { misfit: 'assert' });
  return insight.figures(state, state.lastEventAt).slow!.wait_by_cause_task_seconds;
}

it('logs the start after the last event, before anything else of the start', () => {
  const { events } = restarted(5 * S);
  const at = events.findIndex((e) => e.type === 'ServiceStarted');
  expect(events[at]).toEqual({ type: 'ServiceStarted', t: 5 * S, stoppedAfter: 10_000 });
  expect(events[at - 1]).toMatchObject({ type: 'AttemptSucceeded', t: 10_000 });
  expect(events.slice(at + 1).every((e) => e.t >= 5 * S)).toBe(true);
  expect(events.filter((e) => e.type === 'ServiceStarted')).toHaveLength(1);
});

it('a task held by tokens before the stop: tokens up to the last event, not running to the start, tokens after', () => {
  const { events } = restarted(5 * S);
  // b: ready at 0; tokens until the last event (0.01 s), nothing ran until 5 s, went at once.
  const b = storyOf(events, 'b').attempts[0]!;
  expect(b.dispatchedAtUs).toBe(5 * S);
  expect(b.waitedUs).toBe(5 * S);
  expect(b.heldByUs).toEqual({ tokens: 10_000, not_running: 5 * S - 10_000 });
  // c: the same, then one more second for the next token.
  const c = storyOf(events, 'c').attempts[0]!;
  expect(c.dispatchedAtUs).toBe(6 * S);
  expect(c.heldByUs).toEqual({ tokens: 10_000 + S, not_running: 5 * S - 10_000 });
  // The queue's figure: two tasks ready through the span, and the same tokens.
  const causes = waitByCause(events);
  expect(causes.not_running).toBeCloseTo(2 * (5 - 0.01), 9);
  expect(causes.tokens).toBeCloseTo(2 * 0.01 + 1, 9);
  expect(causes.tokens + causes.not_running).toBeCloseTo(b.waitedUs / S + c.waitedUs / S, 9);
});

it('a paused queue keeps the blame for the span: its tasks would not have gone with pushq running', () => {
  const { events } = restarted(5 * S, (sim) => sim.schedule(0.005, (s) => s.pauseQueue('slow')));
  const b = storyOf(events, 'b');
  expect(b.attempts).toEqual([]);
  const causes = waitByCause(events);
  expect(causes.not_running).toBe(0);
  expect(causes.paused).toBeGreaterThan(2 * 4.99);
});

it('a log with no start counts no span: the same figures as before ServiceStarted existed', () => {
  const config = fileConfig(pushQueue('slow', 1, { bucket_size: 1 }));
  const sim = createSimulation({ config, worker: () => ({ status: 200, latencyMs: 10 }) });
  for (const name of ['a', 'b', 'c']) sim.addTask({ queue: 'slow', name });
  sim.runUntilIdle();
  const events = [...(sim.kernel.log as unknown as Iterable<EngineEvent>)];
  expect(events.some((e) => e.type === 'ServiceStarted')).toBe(false);
  expect(storyOf(events, 'c').attempts[0]!.heldByUs).toEqual({ tokens: 2 * S });
  expect(waitByCause(events)).toEqual({ tokens: 3, concurrency: 0, paused: 0, disabled: 0, transport: 0, not_running: 0 });
});

it('the same restart gives the same log bytes', () => {
  const bytes = (): string => restarted(5 * S).events.map((e) => `${encodeEvent(e, LOG_FORMAT_VERSION)}\n`).join('');
  const one = bytes();
  expect(one).toContain('{"type":"ServiceStarted","t":5000000,"stoppedAfter":10000}\n');
  expect(bytes()).toBe(one);
});

it("the series' rows in the span read the queue as it stood at each row's end: a task whose ETA came in the span is ready from then on, not from the stop", () => {
  // d's ETA is 3 s, in the span (the last event at 0.01 s, the start at 5 s): a queue at 1/s
  // with a bucket of 1 holds a and b as tokens; d joins the ready ones at 3 s.
  const config = fileConfig(pushQueue('slow', 1, { bucket_size: 1 }));
  const sim = createSimulation({ config, worker: () => ({ status: 200, latencyMs: 10 }) });
  for (const name of ['a', 'b']) sim.addTask({ queue: 'slow', name });
  sim.addTask({ queue: 'slow', name: 'd', etaSeconds: 3 });
  sim.runUntil(0.5);
  const log = sim.kernel.log;
  const state = fold([...(log as unknown as Iterable<EngineEvent>)], [], { misfit: 'assert' }).state;
  const driver = new VirtualDriver({ state, log, worker: WORKER, now: 5 * S });
  resumeFromLog(driver.kernel, config, sim.kernel.state.settings as EngineSettings);
  driver.runUntilIdle();
  const events = [...(log as unknown as Iterable<EngineEvent>)];
  const insight = new InsightProjection({ resolutionUs: S });
  const folded = fold(events, [insight], { misfit: 'assert' }).state;
  const series = insight.seriesData(folded, folded.lastEventAt).queues.slow!;
  const readyAt = (seconds: number): number => series.ready[series.t_seconds.indexOf(seconds)] as number;
  // b waits for a token from 0.01 s; d is delayed until 3 s, then ready too.
  expect([readyAt(1), readyAt(2), readyAt(3), readyAt(4)]).toEqual([1, 1, 2, 2]);
  expect([series.delayed[series.t_seconds.indexOf(2)], series.delayed[series.t_seconds.indexOf(4)]]).toEqual([1, 0]);
});
