/**
 * A cluster node: one `pushq serve --store postgres://... --cluster` process among several on
 * one store (docs/cluster.md).
 *
 * Every tick (a third of the lease's lifetime) the node:
 *   1. renews its heartbeat in `pushq_nodes` (membership.ts), announcing the queue configuration it
 *      applies (its hash and queue names);
 *   2. reads the live nodes and, for each queue of the configuration, the node rendezvous hashing
 *      gives it to among the live nodes whose configuration holds it (rendezvous.ts): every node
 *      computes the same answer from the same list. Nodes that announce different configurations
 *      are reported (once per change), naming each node's hash and the queues not known to all;
 *   3. takes the queues it should own and does not (acquire: refused while another node's lease
 *      has not run out, so a queue moves only once its last owner released it or went silent past
 *      its lease), and gives up the queues it owns that now hash elsewhere (a node joined);
 *   4. reads who owns which queue, for the router.
 * Each owned queue keeps its own lease between ticks (owned-queue.ts), so a slow tick never risks
 * a lease. The owned queues' appends share one transaction per group (group-commit.ts); calls
 * come in through the router (router.ts), which hands those for owned queues to their services
 * in process.
 *
 * Invariant: at most one epoch writes a queue's stream at a time (the store's fence), and a node
 * dispatches a queue only while it holds that queue's lease by its own monotonic clock.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueFileConfig } from '../config/types.js';
import { OriginPools } from '../dispatch/origin-pools.js';
import type { LogHeader } from '../log/event-log.js';
import { RequestGuard } from '../server/security.js';
import { PgStore } from '../store/pg-store.js';
import { NODE_STREAM } from '../store/store-log.js';
import { StoreError } from '../store/store.js';
import { GroupCommitStore } from './group-commit.js';
import { GrpcFront, type GrpcTable } from './grpc-front.js';
import { Membership, NODES_TABLE, type AppliedConfig, type LiveNode, type QueueOwner } from './membership.js';
import { describeDisagreement } from './config-agreement.js';
import { configHash } from '../log/config-hash.js';
import { OwnedQueue, type SharedServiceOptions } from './owned-queue.js';
import { ownerFor } from './rendezvous.js';
import { formatIssue } from '../config/issues.js';
import { strandedTaskLines } from '../core/stranded-tasks.js';
import { unroutedQueueLines } from '../server/unrouted-queues.js';
import type { ReloadOutcome } from '../server/api.js';
import { reloadWhileStopping } from '../server/operations.js';
import { loadQueueConfigFileOffThread } from '../server/config-thread.js';
import { Router, type RouterTable } from './router.js';
import { STORAGE_TABLE, StorageBudget, storageRoundMs, type OwnedStorage } from './storage-budget.js';
import { tablesCreatedBy } from '../store/pg-errors.js';
import { newNodeName, nodeSessions } from './node-sessions.js';
import { ownerAnswerBoundMs } from './not-taken.js';

/** The tables a cluster keeps beside the store's: a refusal for want of a privilege names them in its GRANT too. */
const CLUSTER_TABLES = tablesCreatedBy([NODES_TABLE, STORAGE_TABLE]);

export interface ClusterNodeOptions {
  storeUrl: string;
  config: QueueFileConfig;
  /** Where `config` came from: reload (SIGHUP, POST /pushq/reload) reads it again. */
  configPath?: string;
  /** The header of a new queue stream, for the queue file holding that queue alone. */
  headerFor: (config: QueueFileConfig) => LogHeader;
  service: SharedServiceOptions & { host?: string };
  port: number;
  /** The gRPC API's port (0: a free one). */
  grpcPort: number;
  /** The URL other nodes reach this node's API at (default: the bound address). */
  advertiseUrl?: string;
  leaseMs: number;
  /** The bound of one statement on the store, every connection of the node's (PgStoreOptions.statementTimeoutMs; default STORE_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
  /** How long a queue given up to another node may drain its attempts in flight. */
  handoverGraceMs?: number;
  report: (line: string) => void;
}

export class ClusterNode implements RouterTable, GrpcTable {
  private readonly ownedQueues = new Map<string, OwnedQueue>();
  /** Every owned queue's appends, one transaction per group (group-commit.ts). */
  private readonly commits: GroupCommitStore;
  private readonly busy = new Set<string>();
  /** One set of connections to the workers for all the queues this node owns (origin-pools.ts), as one `pushq serve` has. */
  private readonly originPools: OriginPools;
  private owners = new Map<string, QueueOwner>();
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private refreshing: Promise<void> | null = null;
  private stopping = false;
  private lastTickError: string | null = null;
  /** The live nodes' configurations as last reported to disagree (a key of node=hash pairs), or null while they agree. */
  private lastDisagreement: string | null = null;
  private router!: Router;
  private grpc: GrpcFront | undefined;
  private apiUrl = '';
  private grpcAddress = '';
  /** queue.yaml as this node last read it (at start, or by a reload): placement and every queue taken use it. */
  private config: QueueFileConfig;
  /** Whether that file names `default` (ConfigResult's declaresDefault): when not, each deploy keeps the default queue as it is. */
  private declaresDefault: boolean;
  private reloads: Promise<unknown> = Promise.resolve();
  /** total_storage_limit across the nodes: each queue's figure published, the others' read (storage-budget.ts). */
  private budget: StorageBudget | undefined;

  private constructor(
    private readonly options: ClusterNodeOptions,
    readonly store: PgStore,
    private readonly leases: PgStore,
    private readonly membership: Membership,
    /** This node's name (node-sessions.ts): in pushq_nodes, the leases it holds, its lines. */
    readonly node: string,
  ) {
    this.commits = new GroupCommitStore(store);
    this.config = options.config;
    this.declaresDefault = options.service.configDeclaresDefault !== false;
    this.originPools = new OriginPools(options.service.connections);
  }

  /** Opens the store (refusing a bad one before anything is written), listens, joins. Throws StoreError or a listen error. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const guard = await RequestGuard.create(options.service);
    // A paused node's open transaction must not hold its queue's row past the lease (pg-store.ts).
    const name = newNodeName();
    const sessions = nodeSessions(name, options.storeUrl, options.statementTimeoutMs, options.report);
    const bound = sessions.session;
    const store = await PgStore.open(options.storeUrl, { connections: 8, idleInTransactionMs: Math.max(500, options.leaseMs / 2), otherTables: CLUSTER_TABLES, ...bound });
    let membership: Membership;
    let leases: PgStore;
    try {
      // The two modes keep different streams: a cluster on a single node's store would not see its tasks.
      if ((await store.header(NODE_STREAM)) !== null) {
        throw new StoreError('STORE_FAILED', `${store.displayUrl}: this store holds a single node's log (pushq serve --store without --cluster); a cluster needs a store of its own; nothing was written`);
      }
      leases = await PgStore.open(options.storeUrl, { connections: 2, otherTables: CLUSTER_TABLES, ...bound });
      try {
        membership = await Membership.open(options.storeUrl, bound);
      } catch (err) {
        await leases.close();
        throw err;
      }
    } catch (err) {
      await store.close();
      throw err;
    }
    const node = new ClusterNode(options, store, leases, membership, name);
    try {
      const host = options.service.host ?? '127.0.0.1';
      node.router = await Router.start(node, guard, host, options.port, ownerAnswerBoundMs(options.leaseMs));
      node.grpc = await GrpcFront.start(node, host, options.grpcPort, ownerAnswerBoundMs(options.leaseMs), guard.grpcAuthorize, node.router.budget, node.router.bodies); // one connection bound and one body budget for both ports
      node.apiUrl = options.advertiseUrl ?? node.router.url;
      node.grpcAddress = `${new URL(node.apiUrl).hostname}:${node.grpc.port}`;
      node.budget = await StorageBudget.open(options.storeUrl, node.node, { owned: () => node.ownedStorage(), live: (q) => node.ownedQueues.get(q)?.storedBytes, configured: () => node.queues() }, options.report, bound);
      await node.budget.round(); // the other nodes' figures are known before this node takes a queue
      await node.tick();
      sessions.started();
    } catch (err) {
      await node.budget?.close().catch(() => undefined);
      await node.router?.close().catch(() => undefined);
      await node.grpc?.close().catch(() => undefined);
      await membership.close().catch(() => undefined);
      await leases.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      throw err;
    }
    node.ticker = setInterval(() => void node.tick(), Math.max(50, Math.floor(options.leaseMs / 3)));
    node.budget.start(storageRoundMs());
    return node;
  }

  private ownedStorage(): OwnedStorage[] {
    return [...this.ownedQueues.values()].map((o) => ({ queue: o.queue, epoch: o.epoch, bytes: o.storedBytes }));
  }

  get url(): string {
    return this.router.url;
  }

  get port(): number {
    return this.router.port;
  }

  /** The port of the node's gRPC API. */
  get grpcPort(): number {
    return this.grpc?.port ?? 0;
  }

  /**
   * The owned queue whose service takes new calls for `queue`: none once its end has begun (a lost
   * lease, or a hand-over that drains), though it stays in `ownedQueues` until its stop is done.
   * New calls then get the answers of a queue this node does not own (QUEUE_OWNER_*, marked not
   * taken, or forwarded to the new owner once the store names it), never the stopping service's
   * SHUTTING_DOWN; calls the service took already are answered by it.
   */
  private serving(queue: string): OwnedQueue | undefined {
    const owned = this.ownedQueues.get(queue);
    return owned === undefined || owned.ending ? undefined : owned;
  }

  // ---- GrpcTable ----

  localGrpc(queue: string): string | undefined {
    return this.serving(queue)?.grpcAddress;
  }

  remoteGrpc(queue: string): string | undefined {
    const o = this.owners.get(queue);
    return o === undefined || o.node === this.node ? undefined : o.grpc;
  }

  // ---- RouterTable ----

  local(queue: string): string | undefined {
    return this.serving(queue)?.url;
  }

  serveLocally(queue: string, req: IncomingMessage, res: ServerResponse): boolean {
    const owned = this.serving(queue);
    if (owned === undefined) return false;
    owned.serve(req, res);
    return true;
  }

  remote(queue: string): string | undefined {
    const o = this.owners.get(queue);
    return o === undefined || o.node === this.node ? undefined : o.url;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.membership
      .owners()
      .then(
        (owners) => {
          this.owners = new Map(owners.map((o) => [o.queue, o]));
        },
        () => undefined, // the store is unreachable: the caller answers UNAVAILABLE
      )
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  queues(): readonly string[] {
    return this.config.queues.map((q) => q.name);
  }

  owned(): readonly string[] {
    return [...this.ownedQueues.keys()].filter((q) => this.serving(q) !== undefined).sort();
  }

  // ---- the tick ----

  /** One round of heartbeat, placement and owner lookup; never two at once. */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.stopping) return;
    const { leaseMs } = this.options;
    try {
      const applied = this.appliedConfig();
      await this.membership.heartbeat(this.node, this.apiUrl, this.grpcAddress, leaseMs, applied);
      // This node as it is now (a reload since the heartbeat is announced at the next one).
      const live = [...(await this.membership.liveNodes()).filter((n) => n.node !== this.node), { node: this.node, config: this.appliedConfig() }];
      this.reportDisagreement(live);
      for (const queue of this.queues()) {
        if (this.busy.has(queue) || this.stopping) continue;
        // Only a node whose file holds the queue can run it: one that lacks it would never take it,
        // and the queue would stay without owner (QUEUE_OWNER_UNKNOWN) for as long as that node lives.
        const mine = ownerFor(queue, live.filter((n) => n.config === null || n.config.queues.includes(queue)).map((n) => n.node)) === this.node;
        const held = this.ownedQueues.get(queue);
        if (mine && held === undefined) this.run(queue, () => this.take(queue));
        else if (!mine && held !== undefined) this.run(queue, () => this.giveUp(held, 'it hashes to another live node'));
      }
      this.owners = new Map((await this.membership.owners()).map((o) => [o.queue, o]));
      this.grpc?.closeUnused(); // a client per address no owner answers at now would be held for ever
      if (this.lastTickError !== null) this.options.report(`pushq serve: node ${this.node}: the store answers again`);
      this.lastTickError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (this.lastTickError !== message) this.options.report(`pushq serve: node ${this.node}: cannot reach the store (${message}); owned queues stop when their leases run out, retrying`);
      this.lastTickError = message;
    }
  }

  /** The queue configuration this node applies now, as it announces it. */
  private appliedConfig(): AppliedConfig {
    const config = this.config;
    if (this.announced?.of !== config) this.announced = { of: config, applied: { hash: configHash(config), queues: config.queues.map((q) => q.name) } };
    return this.announced.applied;
  }

  /** The configuration last announced, hashed once per reload rather than at every tick. */
  private announced: { of: QueueFileConfig; applied: AppliedConfig } | undefined;

  /**
   * Says so when the live nodes announce different queue configurations, once per change of who
   * runs which, and once when they agree again. Each queue is placed only on nodes whose file holds
   * it, and a queue's owner applies its own file's settings to it (a handover may change them):
   * an operator who forgot a machine's file, or one node's SIGHUP, learns it here.
   */
  private reportDisagreement(live: readonly LiveNode[]): void {
    const announced = live.filter((n): n is LiveNode & { config: AppliedConfig } => n.config !== null);
    const hashes = new Set(announced.map((n) => n.config.hash));
    if (hashes.size <= 1) {
      if (this.lastDisagreement !== null) this.options.report(`pushq serve: node ${this.node}: the live nodes apply the same queue configuration again (${[...hashes][0]?.slice(0, 12) ?? 'none announced'})`);
      this.lastDisagreement = null;
      return;
    }
    const key = announced.map((n) => `${n.node}=${n.config.hash}`).join(' ');
    if (key === this.lastDisagreement) return;
    this.lastDisagreement = key;
    this.options.report(`pushq serve: node ${this.node}: warning: ${describeDisagreement(announced)}`);
  }

  /** Runs a take or a give-up of `queue`, one at a time per queue. */
  private run(queue: string, work: () => Promise<void>): void {
    this.busy.add(queue);
    work()
      .catch((err: unknown) => this.options.report(`pushq serve: node ${this.node}: queue ${queue}: ${(err as Error).message}`))
      .finally(() => this.busy.delete(queue));
  }

  private async take(queue: string): Promise<void> {
    const file = this.config;
    const config = queueFile(file, queue);
    if (config === null) return; // removed by a reload since the tick placed it
    const owned = await OwnedQueue.take({
      store: this.commits,
      leases: this.leases,
      node: this.node,
      queue,
      config,
      header: this.options.headerFor(config),
      leaseMs: this.options.leaseMs,
      service: { ...this.options.service, originPools: this.originPools, configDeclaresDefault: this.declaresDefault },
      storedElsewhere: () => this.budget?.elsewhere(queue) ?? 0,
      onAcquired: (epoch) => this.options.report(`pushq serve: node ${this.node} taking queue ${queue} (epoch ${epoch}): replaying its stream`),
      onLost: (q, why) => {
        if (this.ownedQueues.get(q) === owned) this.ownedQueues.delete(q);
        this.options.report(`pushq serve: node ${this.node} lost queue ${q}: ${why}; stopped dispatching it`);
      },
    });
    if (owned === null) return; // another node's lease has not run out yet: next tick
    if (this.stopping) {
      await owned.release(0);
      return;
    }
    this.ownedQueues.set(queue, owned);
    this.options.report(`pushq serve: node ${this.node} owns queue ${queue} (epoch ${owned.epoch}, replayed ${owned.replayedEvents} event${owned.replayedEvents === 1 ? '' : 's'})`);
    // Push tasks a file made `mode: pull` strands, and a service no --target gives a URL, said by the node that owns the queue, as one node's start says them.
    const state = owned.service.kernel.state;
    for (const line of [...strandedTaskLines(state, this.options.configPath), ...unroutedQueueLines(state.queues, this.options.service.targets)]) this.options.report(`pushq serve: node ${this.node}: warning: ${line}`);
    // A reload while the queue was being taken: it gets the file as it is now, as the queues already owned did.
    if (this.config !== file) {
      const now = queueFile(this.config, queue);
      if (now === null) await this.giveUp(owned, 'it was removed from queue.yaml');
      else await owned.applyFile(now, this.declaresDefault);
    }
  }

  private async giveUp(owned: OwnedQueue, why: string): Promise<void> {
    this.ownedQueues.delete(owned.queue);
    await owned.release(this.options.handoverGraceMs ?? 2000);
    this.options.report(`pushq serve: node ${this.node} released queue ${owned.queue}: ${why}`);
  }

  /**
   * Reads queue.yaml again (SIGHUP, POST /pushq/reload) on a worker thread, as one node does
   * (config-thread.ts): an invalid file changes nothing. Each queue this node owns and the file still
   * holds gets its new configuration (deploy semantics, as one node's reload); a queue the file no
   * longer holds is given up (its stream and tasks stay in the store; no node takes it while the
   * file lacks it); a new queue is placed at once (the tick runs). Queues taken later are taken
   * with this file. One reload at a time, each reading the file at its turn.
   */
  reload(): Promise<ReloadOutcome> {
    const next = this.reloads.then(() => this.reloadNow());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    if (this.stopping) return reloadWhileStopping();
    const path = this.options.configPath;
    if (path === undefined) return { ok: true, lines: ['no queue.yaml was given (--config): only the default queue exists; nothing to reload'] };
    const result = await loadQueueConfigFileOffThread(path);
    if (result.config === null) return { ok: false, lines: result.errors.map(formatIssue) };
    // The stop may have begun while the file was read (its thread takes a while for a large one).
    if (this.stopping) return reloadWhileStopping();
    const before = new Set(this.queues());
    this.config = result.config;
    this.declaresDefault = result.declaresDefault;
    const lines = [`${path}: applied (${result.config.queues.length} queues) on node ${this.node}`, ...result.warnings.map(formatIssue)];
    const applied: string[] = [];
    for (const owned of [...this.ownedQueues.values()]) {
      const file = queueFile(result.config, owned.queue);
      if (file === null) {
        this.run(owned.queue, () => this.giveUp(owned, 'it was removed from queue.yaml'));
        lines.push(`queue ${owned.queue}: removed from queue.yaml; released (its tasks stay in the store)`);
        continue;
      }
      try {
        await owned.applyFile(file, result.declaresDefault);
        applied.push(owned.queue);
        lines.push(...strandedTaskLines(owned.service.kernel.state, this.options.configPath));
      } catch (err) {
        lines.push(`queue ${owned.queue}: not applied here (${(err as Error).message}); its next owner applies its own file`);
      }
    }
    if (applied.length > 0) lines.push(`applied to the queues this node owns: ${applied.sort().join(', ')}`);
    lines.push(...unroutedQueueLines(applied.flatMap((q) => this.ownedQueues.get(q)?.service.kernel.state.queues ?? []), this.options.service.targets));
    const added = this.queues().filter((q) => !before.has(q));
    if (added.length > 0) lines.push(`new queues, placed now: ${added.join(', ')}`);
    void this.tick();
    // A queue whose kernel refused (its lease just lost) gets the file from its next owner, which takes it with its own.
    return { ok: true, lines };
  }

  /** Stops: no more calls, each owned queue drained up to `graceMs` and released, the node taken out of the table at once. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.ticker);
    await this.ticking;
    await this.router.close();
    await this.grpc?.close();
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 20));
    const all = [...this.ownedQueues.values()];
    this.ownedQueues.clear();
    await Promise.all(all.map((o) => o.release(graceMs)));
    await this.budget?.close();
    await this.membership.leave(this.node).catch(() => undefined);
    await this.membership.close().catch(() => undefined);
    await this.leases.close().catch(() => undefined);
    await this.store.close().catch(() => undefined);
    // After every queue's service: each waited for its own requests (graceMs) or aborted them.
    await this.originPools.destroy();
  }
}

/** The queue file with `queue` alone (what its kernel runs on), or null when the file lacks it. */
function queueFile(file: QueueFileConfig, queue: string): QueueFileConfig | null {
  const qc = file.queues.find((q) => q.name === queue);
  return qc === undefined ? null : { ...file, queues: [qc] };
}
