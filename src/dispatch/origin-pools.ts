/**
 * Connections to the workers, one undici Pool per origin, that several dispatchers may share.
 *
 * One `pushq serve` has one dispatcher for all its queues, so each worker sees at most
 * `connections` connections from it. A cluster node runs one service per queue it owns, each
 * with its own dispatcher: with a pool each, a node owning 20 queues opened up to 20 × 128
 * connections to the same worker, and paid a connect (and the worker an accept) for most of its
 * dispatches in a burst. Given one OriginPools, the node's services share its connections, as one
 * process's queues do; each dispatcher keeps its own backpressure window (http-dispatcher.ts) and
 * waits for or aborts only its own requests. The owner of an OriginPools closes it, after the
 * dispatchers that use it.
 *
 * A pool is counted per user (each dispatcher's `get`): `release` by its last user closes it, so
 * the pools of origins no longer used (HTTP targets: any URL a task names) do not pile up. A
 * dispatcher that closes or is destroyed releases every pool it took (a cluster node's queue moved
 * away: its service's origins go with it unless another service still uses them).
 */
import { Pool } from 'undici';

/** Connections per origin unless told otherwise (`--connections`). */
export const CONNECTIONS_PER_ORIGIN = 128;
/** A connection to a worker idle this long is closed (docs/serve.md, Faults: the spare undici opens after closing one). */
export const WORKER_IDLE_MS = 10_000;

export class OriginPools {
  private readonly pools = new Map<string, { pool: Pool; users: number }>();

  /** `idleMs`: WORKER_IDLE_MS but in tests that wait for an idle connection to go (test/server/worker-never-answers.test.ts). */
  constructor(
    readonly connections = CONNECTIONS_PER_ORIGIN,
    readonly idleMs = WORKER_IDLE_MS,
  ) {}

  /** The pool for `origin` (`http://host:port`), made on first use; the caller is one more user of it. */
  get(origin: string): Pool {
    let entry = this.pools.get(origin);
    if (entry === undefined) {
      // undici's own timeouts are off: the handler deadline is pushq's (deadlines.ts).
      entry = { pool: new Pool(origin, { connections: this.connections, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: this.idleMs }), users: 0 };
      this.pools.set(origin, entry);
    }
    entry.users++;
    return entry.pool;
  }

  /**
   * One user of `origin`'s pool is done with it (it has nothing in flight there); the last one
   * closes it. A later `get` makes a new pool.
   */
  release(origin: string): void {
    const entry = this.pools.get(origin);
    if (entry === undefined) return;
    if (--entry.users > 0) return;
    this.pools.delete(origin);
    // Nothing is in flight: close() ends at once, its idle keep-alive sockets with it.
    void entry.pool.close();
  }

  /** How many origins have a pool now. */
  get size(): number {
    return this.pools.size;
  }

  /** Waits for the requests in flight, then closes the connections. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((e) => e.pool.close()));
  }

  /** Aborts the requests in flight and closes the connections now. */
  async destroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((e) => e.pool.destroy()));
  }
}
