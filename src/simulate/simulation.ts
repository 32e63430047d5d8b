/**
 * The simulation API: App Engine push queues in virtual time, embedded in a program or a test.
 *
 *   const sim = createSimulation({ config, seed: 42, worker: { latency: ..., errorRate: 0.05 } });
 *   sim.addWorkload({ queue: 'default', count: 1000 });
 *   sim.runUntilIdle();
 *   sim.stats().queues.default.succeeded; // 1000
 *
 * Times in this API are seconds (fractions allowed); the kernel keeps integer microseconds.
 */
import { configHash } from '../log/config-hash.js';
import type { EngineEvent, EngineSettings } from '../core/events.js';
import { findTaskId, requireQueue } from '../core/decide.js';
import { PushqError, TaskReleasedError, UnknownTaskError, type PushqErrorCode } from '../core/errors.js';
import { generatedNameId } from '../core/names.js';
import { DEFAULT_SETTINGS, createEngineState, queueStateName, taskName, type EngineState } from '../core/state.js';
import { TASK_STATES, taskSnapshot, type TaskMachineSnapshot, type TaskState, type TaskStateName } from '../core/task-machine.js';
import type { TaskSpec } from '../core/task-spec.js';
import { US_PER_SECOND, secondsToMicros, type Micros } from '../core/time.js';
import { wholeTokens, refill } from '../core/token-bucket.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader } from '../log/event-log.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { functionDispatcher, modelledDispatcher } from '../dispatch/worker-model.js';
import { checkWorkerModel } from './worker-rules.js';
import { checkQueueFileConfig } from '../config/object-check.js';
import type { Kernel } from '../engine/kernel.js';
import { SequenceStream, STREAM_PURPOSE } from '../engine/streams.js';
import { VirtualDriver } from '../engine/virtual-driver.js';
import { queueFigures, type QueueFigures } from '../projections/figures.js';
import { InsightProjection } from '../projections/insight.js';
import type { PackedSeries, SeriesData } from '../projections/series-types.js';
import { StatsCollector } from '../projections/stats.js';

export type { QueueFigures };
export type { SimTaskSpec, WorkloadSpec, SimulationOptions, QueueView, TaskView, SimulationStats } from './simulation-types.js';
import type { SimTaskSpec, SimulationOptions, QueueView, TaskView, SimulationStats, WorkloadSpec } from './simulation-types.js';
import { PUSHQ_VERSION } from '../version.js';


/**
 * Refusals a workload's producer lives with, as an app would catch them: the storage limit is
 * full (S5), or the name is taken or tombstoned (S19). The task is not added; the run goes on.
 * Any other refusal is a mistake in the workload and stops the run.
 */
const WORKLOAD_REFUSALS: ReadonlySet<PushqErrorCode> = new Set(['STORAGE_LIMIT_EXCEEDED', 'TASK_ALREADY_EXISTS', 'TOMBSTONED_TASK']);

/** A time to run to: a number, not NaN (NaN compares false with every timer, so the run would silently not move). */
function requireTime(seconds: number, what: string): number {
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new RangeError(`${what}: ${String(seconds)} is not a time in seconds`);
  return seconds;
}

export class Simulation {
  readonly kernel: Kernel;
  readonly driver: VirtualDriver;
  readonly seed: number;
  readonly header: LogHeader;
  private readonly statsCollector = new StatsCollector();
  private readonly insight: InsightProjection;
  /** Workloads added so far: a workload's index keys its own arrivals stream. */
  private workloadsAdded = 0;
  private readonly refusedAdds: SimulationStats['adds_refused'] = {};
  private workloadsArriving = 0;
  /** Workloads that add all their tasks at one instant, by that instant: their tasks in all, and how many have not fired yet. */
  private readonly burstsAt = new Map<Micros, { tasks: number; left: number }>();
  private lastArrivalUs = 0;

  constructor(options: SimulationOptions) {
    // Checked before anything is made (a log file opened): a model that breaks a rule would stall the run.
    const worker = typeof options.worker === 'function' ? options.worker : checkWorkerModel(options.worker);
    checkQueueFileConfig(options.config);
    this.seed = options.seed ?? 1;
    const settings: EngineSettings = {
      targets: options.targets ?? {},
      tombstoneSeconds: options.tombstoneSeconds ?? DEFAULT_SETTINGS.tombstoneSeconds,
      ...(options.devServer === true ? { devServer: true as const } : {}),
    };
    this.header = {
      format: LOG_FORMAT,
      version: LOG_FORMAT_VERSION,
      pushqVersion: PUSHQ_VERSION,
      seed: this.seed,
      clock: 'virtual',
      configHash: configHash(options.config),
    };
    const log = typeof options.log === 'function' ? options.log(this.header) : (options.log ?? new MemoryEventLog(this.header));
    // With every event in memory anyway, ended tasks' rows cost little more; without, they would be
    // most of a long run's memory (task-table.ts).
    const keepEnded = options.keepEndedTasks ?? log instanceof MemoryEventLog;
    this.insight = new InsightProjection({
      ...(options.seriesResolutionSeconds === undefined ? {} : { resolutionUs: secondsToMicros(options.seriesResolutionSeconds) }),
      ...(options.series === undefined ? {} : { series: options.series }),
    });
    const modelled =
      typeof worker === 'function'
        ? functionDispatcher(worker, this.seed, US_PER_SECOND)
        : modelledDispatcher(worker, this.seed);
    this.driver = new VirtualDriver({
      // A table that keeps every task is sized for all of them at once; one that releases ended
      // tasks is sized by the workloads that add their tasks all at once (addWorkload).
      state: createEngineState({ capacity: options.expectedTasks === undefined || !keepEnded ? 1024 : Math.max(1024, options.expectedTasks), releaseEnded: !keepEnded }),
      log,
      worker: modelled,
      observers: [this.statsCollector.observe, this.insight.observe, ...(options.observers ?? [])],
    });
    this.kernel = this.driver.kernel;
    this.kernel.applyConfig(options.config, settings);
  }

  get state(): EngineState {
    return this.kernel.state;
  }

  /** Virtual seconds since the start. */
  get now(): number {
    return this.kernel.now / US_PER_SECOND;
  }

  /** The events so far, decoded (the in-memory log only). Heavy for millions: iterate `eventLog` instead. */
  get events(): EngineEvent[] {
    return this.eventLog.toArray();
  }

  /** The in-memory log, iterable. */
  get eventLog(): MemoryEventLog {
    const log = this.kernel.log;
    if (!(log instanceof MemoryEventLog)) throw new Error('events are only kept by the in-memory log; read the log file instead');
    return log;
  }

  // ---- commands --------------------------------------------------------------------------------

  /** Adds one task; returns its name. Throws a PushqError (and adds nothing) if it is refused. */
  addTask(spec: SimTaskSpec = {}): string {
    return this.addTasks([spec])[0] as string;
  }

  /** Adds up to 100 tasks atomically; returns their names. */
  addTasks(specs: readonly SimTaskSpec[]): string[] {
    const events = this.kernel.addTasks(specs.map(toTaskSpec));
    return events.map((e) => e.options?.name ?? taskName(this.state, e.id));
  }

  deleteTask(queue: string, name: string): void {
    this.kernel.deleteTask(queue, name);
  }

  pauseQueue(queue: string): void {
    this.kernel.pauseQueue(queue);
  }

  resumeQueue(queue: string): void {
    this.kernel.resumeQueue(queue);
  }

  purgeQueue(queue: string): void {
    this.kernel.purgeQueue(queue);
  }

  runTask(queue: string, name: string): void {
    this.kernel.runTask(queue, name);
  }

  /** Runs `fn` at virtual time `atSeconds` (≥ now), in timer order with everything else. */
  schedule(atSeconds: number, fn: (sim: Simulation) => void): void {
    this.kernel.at(this.futureMicros(atSeconds, 'schedule'), () => fn(this));
  }

  private futureMicros(atSeconds: number, what: string): number {
    const at = secondsToMicros(atSeconds);
    if (!Number.isFinite(at) || at < this.kernel.now) {
      throw new RangeError(`${what}: time ${atSeconds} s is not a time from now on (now is ${this.now} s)`);
    }
    return at;
  }

  /** Adds `count` tasks at `at`, all at once or arriving at a rate (evenly spaced or Poisson). */
  addWorkload(w: WorkloadSpec): void {
    requireQueue(this.state, w.queue);
    if (!(Number.isInteger(w.count) && w.count >= 0)) throw new RangeError(`workload count must be a whole number, got ${w.count}`);
    if (w.ratePerSecond !== undefined && !(w.ratePerSecond > 0)) throw new RangeError(`workload rate must be above 0, got ${w.ratePerSecond}`);
    // As a scenario's `arrivals` (arrivals-invalid, arrivals-without-rate): a JavaScript caller's
    // typo or a Poisson workload without its rate would otherwise run as even arrivals or one burst.
    if (w.arrivals !== undefined && w.arrivals !== 'even' && w.arrivals !== 'poisson') throw new RangeError(`workload arrivals must be 'even' or 'poisson', got ${String(w.arrivals)}`);
    if (w.arrivals !== undefined && w.ratePerSecond === undefined) throw new RangeError(`workload arrivals '${w.arrivals}' needs ratePerSecond (without it every task arrives at once)`);
    const startUs = w.atSeconds === undefined ? this.kernel.now : this.futureMicros(w.atSeconds, 'addWorkload');
    const template = toTaskSpec({ ...(w.task ?? {}), queue: w.queue });
    const workloadIndex = this.workloadsAdded++;
    let made = 0;
    let allArrived = w.count === 0;
    if (!allArrived) this.workloadsArriving++;
    const arrived = (k: Kernel): void => {
      if (allArrived) return;
      this.lastArrivalUs = Math.max(this.lastArrivalUs, k.now);
      if (made === w.count) {
        allArrived = true;
        this.workloadsArriving--;
      }
    };
    const specFor = (i: number): TaskSpec => (w.namePrefix === undefined ? template : { ...template, name: `${w.namePrefix}${i}` });
    // A workload of 0 tasks adds nothing, so it schedules nothing: a timer of its own would move
    // the clock to its `at` and end the run there, after the last event (virtual_seconds, the series).
    if (w.count === 0) return;
    if (w.ratePerSecond === undefined) {
      // These tasks will all be held at once, with those of every burst due at the same instant:
      // room for them all in one growth of the task table (task-table.ts).
      const burst = this.burstsAt.get(startUs) ?? { tasks: 0, left: 0 };
      burst.tasks += w.count;
      burst.left++;
      this.burstsAt.set(startUs, burst);
      this.kernel.at(startUs, (k) => {
        const tasks = this.state.tasks;
        if (burst.tasks > 0 && tasks.releaseEnded) tasks.plannedRows = tasks.count - tasks.base + burst.tasks;
        burst.tasks = 0;
        while (made < w.count) {
          const n = Math.min(100, w.count - made);
          const batch: TaskSpec[] = [];
          for (let i = 0; i < n; i++) batch.push(specFor(made + i));
          this.addArrivals(k, batch);
          made += n;
        }
        if (--burst.left === 0) {
          this.burstsAt.delete(startUs);
          tasks.plannedRows = 0;
        }
        arrived(k);
      });
      return;
    }
    const meanGapUs = US_PER_SECOND / w.ratePerSecond;
    const poisson = w.arrivals === 'poisson';
    // Each workload's gaps come from its own stream: another workload, or a queue's settings, never shift them.
    const gaps = poisson ? new SequenceStream(this.seed, STREAM_PURPOSE.ARRIVALS).reset(workloadIndex, 0) : null;
    // Even arrivals are placed at start + round(i · gap), so rounding never accumulates.
    const arrivalAt = (i: number, previous: number): number =>
      gaps !== null ? previous + Math.round(-meanGapUs * Math.log(1 - gaps.next())) : startUs + Math.round(i * meanGapUs);
    // The batch of an arrival alone at its microsecond (nearly every one): one array, reused, as the
    // engine keeps no batch it is given (a new array per arrival was 12 bytes of garbage per event
    // of bench/experiments.bench.mjs's run).
    const alone: TaskSpec[] = [template];
    const arrive = (k: Kernel): void => {
      const at = k.now;
      const first = specFor(made);
      made++;
      let next = made < w.count ? arrivalAt(made, at) : Infinity;
      let batch = alone;
      if (made < w.count && next === at) {
        // Every arrival due at this same microsecond goes in one batch (at most 100). The literal
        // makes a one-element array (`[]` then push reserves 17).
        batch = [first];
        while (made < w.count && next === at && batch.length < 100) {
          batch.push(specFor(made));
          made++;
          next = made < w.count ? arrivalAt(made, at) : Infinity;
        }
      } else alone[0] = first;
      this.addArrivals(k, batch);
      arrived(k);
      if (made < w.count) k.at(Math.max(next, at), arrive);
    };
    this.kernel.at(startUs, arrive);
  }

  /**
   * Adds a workload's arrivals. Batches are how a workload adds many tasks quickly, not something
   * the modelled app asked for: when the engine refuses a batch as a whole (all-or-nothing, S22),
   * its tasks are added one by one, and only those refused are counted.
   */
  private addArrivals(k: Kernel, batch: TaskSpec[]): void {
    try {
      k.addTasks(batch);
      return;
    } catch (err) {
      if (!isWorkloadRefusal(err)) throw err;
      if (batch.length === 1) {
        this.countRefusal(batch[0] as TaskSpec, err);
        return;
      }
    }
    for (const spec of batch) {
      try {
        k.addTasks([spec]);
      } catch (err) {
        if (!isWorkloadRefusal(err)) throw err;
        this.countRefusal(spec, err);
      }
    }
  }

  private countRefusal(spec: TaskSpec, err: PushqError): void {
    const queue = spec.queue ?? 'default';
    const counts = (this.refusedAdds[queue] ??= {});
    counts[err.code] = (counts[err.code] ?? 0) + 1;
  }

  /**
   * When the workloads are done arriving: the virtual time (µs) of the last arrival, or Infinity
   * while a workload still has tasks to add. A runner that stops at a limit measures it from here.
   */
  get arrivalsEndUs(): number {
    return this.workloadsArriving > 0 ? Infinity : this.lastArrivalUs;
  }

  // ---- running ---------------------------------------------------------------------------------

  /** Advances virtual time to `seconds`, firing everything due on the way. */
  runUntil(seconds: number): void {
    this.driver.runUntil(secondsToMicros(requireTime(seconds, 'runUntil')));
  }

  /**
   * Runs until nothing is left to happen (every task settled, or waiting on a paused queue), or
   * until `maxSeconds` of virtual time. `now` is then the last event's time, or `maxSeconds` when
   * something was still to happen after it.
   */
  runUntilIdle(options: { maxSeconds?: number } = {}): void {
    this.driver.runUntilIdle(options.maxSeconds === undefined ? Infinity : secondsToMicros(requireTime(options.maxSeconds, 'runUntilIdle: maxSeconds')));
  }

  // ---- reading ---------------------------------------------------------------------------------

  queue(name: string): QueueView {
    const q = requireQueue(this.state, name);
    const tasks = {} as Record<TaskStateName, number>;
    TASK_STATES.forEach((s, i) => {
      tasks[s] = q.countByState[i] as number;
    });
    let tokens: number | null = null;
    if (q.bucket) {
      const bucket = { ...q.bucket }; // a copy: only evolve changes the state
      refill(bucket, this.kernel.now);
      tokens = wholeTokens(bucket);
    }
    return { name: q.name, state: queueStateName(q), mode: q.config.mode, tokens, inFlight: q.inFlight, tasks };
  }

  task(queue: string, name: string): TaskView {
    const q = requireQueue(this.state, queue);
    const id = findAnyTask(this, queue, name);
    const t = this.state.tasks;
    const r = t.heldRow(id);
    if (r < 0) throw new TaskReleasedError(name, q.name);
    const s = (x: number) => (Number.isNaN(x) ? null : x / US_PER_SECOND);
    const last = t.lastStatus[r] as number;
    return {
      id,
      name: taskName(this.state, id),
      queue: q.name,
      state: TASK_STATES[t.state[r] as number] as TaskStateName,
      etaSeconds: (t.eta[r] as number) / US_PER_SECOND,
      addedAtSeconds: (t.addedAt[r] as number) / US_PER_SECOND,
      firstAttemptAtSeconds: s(t.firstAttemptAt[r] as number),
      endedAtSeconds: s(t.endedAt[r] as number),
      dispatchCount: t.dispatchCount[r] as number,
      responseCount: t.executionCount[r] as number,
      retryCount: Math.max(0, (t.dispatchCount[r] as number) - 1),
      previousStatus: last === 0 ? null : last,
    };
  }

  /** The task's real XState snapshot (the machine in task-machine.ts). */
  taskSnapshot(queue: string, name: string): TaskMachineSnapshot {
    const v = this.task(queue, name);
    return taskSnapshot(this.state.tasks.state[this.state.tasks.row(v.id)] as TaskState, {
      id: v.id,
      queue: v.queue,
      name: v.name,
      dispatchCount: v.dispatchCount,
      responseCount: v.responseCount,
      etaUs: this.state.tasks.eta[this.state.tasks.row(v.id)] as number,
    });
  }

  stats(options: { includeIdle?: boolean } = {}): SimulationStats {
    const queues = queueFigures(this.state, this.statsCollector, this.insight, this.kernel.now, options);
    return {
      seed: this.seed,
      virtual_seconds: this.kernel.now / US_PER_SECOND,
      events: this.state.eventsApplied,
      queues,
      adds_refused: structuredClone(this.refusedAdds),
    };
  }

  /** The run's series so far: per queue and `*` for all, one row per interval (SeriesData). */
  series(): SeriesData {
    return this.insight.seriesData(this.state, this.kernel.now);
  }

  /** The same series in one transferable buffer (PackedSeries): what an experiment's worker thread hands over. */
  packedSeries(): PackedSeries {
    return this.insight.packedSeries(this.state, this.kernel.now);
  }

}

function isWorkloadRefusal(err: unknown): err is PushqError {
  return err instanceof PushqError && WORKLOAD_REFUSALS.has(err.code);
}

/** The task `name` names in `queue`, ended ones included (their story matters when debugging): the engine's one lookup. */
function findAnyTask(sim: Simulation, queue: string, name: string): number {
  const state = sim.state;
  const id = findTaskId(state, requireQueue(state, queue), name);
  if (id >= 0) return id;
  // Task `id` existed and was released: which queue it was in went with its row.
  const generated = generatedNameId(name);
  if (generated >= 0 && generated < state.tasks.base) throw new TaskReleasedError(name, queue, false);
  throw new UnknownTaskError(name, queue);
}

function toTaskSpec(spec: SimTaskSpec): TaskSpec {
  const { countdownSeconds, etaSeconds, dispatchDeadlineSeconds, ...rest } = spec;
  const out: TaskSpec = rest;
  if (countdownSeconds !== undefined) out.countdownUs = secondsToMicros(countdownSeconds);
  if (etaSeconds !== undefined) out.etaUs = secondsToMicros(etaSeconds);
  if (dispatchDeadlineSeconds !== undefined) out.dispatchDeadlineUs = secondsToMicros(dispatchDeadlineSeconds);
  return out;
}

export function createSimulation(options: SimulationOptions): Simulation {
  return new Simulation(options);
}

export { configHash };
