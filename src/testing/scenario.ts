/**
 * A whole simulated scenario as one value: configuration, workload, worker model, operator
 * commands and seed, and `runScenario` to play it. A property test draws a scenario, runs it,
 * and checks the events with invariants.ts; fast-check prints the failing scenario and its seed.
 *
 * Commands that the engine refuses (a PushqError, e.g. deleting a task that already ended) are
 * recorded in `refused`, not thrown: refusing is legitimate behaviour. Any other error (an engine
 * assertion) propagates and fails the property.
 *
 * A run has an event budget (event-budget.ts), however it is played (`runScenario`, or the
 * simulation `prepareScenario` returns): a run whose tasks never settle fails with a
 * ScenarioBudgetError naming its seed, at a size set by the scenario, instead of filling memory.
 */
import fc from 'fast-check';
import type { QueueFileConfig } from '../config/types.js';
import { assertNever } from '../core/assert.js';
import { PushqError } from '../core/errors.js';
import type { WorkerModel } from '../dispatch/worker-model.js';
import { createSimulation, type Simulation, type SimulationOptions, type WorkloadSpec } from '../simulate/simulation.js';
import { queueCommandsArbitrary, type QueueCommand } from './arbitraries/commands.js';
import { simQueueFileConfigArbitrary, type SimQueueConfigOptions } from './arbitraries/sim-config.js';
import { checkKitOptions } from './arbitraries/options.js';
import { eventBudgetObserver, scenarioEventBudget } from './event-budget.js';
import { namedTasks, workloadArbitrary } from './arbitraries/workload.js';
import { workerModelArbitrary, type WorkerModelArbitraryOptions } from './arbitraries/worker-model.js';

export interface Scenario {
  seed: number;
  config: QueueFileConfig;
  workloads: WorkloadSpec[];
  worker: WorkerModel;
  commands: QueueCommand[];
}

export interface ScenarioArbitraryOptions extends SimQueueConfigOptions, WorkerModelArbitraryOptions {
  /** Tasks over all workloads, 0 to 1,000,000. Default 60. */
  maxTasks?: number;
  /** Operator commands, 0 to 1,000. Default 6. */
  maxCommands?: number;
  /** Draw operator commands at all. Default true. */
  commands?: boolean;
  /** Also draw configuration reloads (deploys) among the commands. Default false. */
  reloads?: boolean;
  /** Also draw countdowns and ETAs up to 30 days ahead (workloadArbitrary's). Default false. */
  farEtas?: boolean;
}

export function scenarioArbitrary(options: ScenarioArbitraryOptions = {}): fc.Arbitrary<Scenario> {
  // Every option checked now, not when the first scenario is drawn.
  checkKitOptions('scenarioArbitrary', options);
  const worker = workerModelArbitrary(options);
  return simQueueFileConfigArbitrary(options).chain((config) => {
    const queues = config.queues.map((q) => q.name);
    return workloadArbitrary({ queues, maxTasks: options.maxTasks ?? 60, ...(options.farEtas === true ? { farEtas: true } : {}) }).chain((workloads) =>
      fc.record({
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        config: fc.constant(config),
        workloads: fc.constant(workloads),
        worker,
        commands:
          options.commands === false
            ? fc.constant([])
            : queueCommandsArbitrary({
                queues,
                tasks: namedTasks(workloads),
                maxCommands: options.maxCommands ?? 6,
                ...(options.reloads ? { reloads: simQueueFileConfigArbitrary(options) } : {}),
              }),
      }),
    );
  });
}

export interface ScenarioRun {
  sim: Simulation;
  /** Commands the engine refused, with the error code. */
  refused: { command: QueueCommand; code: string }[];
}

export interface ScenarioBudgetOptions {
  /**
   * The most events the run may log; past it the run throws a ScenarioBudgetError (and the
   * simulation cannot go on). Default `scenarioEventBudget(scenario)`; `Infinity` for none.
   */
  maxEvents?: number;
}

export type PrepareScenarioOptions = Pick<SimulationOptions, 'seriesResolutionSeconds' | 'keepEndedTasks' | 'series'> & ScenarioBudgetOptions;

/** Builds the simulation for `scenario` and schedules its workload and commands (does not run it). */
export function prepareScenario(scenario: Scenario, options: PrepareScenarioOptions = {}): ScenarioRun {
  const { maxEvents = scenarioEventBudget(scenario), ...simOptions } = options;
  if (!(maxEvents === Infinity || (Number.isSafeInteger(maxEvents) && maxEvents >= 1))) throw new RangeError(`prepareScenario: maxEvents must be a whole number from 1, or Infinity; got ${String(maxEvents)}`);
  const observers = maxEvents === Infinity ? [] : [eventBudgetObserver(scenario.seed, maxEvents)];
  const sim = createSimulation({ config: scenario.config, seed: scenario.seed, worker: scenario.worker, observers, ...simOptions });
  const refused: ScenarioRun['refused'] = [];
  for (const w of scenario.workloads) sim.addWorkload(w);
  for (const command of scenario.commands) {
    sim.schedule(command.atSeconds, (s) => {
      try {
        applyCommand(s, command);
      } catch (err) {
        if (!(err instanceof PushqError)) throw err;
        refused.push({ command, code: err.code });
      }
    });
  }
  return { sim, refused };
}

/**
 * Plays `scenario` until nothing is left to do or `maxSeconds` of virtual time (default 1 day), and
 * at most `maxEvents` events (see ScenarioBudgetOptions).
 */
export function runScenario(scenario: Scenario, options: { maxSeconds?: number } & ScenarioBudgetOptions = {}): ScenarioRun {
  const run = prepareScenario(scenario, options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents });
  run.sim.runUntilIdle({ maxSeconds: options.maxSeconds ?? 86_400 });
  return run;
}

function applyCommand(sim: Simulation, c: QueueCommand): void {
  switch (c.kind) {
    case 'pause':
      sim.pauseQueue(c.queue);
      return;
    case 'resume':
      sim.resumeQueue(c.queue);
      return;
    case 'purge':
      sim.purgeQueue(c.queue);
      return;
    case 'delete':
      sim.deleteTask(c.queue, c.name);
      return;
    case 'run':
      sim.runTask(c.queue, c.name);
      return;
    case 'reload':
      sim.kernel.applyConfig(c.config, sim.state.settings);
      return;
    default:
      assertNever(c, 'command');
  }
}
