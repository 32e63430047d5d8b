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
 */
import { Pool } from 'undici';

/** Connections per origin unless told otherwise (`--connections`). */
export const CONNECTIONS_PER_ORIGIN = 128;

export class OriginPools {
  private readonly pools = new Map<string, Pool>();

  constructor(readonly connections = CONNECTIONS_PER_ORIGIN) {}

  /** The pool for `origin` (`http://host:port`), made on first use. */
  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      // undici's own timeouts are off: the handler deadline is pushq's (deadlines.ts).
      pool = new Pool(origin, { connections: this.connections, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 10_000 });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Waits for the requests in flight, then closes the connections. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }

  /** Aborts the requests in flight and closes the connections now. */
  async destroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
  }
}
