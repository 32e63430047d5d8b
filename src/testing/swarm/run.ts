/**
 * One run of the crash swarm (swarm.ts): the operations, the crashes and restarts, the liveness
 * phase and the final checks, all drawn from one seeded stream.
 */
import { join } from 'node:path';
import { PushqError } from '../../core/errors.js';
import type { EngineSettings } from '../../core/events.js';
import type { QueueFileConfig } from '../../core/queue-config.js';
import { DEFAULT_SETTINGS, createEngineState, taskName } from '../../core/state.js';
import type { TaskSpec } from '../../core/task-spec.js';
import { resumeFromLog } from '../../engine/restart.js';
import { VirtualDriver } from '../../engine/virtual-driver.js';
import { encodeEvent } from '../../log/codec.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader } from '../../log/event-log.js';
import { createFileEventLogSync, openFileEventLog, readEventLogFile } from '../../log/file-log.js';
import { LogError } from '../../log/log-errors.js';
import { replay, stateDigest } from '../../log/replay.js';
import { fold } from '../../projections/fold.js';
import { SwarmCheckFailure, checkAcknowledged, checkDeliveries, checkLaws, checkSettled, checkSurvivingPrefix, type Incarnation } from './checks.js';
import { parseSwarmConfig, queueNames, randomQueueYaml } from './configs.js';
import { SwarmDisk, type CrashDamage } from './disk.js';
import { RecordedLog } from './recorded-log.js';
import { SwarmRng } from './rng.js';
import type { SwarmStats } from './swarm.js';
import { SwarmWorker } from './worker.js';

export const SETTINGS: EngineSettings = { targets: { default: { scaling: 'automatic' } }, tombstoneSeconds: DEFAULT_SETTINGS.tombstoneSeconds };
/** How long the liveness phase may run (virtual): far beyond any backoff or age limit the configs use. */
export const LIVENESS_HORIZON_US = 7 * 24 * 3600 * 1_000_000;
const TRACE_LENGTH = 40;

/** The header of a swarm run's log (virtual clock, the seed). */
export function swarmHeader(seed: number): LogHeader {
  return { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'swarm', seed, clock: 'virtual', configHash: '' };
}

/** Lets every promise reaction that is due run (acknowledgements, failed flushes). */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SwarmRun {
  readonly rng: SwarmRng;
  readonly disk: SwarmDisk;
  readonly worker: SwarmWorker;
  readonly path: string;
  readonly queues: string[];
  readonly trace: string[] = [];
  readonly stats: SwarmStats = { ops: 0, crashes: 0, crashesLosingUnsynced: 0, crashDamage: { none: 0, 'garbage-tail': 0, 'flipped-digit': 0 }, tasks: 0, acknowledged: 0, events: 0, diskFaults: 0, refusedWhileDiskFailed: 0, virtualSeconds: 0 };
  config: QueueFileConfig;
  now = 0;
  driver!: VirtualDriver;
  log!: RecordedLog;
  /** Past incarnations, each with how many of its events survived its crash. */
  readonly incarnations: Incarnation[] = [];
  /** The durable history as encoded lines: the log as the last restart found it. */
  history: string[] = [];
  /** queue/name → how it was acknowledged. */
  readonly acked = new Map<string, string>();
  /** Creates sent whose answer has not come (a flush pending); after a crash the client retries them. */
  private pending = new Map<string, TaskSpec>();
  /** Creates that got no answer (a crash, a failed flush): retried by the client later. */
  private unanswered: TaskSpec[] = [];
  /** Every name created, for deletes and runs. */
  private readonly names: { queue: string; name: string }[] = [];
  private nextName = 0;

  constructor(
    readonly seed: number,
    dir: string,
  ) {
    this.rng = new SwarmRng(seed);
    this.path = join(dir, 'events.log');
    this.disk = new SwarmDisk(this.path);
    this.worker = new SwarmWorker(this.rng);
    this.queues = queueNames(this.rng.between(1, 4));
    this.config = parseSwarmConfig(randomQueueYaml(this.rng, this.queues));
  }

  note(what: string): void {
    this.trace.push(`[${(this.now / 1e6).toFixed(3)} s, incarnation ${this.incarnations.length}] ${what}`)
    if (this.trace.length > TRACE_LENGTH) this.trace.shift();
  }

  get kernel(): VirtualDriver['kernel'] {
    return this.driver.kernel;
  }

  start(): void {
    this.log = new RecordedLog(createFileEventLogSync(this.path, swarmHeader(this.seed), { io: this.disk }));
    this.disk.durable = this.log.inner.position().offset;
    this.driver = new VirtualDriver({ state: createEngineState(), log: this.log, worker: this.worker, now: this.now });
    resumeFromLog(this.kernel, this.config, SETTINGS);
    this.note(`start with ${this.queues.length} queue(s)`);
  }

  async run(ops: number): Promise<void> {
    this.start();
    for (let i = 0; i < ops; i++) {
      this.now += this.rng.pick([0, 1_000, 50_000, 500_000, 2_000_000, 10_000_000, 60_000_000]);
      this.driver.runUntil(this.now);
      await this.operation();
      await drain();
      this.stats.ops++;
    }
    await this.liveness();
  }

  private async operation(): Promise<void> {
    const r = this.rng;
    const kind = r.weighted({ create: 30, command: 8, reload: 2, flush: 15, sync: 15, disk: 2, worker: 3, checkpoint: 2, crash: 3 });
    switch (kind) {
      case 'create':
        this.create();
        return;
      case 'command':
        return this.command();
      case 'reload': {
        this.config = parseSwarmConfig(randomQueueYaml(r, this.queues));
        this.note('reload: a new queue.yaml');
        this.attempt(() => this.kernel.applyConfig(this.config, SETTINGS));
        return;
      }
      case 'flush':
        this.note('flush');
        this.log.flush().catch(() => undefined);
        return;
      case 'sync': {
        const n = r.chance(0.5) ? Infinity : r.between(1, 2);
        this.note(`${this.disk.pendingSyncs} sync(s) held: complete ${n === Infinity ? 'all' : n}`);
        this.disk.completeSyncs(n);
        return;
      }
      case 'disk':
        return this.diskFault();
      case 'worker':
        this.worker.outage = r.pick(['none', 'none', 'errors', 'silent'] as const);
        this.note(`worker outage: ${this.worker.outage}`);
        return;
      case 'checkpoint':
        return this.checkpoint();
      case 'crash':
        return this.crash();
    }
  }

  /** A command that the engine may refuse (a typed error, or the log's write failure): both change nothing. */
  private attempt(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      if (err instanceof LogError && err.code === 'LOG_WRITE_FAILED') {
        this.stats.refusedWhileDiskFailed++;
        return false;
      }
      if (err instanceof PushqError) return false;
      throw err;
    }
  }

  private newSpec(queue: string): TaskSpec {
    const r = this.rng;
    const name = `n${this.nextName++}`;
    const spec: TaskSpec = { queue, name, url: `/work/${name}` };
    if (r.chance(0.3)) spec.countdownUs = r.int(30_000_000);
    if (r.chance(0.5)) spec.dispatchDeadlineUs = r.between(15, 60) * 1_000_000;
    if (r.chance(0.2)) spec.retry = { task_retry_limit: r.between(0, 3), min_backoff_seconds: 0.1, max_backoff_seconds: 1 };
    this.names.push({ queue, name });
    return spec;
  }

  private create(): void {
    const r = this.rng;
    // A client retries a create that got no answer, or (timing out) one whose answer is still to come.
    // (One answered meanwhile, by another attempt of the same create, needs no retry.)
    this.unanswered = this.unanswered.filter((s) => !this.acked.has(`${s.queue}/${s.name}`));
    const impatient = this.pending.size > 0 && r.chance(0.05);
    const retry = impatient || (this.unanswered.length > 0 && r.chance(0.4));
    const specs = impatient
      ? [r.pick([...this.pending.values()])]
      : retry
        ? [this.unanswered.shift() as TaskSpec]
        : Array.from({ length: r.chance(0.2) ? r.between(2, 5) : 1 }, () => this.newSpec(r.pick(this.queues)));
    this.send(specs, retry);
  }

  /** One CreateTask (one task) or BulkAdd (several): answered as the API answers it. */
  private send(specs: TaskSpec[], retry: boolean): void {
    const keys = specs.map((s) => `${s.queue}/${s.name}`);
    this.note(`${retry ? 'client retries' : 'create'} ${keys.join(' ')}`);
    try {
      this.kernel.addTasks(specs, specs.length === 1 ? 'cloud-tasks' : 'taskqueue');
    } catch (err) {
      if (err instanceof PushqError && (err.code === 'TASK_ALREADY_EXISTS' || err.code === 'TOMBSTONED_TASK')) {
        // The client takes ALREADY_EXISTS as "the task is there". pushq serve answers it after a
        // flush, as every answer (src/server/operations.ts, durable): before that fix, the swarm
        // lost tasks acknowledged this way (seeds 116 and 118 with an answer at once).
        this.answerAfterFlush(specs, keys, 'ALREADY_EXISTS');
        return;
      }
      if (err instanceof LogError && err.code === 'LOG_WRITE_FAILED') {
        this.stats.refusedWhileDiskFailed++;
        this.unanswered.push(...specs);
        return;
      }
      if (err instanceof PushqError) return; // e.g. a rate-0 or pull queue: the client gives up
      throw err;
    }
    this.answerAfterFlush(specs, keys, 'created');
  }

  /**
   * The answer comes once the flush after the command resolves, as the API does; until then the
   * create is pending (a crash leaves it unanswered). A failed flush is UNAVAILABLE: the client
   * sends the create again later (ALREADY_EXISTS then, if it was kept).
   */
  private answerAfterFlush(specs: readonly TaskSpec[], keys: readonly string[], how: string): void {
    specs.forEach((s, i) => this.pending.set(keys[i] as string, s));
    this.log.flush().then(
      () => {
        for (const k of keys) {
          this.pending.delete(k);
          this.acked.set(k, how);
        }
      },
      () => {
        specs.forEach((s, i) => {
          const k = keys[i] as string;
          this.pending.delete(k);
          if (!this.acked.has(k)) this.unanswered.push(s);
        });
      },
    );
  }



  private command(): void {
    const r = this.rng;
    const queue = r.pick(this.queues);
    const task = this.names.length > 0 ? r.pick(this.names) : undefined;
    const what = r.weighted({ pause: 2, resume: 3, purge: 1, delete: 2, run: 2 });
    const k = this.kernel;
    let ok = false;
    if (what === 'pause') ok = this.attempt(() => k.pauseQueue(queue));
    else if (what === 'resume') ok = this.attempt(() => k.resumeQueue(queue));
    else if (what === 'purge') ok = this.attempt(() => k.purgeQueue(queue));
    else if (task !== undefined && what === 'delete') ok = this.attempt(() => k.deleteTask(task.queue, task.name));
    else if (task !== undefined) ok = this.attempt(() => k.runTask(task.queue, task.name));
    this.note(`${what} ${what === 'delete' || what === 'run' ? `${task?.queue}/${task?.name}` : queue}${ok ? '' : ' (refused)'}`);
  }

  private diskFault(): void {
    const d = this.disk;
    if (d.writeFault !== null || d.syncFault !== null) {
      d.writeFault = null;
      d.syncFault = null;
      this.note('disk: faults cleared');
      return;
    }
    this.stats.diskFaults++;
    const code = this.rng.pick(['ENOSPC', 'EIO'] as const);
    if (this.rng.chance(0.5)) {
      d.writeFault = code;
      d.partialBytes = this.rng.int(200);
      this.note(`disk: writes fail ${code} (after ${d.partialBytes} bytes)`);
    } else {
      d.syncFault = code;
      this.note(`disk: fdatasync fails ${code}`);
    }
  }

  /** Everything written and synced (when the disk lets it): the live state must equal the log's replay. */
  private async checkpoint(): Promise<void> {
    if (!(await this.syncAll())) return;
    this.note('checkpoint: live state against the replayed log');
    const file = await readEventLogFile(this.path);
    if (stateDigest(replay(file.events)) !== stateDigest(this.kernel.state)) {
      throw new SwarmCheckFailure('replay-differs', `the log (${file.events.length} events) replays to a state other than the live one`);
    }
  }

  /** Flushes and completes every sync; false when the disk still fails. */
  private async syncAll(): Promise<boolean> {
    const flushed = this.log.flush().then(
      () => true,
      () => false,
    );
    for (let i = 0; i < 4 && this.disk.pendingSyncs > 0; i++) {
      this.disk.completeSyncs();
      await drain();
    }
    await drain();
    return (await flushed) && this.log.writeFailure() === null;
  }

  private async crash(): Promise<void> {
    const r = this.rng;
    const size = this.disk.size();
    const durableBefore = this.disk.durable;
    const boundaries = this.log.batchEnds.map((b) => b.offset).filter((o) => o >= durableBefore);
    let cut = size;
    const how = r.weighted({ whole: 3, anywhere: 5, boundary: 2 });
    if (how === 'anywhere') cut = durableBefore + r.int(size - durableBefore + 1);
    else if (how === 'boundary' && boundaries.length > 0) cut = r.pick(boundaries) + r.pick([-1, 0, 0, 1]);
    const damage = r.weighted<CrashDamage>({ none: 6, 'garbage-tail': 2, 'flipped-digit': 2 });
    const syncedEvents = this.log.eventsWithin(durableBefore);
    const what = this.disk.crash(cut, damage, (n) => r.int(n));
    this.stats.crashes++;
    if (cut < size) this.stats.crashesLosingUnsynced++;
    if (damage === 'none' || what.includes(damage === 'garbage-tail' ? 'garbage' : 'changed')) this.stats.crashDamage[damage]++;
    this.note(`CRASH: ${what}`);
    for (const s of this.pending.values()) this.unanswered.push(s);
    this.pending = new Map();
    await this.restart(syncedEvents);
  }

  /** A restart the way `pushq serve` restarts, checking what it found. */
  private async restart(syncedEvents: number): Promise<void> {
    let opened: Awaited<ReturnType<typeof openFileEventLog>>;
    try {
      opened = await openFileEventLog(this.path, { io: this.disk });
    } catch (err) {
      throw new SwarmCheckFailure('restart-failed', `the log could not be opened after the crash: ${(err as Error).message}`);
    }
    this.disk.durable = opened.log.position().offset;
    const lines = opened.events.map((e) => encodeEvent(e, opened.header.version));
    const kept = checkSurvivingPrefix(lines, this.history, this.log, syncedEvents);
    this.incarnations.push({ recorded: this.log, durable: kept });
    this.history = lines;
    checkAcknowledged(opened.events, this.acked);
    checkLaws(opened.events);
    let state;
    try {
      state = fold(opened.events, [], { misfit: 'assert' }).state;
    } catch (err) {
      throw new SwarmCheckFailure('restart-failed', `the log does not replay: ${(err as Error).message}`);
    }
    if (this.rng.chance(0.2)) this.config = parseSwarmConfig(randomQueueYaml(this.rng, this.queues));
    this.worker.incarnation = this.incarnations.length;
    this.log = new RecordedLog(opened.log);
    this.driver = new VirtualDriver({ state, log: this.log, worker: this.worker, now: this.now });
    resumeFromLog(this.kernel, this.config, SETTINGS);
    this.note(`restart: ${opened.events.length} events replayed (${kept} of the crashed incarnation's ${this.incarnations[this.incarnations.length - 1]?.recorded.events.length})`);
  }

  /** Faults stop; clients retry what got no answer; every queue may dispatch: every task must settle. */
  private async liveness(): Promise<void> {
    this.disk.writeFault = null;
    this.disk.syncFault = null;
    this.worker.healthy();
    await this.syncAll();
    this.note('faults stop');
    for (const spec of this.unanswered.splice(0)) if (!this.acked.has(`${spec.queue}/${spec.name}`)) this.send([spec], true);
    await this.syncAll();
    this.config = parseSwarmConfig(randomQueueYaml(this.rng, this.queues, true));
    this.kernel.applyConfig(this.config, SETTINGS);
    for (const q of this.kernel.state.queues) if (q.paused) this.kernel.resumeQueue(q.name);
    this.driver.runUntilIdle(this.now + LIVENESS_HORIZON_US);
    this.now = this.kernel.now;
    await this.syncAll();
    await drain();
    const state = this.kernel.state;
    checkSettled(state, (id) => `${state.queues[state.tasks.queue[id] as number]?.name}/${taskName(state, id)}`);
    await this.finalChecks();
  }

  private async finalChecks(): Promise<void> {
    // Once the faults stop, every create is answered: each task there is was acknowledged.
    if (this.pending.size > 0 || this.unanswered.length > 0) {
      const open = [...this.pending.keys(), ...this.unanswered.map((s) => `${s.queue}/${s.name}`)];
      throw new SwarmCheckFailure('liveness', `${open.length} create(s) still unanswered after the faults stopped: ${open.slice(0, 10).join(', ')} (log write failure: ${this.log.writeFailure()?.message ?? 'none'})`);
    }
    const st = this.kernel.state;
    for (let id = 0; id < st.tasks.count; id++) {
      const key = `${st.queues[st.tasks.queue[id] as number]?.name}/${taskName(st, id)}`;
      if (!this.acked.has(key)) throw new SwarmCheckFailure('liveness', `task ${key} is there but its create was never answered`);
    }
    const file = await readEventLogFile(this.path);
    const lines = file.events.map((e) => encodeEvent(e, file.header.version));
    const all = checkSurvivingPrefix(lines, this.history, this.log, this.log.events.length);
    if (all !== this.log.events.length) throw new SwarmCheckFailure('log-not-a-prefix', `the final log lacks ${this.log.events.length - all} events that were written and synced`);
    this.incarnations.push({ recorded: this.log, durable: all });
    checkAcknowledged(file.events, this.acked);
    checkLaws(file.events);
    if (stateDigest(replay(file.events)) !== stateDigest(this.kernel.state)) throw new SwarmCheckFailure('replay-differs', 'the final log replays to a state other than the live one');
    this.stats.deliveries = checkDeliveries(this.worker.deliveries, this.incarnations, file.events);
    this.stats.tasks = this.kernel.state.tasks.count;
    this.stats.acknowledged = this.acked.size;

    this.stats.events = file.events.length;
    this.stats.virtualSeconds = Math.round((file.events[file.events.length - 1]?.t ?? 0) / 1e6);
  }
}

