/**
 * In a SERIALIZABLE run of the PostgreSQL swarm (pg-run.ts), one node's flushes at a time.
 *
 * Why. A few operations reach owners on several nodes at once (the clients' retries once the
 * faults stop, every queue's last flush), so those nodes' append transactions overlap in wall-clock
 * time. Under READ COMMITTED that decides nothing: they write different streams' rows, and only
 * row locks order them. Under SERIALIZABLE, PostgreSQL's SSI tracks read/write dependencies between
 * transactions that overlap, through predicate (SIREAD) locks coarser than the rows read: the
 * group append's claim of three streams took a lock on the whole `pushq_streams` relation, one of
 * a single stream a page of its primary key, a read of `pushq_events` the leaf pages it scanned. So
 * a node's append to q0, q2 and q3, another node's append to q1 and the first node's next append
 * made a dangerous structure, and the third was aborted (40001, "Canceled on identification as a
 * pivot, during write") when it began before the second had committed, not when after: a matter
 * of the second's commit (its fsync) taking a millisecond more or less, not of the seed. Seed 52
 * counted 2 or 3 conflicts retried from run to run, seed 80 1 or 2, with the same streams.
 *
 * So a flush of another node waits until every flush of the node whose turn it is has settled; a
 * flush of the same node joins its turn (its group commit bundles them as before); a flush with
 * nothing to wait for starts at once, as without turns. Every other store call of the run is
 * awaited before the next starts (`PgSwarmRun.settle`), so what overlaps then is only what the run
 * holds on purpose at one point (pg-cut.ts: an acquire racing an append), which the held row
 * orders, the same every time.
 */
import type { SimNode } from './pg-model.js';

/** One node's turn: its flushes, which start once every flush of the turns before has settled. */
class Turn {
  /** Whether the turns before have settled: a flush joining this turn then starts at once. */
  open: boolean;
  readonly ready: Promise<void>;
  readonly calls = new Set<Promise<unknown>>();

  constructor(
    readonly node: SimNode,
    /** The turn before, still busy; it takes no flush from now on (a later flush of its node opens a turn of its own). */
    before: Turn | null,
  ) {
    this.open = before === null;
    this.ready =
      before === null
        ? Promise.resolve()
        : (async () => {
            await before.ready;
            while (before.calls.size > 0) await Promise.allSettled([...before.calls]);
            this.open = true;
          })();
  }

  get idle(): boolean {
    return this.open && this.calls.size === 0;
  }
}

export class NodeTurns {
  private last: Turn | null = null;

  /** Starts `flush` (a flush of one of `node`'s queues) in `node`'s turn: now, or once the other nodes' flushes before it settled. */
  run<T>(node: SimNode, flush: () => Promise<T>): Promise<T> {
    const last = this.last;
    const turn = last !== null && last.node === node ? last : (this.last = new Turn(node, last === null || last.idle ? null : last));
    const call = turn.open ? flush() : turn.ready.then(flush);
    const settled: Promise<unknown> = call.then(
      () => turn.calls.delete(settled),
      () => turn.calls.delete(settled),
    );
    turn.calls.add(settled);
    return call;
  }
}
