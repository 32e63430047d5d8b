/**
 * The parts of the PostgreSQL swarm (pg-run.ts): simulated nodes, the owners of queues they run,
 * and what the swarm knows of each queue's stream.
 *
 * A node stands for one `pushq serve --cluster` process: its own PgStore (its own connections, as
 * a process has), and for each queue it owns one kernel over a StoreEventLog of the queue's stream,
 * as src/cluster/owned-queue.ts runs one service per owned queue; the logs append through the
 * node's group commit, so batches of several queues flushed together share one transaction. An owner is one epoch of one
 * stream. It is:
 * - `live`: it holds the lease and runs (time advances its kernel, clients reach it);
 * - `zombie`: its lease ran out and the node does not know yet (a process paused or cut off past
 *   its lease). It dispatches nothing — a real node's lease validity gate (src/cluster/leased-log.ts)
 *   starts no attempt past its lease, so its kernel is not advanced — but a stale router may still
 *   send it a create, and it still tries to write what it holds: those appends are the ones the
 *   store must refuse once another epoch took the stream;
 * - `gone`: its node crashed, it gave the queue up, or it learnt it was deposed.
 */
import { GroupCommitStore } from '../../cluster/group-commit.js';
import type { VirtualDriver } from '../../engine/virtual-driver.js';
import type { SnapshotWriter } from '../../server/stream-snapshots.js';
import type { ReadModels } from '../../server/read-models.js';
import type { PgStore } from '../../store/pg-store.js';
import type { Lease } from '../../store/store.js';
import type { Handover, Incarnation } from './checks.js';
import type { RecordedStoreLog } from './recorded-store-log.js';

export class SimNode {
  alive = true;
  /** What its queues' logs append through: one transaction for every queue with a batch, as a node's (src/cluster/group-commit.ts). */
  readonly commits: GroupCommitStore;

  constructor(
    /** Its slot (0..nodes-1): a restarted node comes back in the same slot with a new name. */
    readonly slot: number,
    /** Its name as a lease owner; a new one at each restart (as a node's name holds its pid). */
    readonly name: string,
    readonly store: PgStore,
  ) {
    this.commits = new GroupCommitStore(store);
  }
}

export type OwnerState = 'live' | 'zombie' | 'gone';

export class QueueOwner {
  state: OwnerState = 'live';
  /** Why the store refused this epoch (STORE_FENCED), once it has. */
  fenced: string | null = null;
  driver!: VirtualDriver;
  /** The read models a queue's service keeps, fed by its kernel (what a fold snapshot holds beside the state). */
  models!: ReadModels;
  /** Its fold snapshots (the real writer; the run says when: pg-snapshots.ts). */
  snapshots!: SnapshotWriter;

  constructor(
    readonly node: SimNode,
    readonly stream: StreamTrack,
    readonly lease: Lease,
    readonly log: RecordedStoreLog,
    /** Its index in the stream's incarnations (what the worker records its deliveries under). */
    readonly incarnation: number,
  ) {}

  get kernel(): VirtualDriver['kernel'] {
    return this.driver.kernel;
  }

  /** Whether an answer it gives reaches the client (a crashed process answers nothing). */
  get answering(): boolean {
    return this.node.alive && this.state !== 'gone';
  }

  toString(): string {
    return `${this.stream.queue}@${this.node.name} (epoch ${this.lease.epoch})`;
  }
}

/** What the swarm knows of one queue's stream. */
export class StreamTrack {
  /** Its owners so far, in epoch order, each with how many of its events are in the stream. */
  readonly incarnations: Incarnation[] = [];
  /** The stream as the last owner found it when it took over, as encoded lines. */
  history: string[] = [];
  readonly handovers: Handover[] = [];
  /** The owner of the latest epoch (it may be a zombie, or gone). */
  owner: QueueOwner | null = null;
  /** Every owner it has had, oldest first (zombies among them). */
  readonly owners: QueueOwner[] = [];
  /** The lease as the swarm has left it: held (not run out, not released) by `owner`. */
  leaseHeld = false;

  constructor(
    readonly queue: string,
    readonly stream: string,
  ) {}

  /** The live owner, if the queue has one. */
  get live(): QueueOwner | null {
    return this.owner !== null && this.owner.state === 'live' && this.owner.node.alive ? this.owner : null;
  }
}
