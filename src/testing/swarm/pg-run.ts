/**
 * One run of the crash swarm on PostgreSQL (pg-swarm.ts; docs/testing.md, "The crash swarm on
 * PostgreSQL"): 2–3 simulated nodes (pg-model.ts) on one database contend for the queues' streams.
 * Leases run out, nodes crash at random points, another node acquires (a new epoch), replays the
 * stream and carries on; a deposed owner's appends must be refused. Checked after every handover
 * and at the end with the file swarm's checks (checks.ts), plus `epoch-order` and `lease`.
 *
 * Lease time. Every lease is taken for an hour, so none runs out by the database's clock during a
 * run; a lease running out is an operation of the run: the lease's expiry is set into the past
 * through the store's own renew, with a negative lifetime (`renew(lease, -1 s)`), which is what
 * an owner that stopped renewing looks like to the store after its lifetime. The database's
 * `now()` still decides, in the store's own statements, that the lease has run out; nothing in
 * the store is replaced, and the run stays the same for the same seed.
 *
 * Every operation waits for the store calls it started before the next begins (`settle`), so a
 * seed gives the same run every time. Within one, SERIALIZABLE runs flush one node at a time
 * (pg-turns.ts): there, two nodes' overlapping appends are aborted or not by timing alone. The
 * faults inside a transaction (a node killed in the middle of its append, an acquire racing an
 * append) are in pg-faults.ts, held at one point each by pg-cut.ts.
 */
import pg from 'pg';
import type { QueueFileConfig } from '../../core/queue-config.js';
import { taskName } from '../../core/state.js';
import { queueStream } from '../../cluster/membership.js';
import { resumeFromLog } from '../../engine/restart.js';
import { VirtualDriver } from '../../engine/virtual-driver.js';
import { encodeEvent } from '../../log/codec.js';
import { replay, stateDigest } from '../../log/replay.js';
import { fold } from '../../projections/fold.js';
import { SnapshotWriter } from '../../server/stream-snapshots.js';
import { projectionsOf } from '../../server/read-models.js';
import { PgStore } from '../../store/pg-store.js';
import { StoreEventLog } from '../../store/store-log.js';
import type { Lease } from '../../store/store.js';
import { SwarmCheckFailure, checkAcknowledged, checkEpochOrder, checkLaws, checkSettled, checkSurvivingPrefix } from './checks.js';
import { parseSwarmConfig, queueNames, randomQueueYaml } from './configs.js';
import { QueueOwner, SimNode, StreamTrack } from './pg-model.js';
import { PgSwarmClients } from './pg-clients.js';
import { finalChecks } from './pg-final.js';
import { crashNode, raceAcquire, zombiesFlushInWindow } from './pg-faults.js';
import type { PgSwarmStats } from './pg-swarm.js';
import { restore, snapshotOperation } from './pg-snapshots.js';
import { NodeTurns } from './pg-turns.js';
import { RecordedStoreLog } from './recorded-store-log.js';
import { SwarmRng } from './rng.js';
import { LIVENESS_HORIZON_US, SETTINGS, drain, swarmHeader } from './run.js';
import { SwarmWorker } from './worker.js';

/** Leases are taken for an hour: they run out only when the run says so (see above). */
export const LEASE_MS = 3_600_000;
const TRACE_LENGTH = 40;

export class PgSwarmRun {
  readonly rng: SwarmRng;
  readonly worker: SwarmWorker;
  readonly trace: string[] = [];
  readonly stats: PgSwarmStats;
  readonly streams: StreamTrack[];
  readonly nodes: SimNode[] = [];
  readonly clients: PgSwarmClients;
  config: QueueFileConfig;
  now = 0;
  /** sha256 of every stream's final events (a seed gives the same streams every time). */
  digest = '';
  private restarts = 0;
  /** Every node's store opened in the run (for the conflict figures). */
  private readonly stores: PgStore[] = [];
  /**
   * Every fourth seed runs the nodes' sessions SERIALIZABLE, as CockroachDB always does: an acquire
   * racing an append is then aborted with 40001 once the append commits, and retried
   * (src/store/pg-retry.ts). Chosen off the seed, not drawn, so no other draw moves.
   */
  readonly serializable: boolean;
  /** SERIALIZABLE runs: one node's flushes at a time, so no conflict's abort hangs on timing (pg-turns.ts). */
  private readonly turns: NodeTurns | null;
  private readonly inflight = new Set<Promise<unknown>>();
  /** The run's own connection: lease expiry, and reading each event's epoch off the rows. */
  private admin!: PgStore;
  private rows!: pg.Client;

  constructor(
    readonly seed: number,
    readonly url: string,
  ) {
    this.rng = new SwarmRng(seed);
    this.serializable = seed % 4 === 0;
    this.turns = this.serializable ? new NodeTurns() : null;
    this.worker = new SwarmWorker(this.rng);
    const nodes = this.rng.between(2, 3);
    this.streams = queueNames(this.rng.between(1, 4)).map((q) => new StreamTrack(q, queueStream(q)));
    this.config = parseSwarmConfig(randomQueueYaml(this.rng, this.streams.map((s) => s.queue)));
    this.clients = new PgSwarmClients(this);
    this.stats = { ops: 0, nodes, queues: this.streams.length, crashes: 0, crashesMidFlush: 0, crashesMidTransaction: 0, races: 0, sharedFlushes: 0, leaseExpiries: 0, handovers: 0, refusedAcquires: 0, releases: 0, fencedAppends: 0, zombiesRevived: 0, conflictRetries: 0, snapshotsWritten: 0, snapshotCrashesBefore: 0, snapshotCrashesDuring: 0, snapshotCrashesAfter: 0, restoredFromSnapshot: 0, eventsNotReplayed: 0, tasks: 0, acknowledged: 0, events: 0, virtualSeconds: 0 };
  }

  note(what: string): void {
    this.trace.push(`[${(this.now / 1e6).toFixed(3)} s] ${what}`);
    if (this.trace.length > TRACE_LENGTH) this.trace.shift();
  }

  /** Runs a store call, counted until it settles (`settle` waits for every one). */
  track<T>(p: Promise<T>): Promise<T> {
    const done = p.finally(() => this.inflight.delete(done));
    this.inflight.add(done);
    done.catch(() => undefined);
    return done;
  }

  /** Waits for every store call started so far, and the reactions to them. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await drain();
  }

  async run(ops: number): Promise<void> {
    this.admin = await PgStore.open(this.url, { connections: 1 });
    this.rows = new pg.Client({ connectionString: this.url });
    await this.rows.connect();
    try {
      for (let i = 0; i < this.stats.nodes; i++) this.nodes.push(await this.openNode(i));
      for (const s of this.streams) await this.takeover(s, this.rng.pick(this.nodes));
      for (let i = 0; i < ops; i++) {
        this.now += this.rng.pick([0, 1_000, 50_000, 500_000, 2_000_000, 10_000_000, 60_000_000]);
        for (const s of this.streams) s.live?.driver.runUntil(this.now);
        await this.operation();
        await this.settle();
        this.stats.ops++;
      }
      await this.liveness();
    } finally {
      await this.settle();
      for (const s of this.streams) for (const o of s.owners) o.snapshots?.stop();
      for (const n of this.nodes) if (n.alive) await n.store.close().catch(() => undefined);
      await this.admin.close().catch(() => undefined);
      await this.rows.end().catch(() => undefined);
    }
  }

  private async openNode(slot: number): Promise<SimNode> {
    const name = `node${slot}.${this.restarts++}`;
    // Its connections carry its name, so a cut (pg-cut.ts) can find them in pg_stat_activity.
    const url = new URL(this.url);
    url.searchParams.set('application_name', name);
    const store = await PgStore.open(url.toString(), { connections: 2, ...(this.serializable ? { isolation: 'serializable' as const, conflictRetry: { seed: this.seed + this.restarts } } : {}) });
    this.stores.push(store);
    return new SimNode(slot, name, store);
  }

  /** Transactions of the nodes' stores aborted by a conflict and run again (SERIALIZABLE runs). */
  private countConflicts(): void {
    this.stats.conflictRetries = this.stores.reduce((n, s) => n + s.conflicts.retries, 0);
  }

  private async operation(): Promise<void> {
    const r = this.rng;
    const kind = r.weighted({ create: 30, command: 8, reload: 2, flush: 12, checkpoint: 2, worker: 3, expire: 5, takeover: 7, wake: 5, release: 2, crash: 3, race: 2, restart: 3, snapshot: 5 });
    switch (kind) {
      case 'create':
        return this.clients.create();
      case 'command':
        return this.clients.command();
      case 'reload':
        this.config = parseSwarmConfig(randomQueueYaml(r, this.streams.map((s) => s.queue)));
        this.note('reload: a new queue.yaml');
        for (const s of this.streams) {
          const o = s.live;
          if (o !== null) this.clients.attempt(() => o.kernel.applyConfig(this.queueConfig(s.queue), SETTINGS));
        }
        return;
      case 'flush': {
        // One queue's background flush, or every queue of a node at once (one group transaction,
        // in which a deposed zombie's batch is refused and the others go in).
        const o = this.pickLive();
        if (o === null) return;
        const all = r.chance(0.5) ? this.streams.flatMap((s) => s.owners.filter((x) => x.node === o.node && x.node.alive && x.state !== 'gone')) : [o];
        if (all.length > 1) this.stats.sharedFlushes++;
        this.note(`flush ${all.join(', ')}`);
        for (const x of all) this.flush(x).catch(() => undefined);
        return;
      }
      case 'checkpoint':
        return this.checkpoint();
      case 'worker':
        this.worker.outage = r.pick(['none', 'none', 'errors', 'silent'] as const);
        this.note(`worker outage: ${this.worker.outage}`);
        return;
      case 'expire': {
        const held = this.streams.filter((s) => s.leaseHeld);
        if (held.length > 0) await this.expire(r.pick(held));
        return;
      }
      case 'takeover':
        return this.takeoverSome();
      case 'wake': {
        const zombies = this.zombies();
        if (zombies.length > 0) await this.wake(r.pick(zombies));
        return;
      }
      case 'release': {
        const o = this.pickLive();
        if (o !== null) await this.release(o);
        return;
      }
      case 'crash': {
        const alive = this.nodes.filter((n) => n.alive);
        if (alive.length > 0) await crashNode(this, r.pick(alive));
        return;
      }
      case 'race':
        return raceAcquire(this);
      case 'snapshot':
        return snapshotOperation(this);
      case 'restart': {
        const dead = this.nodes.filter((n) => !n.alive);
        if (dead.length > 0) await this.restart(r.pick(dead));
        return;
      }
    }
  }

  queueConfig(queue: string): QueueFileConfig {
    return { ...this.config, queues: this.config.queues.filter((q) => q.name === queue) };
  }

  private pickLive(): QueueOwner | null {
    const live = this.streams.map((s) => s.live).filter((o) => o !== null);
    return live.length === 0 ? null : this.rng.pick(live);
  }

  zombies(): QueueOwner[] {
    const out: QueueOwner[] = [];
    for (const s of this.streams) for (const inc of s.owners) if (inc.state === 'zombie' && inc.node.alive) out.push(inc);
    return out;
  }

  /** The owner's flush; a refusal for its epoch is recorded on it (and is a failed check when the swarm still counts it the owner). */
  flush(o: QueueOwner): Promise<void> {
    const send = (): Promise<void> => o.log.flush();
    return this.track(this.turns === null ? send() : this.turns.run(o.node, send));
  }

  /** The lease of the stream's latest epoch runs out (its owner stopped renewing: paused, cut off, or crashed). */
  private async expire(s: StreamTrack): Promise<void> {
    const o = s.owner!;
    const lease = await this.track(this.admin.renew(o.lease, -1000));
    if (lease === null) throw new SwarmCheckFailure('lease', `${s.stream}: the lease of epoch ${o.lease.epoch}, which the swarm had left held, is not held by it`);
    s.leaseHeld = false;
    this.stats.leaseExpiries++;
    if (o.state === 'live' && o.node.alive) o.state = 'zombie';
    this.note(`lease of ${o} runs out${o.state === 'zombie' ? ': a zombie until it learns' : ''}`);
  }

  private async takeoverSome(): Promise<void> {
    const r = this.rng;
    // Mostly queues with no live owner; sometimes one that has one (the acquire must be refused).
    const free = this.streams.filter((s) => s.live === null);
    const s = free.length > 0 && r.chance(0.85) ? r.pick(free) : r.pick(this.streams);
    const nodes = this.nodes.filter((n) => n.alive && !s.owners.some((o) => o.node === n && o.state !== 'gone'));
    if (nodes.length > 0) await this.takeover(s, r.pick(nodes));
  }

  /** `node` tries to take the stream: acquire (a new epoch; or the outcome of one already made), read, check, fold, resume. */
  async takeover(s: StreamTrack, node: SimNode, acquired?: Lease | null): Promise<QueueOwner | null> {
    const lease = acquired !== undefined ? acquired : await this.track(node.store.acquire(s.stream, node.name, LEASE_MS));
    if ((lease === null) !== s.leaseHeld) {
      throw new SwarmCheckFailure('lease', `${s.stream}: ${node.name}'s acquire was ${lease === null ? 'refused' : `granted (epoch ${lease.epoch})`} while the lease was ${s.leaseHeld ? `held by ${s.owner}` : 'free (run out or released)'}`);
    }
    if (lease === null) {
      this.stats.refusedAcquires++;
      this.note(`${node.name} tries to take ${s.queue}: refused (the lease of ${s.owner} has not run out)`);
      return null;
    }
    s.leaseHeld = true;
    const last = s.handovers[s.handovers.length - 1];
    if (last !== undefined && lease.epoch <= last.epoch) throw new SwarmCheckFailure('epoch-order', `${s.stream}: ${node.name} acquired epoch ${lease.epoch}, not above the last one granted (${last.epoch})`);
    await zombiesFlushInWindow(this, s, lease.epoch);
    const header = await this.track(node.store.ensureStream(s.stream, swarmHeader(this.seed)));
    const events = await this.track(node.store.read(s.stream));
    const lines = events.map((e) => encodeEvent(e, header.version));
    const before = s.owner;
    s.handovers.push({ epoch: lease.epoch, position: events.length });
    await this.checkEpochs(s);
    if (before !== null) {
      const kept = checkSurvivingPrefix(lines, s.history, before.log, before.log.flushedEvents);
      s.incarnations.push({ recorded: before.log, durable: kept });
    } else if (lines.length > 0) {
      throw new SwarmCheckFailure('log-not-a-prefix', `${s.stream} holds ${lines.length} events before any owner took it`);
    }
    s.history = lines;
    checkAcknowledged(events, this.clients.ackedIn(s.queue));
    checkLaws(events);
    try {
      fold(events, [], { misfit: 'assert' });
    } catch (err) {
      throw new SwarmCheckFailure('restart-failed', `${s.stream} does not replay: ${(err as Error).message}`);
    }
    // The new owner runs from what it restores (its latest snapshot and the tail), held to the full fold.
    const restored = await restore(this, s, node, header, events);
    const log = new RecordedStoreLog(
      new StoreEventLog(node.commits, s.stream, header, lease, {
        onDeposed: (err) => {
          owner.fenced = err.message;
        },
      }),
      events.length,
    );
    log.inner.durableEvents = events.length;
    const owner: QueueOwner = new QueueOwner(node, s, lease, log, s.incarnations.length);
    owner.models = restored.models;
    // The run says when it writes (pg-snapshots.ts): its own timer never fires within a run.
    owner.snapshots = new SnapshotWriter(owner, { store: node.commits, log: log.inner, epoch: lease.epoch, lastPosition: restored.from, everyEvents: 1, checkMs: 2_147_483_647, warn: (line) => this.note(`${owner}: ${line}`) });
    const worker = { answer: this.worker.answer.bind(this.worker) };
    owner.driver = new VirtualDriver({
      state: restored.state,
      log,
      observers: projectionsOf(restored.models).map((p) => p.observe),
      now: this.now,
      worker: {
        answer: (request, out) => {
          this.worker.incarnation = owner.incarnation;
          worker.answer(request, out);
        },
      },
    });
    resumeFromLog(owner.kernel, this.queueConfig(s.queue), SETTINGS, node.name);
    s.owner = owner;
    s.owners.push(owner);
    this.stats.handovers++;
    this.note(`${node.name} takes ${s.queue}: epoch ${lease.epoch}, ${events.length - restored.from} events replayed${restored.from > 0 ? ` after its snapshot at ${restored.from}` : ''}${before === null ? '' : ` (${s.incarnations[s.incarnations.length - 1]!.durable} of ${before}'s ${before.log.events.length})`}`);
    // What the restart wrote (attempts in flight ended, the config) goes in: the stream replays to the new owner's state.
    await this.checkpointOf(owner);
    return owner;
  }

  /** At most one epoch appends to the stream at a time (checkEpochOrder), from the store's rows. */
  async checkEpochs(s: StreamTrack): Promise<void> {
    checkEpochOrder(s.stream, await this.track(this.epochsOf(s.stream)), s.handovers);
  }

  /** Each event of the stream with the epoch that wrote it, read off the store's rows (not through the store's code). */
  private async epochsOf(stream: string): Promise<{ position: number; epoch: number }[]> {
    const r = await this.rows.query<{ position: string; epoch: string }>('SELECT position, epoch FROM pushq_events WHERE stream = $1 ORDER BY position', [stream]);
    return r.rows.map((row) => ({ position: Number(row.position), epoch: Number(row.epoch) }));
  }

  /** A zombie learns where it stands: its renewal is refused if another epoch took the stream, and then so must be its appends. */
  private async wake(o: QueueOwner): Promise<void> {
    const s = o.stream;
    const renewed = await this.track(o.node.store.renew(o.lease, LEASE_MS));
    const superseded = s.owner !== o;
    if ((renewed === null) !== superseded) {
      throw new SwarmCheckFailure('lease', `${o} woke: its renewal was ${renewed === null ? 'refused' : 'granted'}, but ${superseded ? `${s.owner} had taken the stream` : 'no one had taken the stream'}`);
    }
    if (renewed !== null) {
      o.state = 'live';
      s.leaseHeld = true;
      this.stats.zombiesRevived++;
      this.note(`${o} wakes: no one took the queue, its renewal holds it again`);
      o.driver.runUntil(this.now);
      return;
    }
    // What it committed and never got into the store: a node flushes it before it learns (or as it does).
    const unsent = o.log.unflushed;
    const written = await this.flush(o).then(
      () => true,
      () => false,
    );
    if (written && unsent > 0) throw new SwarmCheckFailure('epoch-order', `${o} was deposed by ${s.owner}, yet the store took its append of up to ${unsent} events`);
    if (!written && o.fenced === null) throw new SwarmCheckFailure('lease', `${o} was deposed by ${s.owner}, but its append failed for another reason: ${o.log.writeFailure()?.message}`);
    if (!written) this.stats.fencedAppends++;
    o.state = 'gone';
    this.note(`${o} wakes: deposed by ${s.owner}${written ? '' : `; its append of ${unsent} event(s) refused (STORE_FENCED)`}, stops`);
  }

  /** A live owner gives the queue up (rebalance): flush, the stream replays to its state, release. */
  private async release(o: QueueOwner): Promise<void> {
    await this.checkpointOf(o);
    await this.track(o.log.close());
    // A clean hand-over's last snapshot, as a node writes it once the queue is flushed and released.
    if (await this.track(o.snapshots.writeFinal())) this.stats.snapshotsWritten++;
    o.state = 'gone';
    o.stream.leaseHeld = false;
    this.stats.releases++;
    this.note(`${o} gives the queue up (flushed, released)`);
  }

  private async checkpoint(): Promise<void> {
    const o = this.pickLive();
    if (o !== null) await this.checkpointOf(o);
  }

  /** Everything flushed: the stream must replay to the live owner's state. */
  private async checkpointOf(o: QueueOwner): Promise<void> {
    await this.flush(o).catch(() => undefined);
    if (o.fenced !== null) throw new SwarmCheckFailure('lease', `${o} holds its lease, yet the store refused its epoch: ${o.fenced}`);
    await this.checkEpochs(o.stream);
    const events = await this.track(o.node.store.read(o.stream.stream));
    if (stateDigest(replay(events)) !== stateDigest(o.kernel.state)) {
      throw new SwarmCheckFailure('replay-differs', `${o.stream.stream} (${events.length} events) replays to a state other than its live owner's, ${o}`);
    }
    this.note(`checkpoint ${o}: the stream replays to its state`);
  }

  async restart(node: SimNode): Promise<void> {
    const next = await this.openNode(node.slot);
    this.nodes[node.slot] = next;
    this.note(`${node.name} restarts as ${next.name}`);
  }

  /** Faults stop; every zombie learns, every queue gets a live owner, clients retry: every task must settle. */
  private async liveness(): Promise<void> {
    this.worker.healthy();
    this.note('faults stop');
    for (const z of this.zombies()) await this.wake(z);
    for (const n of this.nodes) if (!n.alive) await this.restart(n);
    for (const s of this.streams) {
      if (s.live !== null) continue;
      if (s.leaseHeld) await this.expire(s);
      const owner = await this.takeover(s, this.rng.pick(this.nodes));
      if (owner === null) throw new SwarmCheckFailure('lease', `${s.stream}: no node could take it after its lease ran out`);
    }
    await this.settle();
    this.clients.retryAll();
    await this.settle();
    this.config = parseSwarmConfig(randomQueueYaml(this.rng, this.streams.map((s) => s.queue), true));
    for (const s of this.streams) {
      const o = s.live!;
      o.kernel.applyConfig(this.queueConfig(s.queue), SETTINGS);
      for (const q of o.kernel.state.queues) if (q.paused) o.kernel.resumeQueue(q.name);
      o.driver.runUntilIdle(this.now + LIVENESS_HORIZON_US);
      this.flush(o).catch(() => undefined);
    }
    await this.settle();
    for (const s of this.streams) {
      const st = s.live!.kernel.state;
      checkSettled(st, (id) => `${s.queue}/${taskName(st, id)}`);
    }
    await finalChecks(this);
    this.countConflicts();
  }
}
