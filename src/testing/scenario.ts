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
import { drawnCommandsArbitrary, resolveCommands, type DrawnCommand, type QueueCommand } from './arbitraries/commands.js';
import { simQueueFileConfigArbitrary, type SimQueueConfigOptions } from './arbitraries/sim-config.js';
import { checkKitOptions } from './arbitraries/options.js';
import { eventBudgetObserver, scenarioEventBudget } from './event-budget.js';
import { drawnWorkloadGroupsArbitrary, namedTasks, resolveWorkloads } from './arbitraries/workload.js';
import { workerModelArbitrary, type WorkerModelArbitraryOptions } from './arbitraries/worker-model.js';

export interface Scenario {
  seed: number;
  config: QueueFileConfig;
  workloads: WorkloadSpec[];
  worker: WorkerModel;
  commands: QueueCommand[];
}

export interface ScenarioArbitraryOptions extends SimQueueConfigOptions, WorkerModelArbitraryOptions {
  /**
   * Your own configuration (e.g. `loadQueueConfigFile('queue.yaml').config`): every scenario runs
   * it, its workloads and commands on its push queues. Absent: configurations are drawn
   * (`maxQueues`, `allowZeroRate`).
   */
  config?: QueueFileConfig;
  /** Tasks over all workloads, 0 to 1,000,000. Default 60. */
  maxTasks?: number;
  /** Operator commands, 0 to 1,000. Default 6. */
  maxCommands?: number;
  /** Draw operator commands at all. Default true. */
  commands?: boolean;
  /** Also draw configuration reloads (deploys) among the commands: drawn configurations (`default`, `q1`, ...). Default false. */
  reloads?: boolean;
  /** Also draw countdowns and ETAs up to 30 days ahead (workloadArbitrary's). Default false. */
  farEtas?: boolean;
}

export function scenarioArbitrary(options: ScenarioArbitraryOptions = {}): fc.Arbitrary<Scenario> {
  // Every option checked now, not when the first scenario is drawn.
  checkKitOptions('scenarioArbitrary', options);
  const own = options.config;
  if (own !== undefined && !own.queues.some((q) => q.mode === 'push')) throw new RangeError('scenarioArbitrary: config must have a push queue for its workloads; it has none');
  const maxTasks = options.maxTasks ?? 60;
  // The queues a pick may name: the config's push queues, or as many as a drawn config may have.
  const queuePicks = own === undefined ? (options.maxQueues ?? 2) + 1 : own.queues.filter((q) => q.mode === 'push').length;
  // Drawn side by side and resolved together (a pick of queue or task taken modulo the ones there
  // are), never chained: fast-check then shrinks every part of a failing scenario, where a chain
  // stopped shrinking the workloads once the commands had shrunk, and drew new commands (that no
  // longer failed) for each smaller workload.
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      config: own === undefined ? simQueueFileConfigArbitrary(options) : fc.constant(own),
      groups: drawnWorkloadGroupsArbitrary({ maxTasks, ...(options.farEtas === true ? { farEtas: true } : {}) }, queuePicks),
      worker: workerModelArbitrary(options),
      commands:
        options.commands === false
          ? fc.constant<DrawnCommand[]>([])
          : drawnCommandsArbitrary({ maxCommands: options.maxCommands ?? 6, ...(options.reloads ? { reloads: simQueueFileConfigArbitrary(options) } : {}) }, queuePicks, maxTasks),
    })
    .map(({ seed, config, groups, worker, commands }) => {
      const queues = config.queues.filter((q) => q.mode === 'push').map((q) => q.name);
      const workloads = resolveWorkloads(groups, queues, maxTasks);
      return { seed, config, workloads, worker, commands: resolveCommands(commands, queues, namedTasks(workloads)) };
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

/** `devServer: true` runs the scenario under dev_appserver's rules (S39), whose laws checkAll then applies. */
export type PrepareScenarioOptions = Pick<SimulationOptions, 'seriesResolutionSeconds' | 'keepEndedTasks' | 'series' | 'devServer'> & ScenarioBudgetOptions;

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
