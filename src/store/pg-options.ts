/**
 * How a PgStore connects (pg-store.ts): its options, and the bounds of one statement, so that a
 * store that takes statements and does not answer fails them (STORE_TIMEOUT) instead of hanging.
 */
import type pg from 'pg';
import type { ConflictRetryOptions } from './pg-retry.js';
import type { LockWaits } from './pg-waits.js';

export interface PgStoreOptions {
  /** Connections in the pool (default 4). */
  connections?: number;
  /** Give up connecting after this long (default 5,000 ms): an unreachable store fails the start, it does not hang it. */
  connectTimeoutMs?: number;
  /**
   * The server ends a session idle inside a transaction this long (default: never). A writer
   * paused mid-append (SIGSTOP) holds its stream row's lock; without this, the next owner's
   * acquire waits for it to wake. Ended, the paused append is rolled back: nothing committed.
   */
  idleInTransactionMs?: number;
  /**
   * The isolation level of every transaction (default: the server's, READ COMMITTED on
   * PostgreSQL). 'serializable' runs the store as CockroachDB always does: conflicts then abort a
   * transaction with 40001, which is retried (the tests use it to provoke real conflicts).
   */
  isolation?: 'serializable';
  /** Retries of a transaction aborted by a conflict (pg-retry.ts): attempts, backoff, the jitter's source. */
  conflictRetry?: ConflictRetryOptions;
  /**
   * The bound of one statement (default STORE_STATEMENT_TIMEOUT_MS; pg-errors.ts): past it, it
   * fails STORE_TIMEOUT instead of waiting for as long as a lock another session holds on pushq's
   * tables, or a server that takes statements and does not answer (a stopped backend or
   * postmaster, a network that hangs), lasts. See statementBounds.
   */
  statementTimeoutMs?: number;
  /** The sessions' application_name (default 'pushq'): how other sessions' lock waits (pg-waits.ts), and an operator's pg_stat_activity, name them. */
  applicationName?: string;
  /**
   * Watches the sessions' lock waits (pg-waits.ts): says who holds them up while they wait (its
   * `report`) and in the STORE_TIMEOUT that ends one. Several pools of one process may share one
   * (a cluster node's). Default: one of the store's own, which reports nothing while waiting.
   */
  lockWaits?: LockWaits;
  /** Tables of pushq's beside the store's (a cluster's), named with them in the GRANT a refusal for want of a privilege gives. */
  otherTables?: readonly string[];
}

/** How long one statement may wait for the store by default: 30 s. */
export const STORE_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The three bounds of a statement, from the one given (`ms`): the server cancels a wait for a lock
 * at `ms` (SQLSTATE 55P03, so the message can say a lock held it up), any statement at `ms` + 1 s
 * (57014), and the client gives up at `ms` + 3 s on a server that does not answer at all (its
 * cancellation cannot come). Each after the one before, so the most telling one is the one seen.
 */
export function statementBounds(ms: number): { lockMs: number; statementMs: number; clientMs: number } {
  const lockMs = Math.max(1, Math.round(ms));
  return { lockMs, statementMs: lockMs + 1000, clientMs: lockMs + 3000 };
}

/** The pool's configuration for `options` (its Client is the caller's), and the statement bound a STORE_TIMEOUT names. */
export function poolConfig(url: string, options: PgStoreOptions): { config: pg.PoolConfig; boundMs: number } {
  const bounds = statementBounds(options.statementTimeoutMs ?? STORE_STATEMENT_TIMEOUT_MS);
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.connections ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // Startup parameters (every session): the server's own bounds; query_timeout is the client's.
    lock_timeout: bounds.lockMs,
    statement_timeout: bounds.statementMs,
    query_timeout: bounds.clientMs,
    application_name: options.applicationName ?? 'pushq',
    ...(options.idleInTransactionMs === undefined ? {} : { idle_in_transaction_session_timeout: Math.round(options.idleInTransactionMs) }),
    // A startup parameter: every session, so single statements too, runs at that level.
    ...(options.isolation === 'serializable' ? { options: '-c default_transaction_isolation=serializable' } : {}),
  };
  return { config, boundMs: bounds.lockMs };
}
