/**
 * Runs a validated scenario: one `Simulation`, its workloads scheduled, then virtual time until
 * every task has settled (or `until`). Same scenario and seed: the same events, byte for byte.
 *
 * Without `until`, a run also stops {@link RUN_LIMIT_US} after the last arrival: with App Engine's
 * default retry parameters (no limits) a task whose every attempt fails retries forever, and
 * "until every task has settled" would never come. Arrivals themselves are finite, so they are
 * never cut off.
 */
import { US_PER_DAY, US_PER_SECOND, type Micros } from '../core/time.js';
import { createSimulation, configHash, type Simulation, type SimulationStats } from '../simulate/simulation.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from '../log/event-log.js';
import { PUSHQ_VERSION } from '../version.js';
import type { QueueConfig } from '../core/queue-config.js';
import type { Scenario } from './types.js';

export const DEFAULT_SEED = 1;

/** How long after the last arrival a run without `until` goes on at most: 31 days, past the 30-day ETA limit. */
export const RUN_LIMIT_US: Micros = 31 * US_PER_DAY;

export interface RunScenarioOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Where the events go; default the simulation's in-memory log. */
  log?: EventLog | ((header: LogHeader) => EventLog);
  /** The series' interval, µs; absent: automatic. */
  seriesResolutionUs?: Micros;
  /** Record the series (SimulationOptions.series); default true. */
  series?: boolean;
  /** Keep ended tasks' rows (SimulationOptions.keepEndedTasks); default: only with the in-memory log. */
  keepEndedTasks?: boolean;
  /** Called every few thousand timers (a progress display throttles itself). */
  onProgress?: (simulation: Simulation) => void;
}

/** Timers between two calls of onProgress: rare enough to cost nothing, often enough for 10 updates a second. */
const PROGRESS_EVERY_TIMERS = 4096;

export interface ScenarioRun {
  seed: number;
  /** Where the seed came from. */
  seedSource: 'option' | 'scenario' | 'default';
  simulation: Simulation;
  stats: SimulationStats;
  /** `idle`: nothing was left to happen; `until`: the scenario's `until`; `limit`: {@link RUN_LIMIT_US} after the last arrival. */
  stoppedBy: 'idle' | 'until' | 'limit';
}

/** The seed a run uses: the option, else the scenario's, else {@link DEFAULT_SEED}. */
export function scenarioSeed(scenario: Scenario, seed?: number): Pick<ScenarioRun, 'seed' | 'seedSource'> {
  if (seed !== undefined) return { seed, seedSource: 'option' };
  if (scenario.seed !== null) return { seed: scenario.seed, seedSource: 'scenario' };
  return { seed: DEFAULT_SEED, seedSource: 'default' };
}

/**
 * Why a queue can never dispatch a task, read from its configuration alone, or null when it can.
 * App Engine accepts both settings: `rate: 0` pauses the queue, and a `bucket_size` of 0 never
 * holds the whole token each dispatch takes. Nothing wakes such a queue, so a run without `until`
 * ends (`idle`) as soon as the other queues are done, with its tasks still pending.
 */
function whyNeverDispatches(queue: QueueConfig, devServer: boolean): string | null {
  // Dev-server mode reads neither the rate nor the bucket (src/core/dev-server.ts).
  if (queue.mode !== 'push' || devServer) return null;
  if (queue.state === 'paused') return 'rate: 0 pauses it';
  if (queue.bucket_size === 0) return 'bucket_size: 0 never holds the whole token a dispatch takes';
  return null;
}

/**
 * The tasks a run left pending in queues that can never dispatch (`rate: 0`, `bucket_size: 0`),
 * and why, so that a run ending with them pending says so. null when no such queue holds one.
 */
export function neverDispatched(scenario: Scenario, queues: Readonly<Record<string, { pending: number }>>): { pending: number; why: string } | null {
  let pending = 0;
  const why: string[] = [];
  for (const queue of scenario.config.queues) {
    const reason = whyNeverDispatches(queue, scenario.devServer);
    const waiting = queues[queue.name]?.pending ?? 0;
    if (reason === null || waiting === 0) continue;
    pending += waiting;
    why.push(`queue ${queue.name}: ${reason}`);
  }
  return why.length === 0 ? null : { pending, why: `that can never be dispatched (${why.join('; ')})` };
}

/** The header the run's log will carry (for a log that must be opened before the run starts). */
export function scenarioLogHeader(scenario: Scenario, seed: number): LogHeader {
  return { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed, clock: 'virtual', configHash: configHash(scenario.config) };
}

export function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): ScenarioRun {
  const { seed, seedSource } = scenarioSeed(scenario, options.seed);
  const simulation = createSimulation({
    config: scenario.config,
    seed,
    worker: scenario.worker,
    targets: scenario.targets,
    ...(scenario.devServer ? { devServer: true } : {}),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.seriesResolutionUs === undefined ? {} : { seriesResolutionSeconds: options.seriesResolutionUs / US_PER_SECOND }),
    ...(options.series === undefined ? {} : { series: options.series }),
    expectedTasks: scenario.workload.reduce((n, w) => n + w.count, 0),
    ...(options.keepEndedTasks === undefined ? {} : { keepEndedTasks: options.keepEndedTasks }),
  });
  for (const workload of scenario.workload) simulation.addWorkload(workload);
  const kernel = simulation.kernel;
  const onProgress = options.onProgress;
  let timers = 0;
  // Time by time rather than advanceTo(limit), which would move the clock to the limit even
  // when the run goes idle long before it. Same timers, same order.
  // The limit is compared in place, never returned as a number: a time beyond 2^30 µs (the
  // limit is 31 days) returned from a call is a fresh heap number, one per timer.
  const untilUs = scenario.untilUs;
  for (let next = kernel.nextTimerAt(); next !== Infinity; next = kernel.nextTimerAt()) {
    if (untilUs !== null ? next > untilUs : next - RUN_LIMIT_US > simulation.arrivalsEndUs) break;
    kernel.fireNext();
    if (onProgress !== undefined && ++timers % PROGRESS_EVERY_TIMERS === 0) onProgress(simulation);
  }
  // A run to `until` ends there, whether or not anything happens at that instant.
  if (scenario.untilUs !== null) simulation.runUntil(scenario.untilUs / US_PER_SECOND);
  const more = kernel.nextTimerAt() !== Infinity;
  const stoppedBy = !more ? 'idle' : scenario.untilUs !== null ? 'until' : 'limit';
  return { seed, seedSource, simulation, stats: simulation.stats(), stoppedBy };
}
