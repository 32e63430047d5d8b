/**
 * The connection pool of a PgStore or a PgSession: the statement bounds of its options
 * (pg-options.ts), the password from wherever the user keeps it (pg-password.ts), and its
 * sessions' lock waits watched (pg-waits.ts), so a STORE_TIMEOUT that ends one names who held it.
 */
import pg from 'pg';
import { poolConfig, type PgStoreOptions } from './pg-options.js';
import { storeClient } from './pg-password.js';
import { LockWaits } from './pg-waits.js';

export interface StorePool {
  pool: pg.Pool;
  /** The statement bound (statementBounds' `ms`), named by a STORE_TIMEOUT. */
  boundMs: number;
  /** The options' LockWaits, or one of the pool's own. */
  waits: LockWaits;
}

/** A pool on `url` (shown as `shown`, password hidden) for `options`. */
export function storePool(url: string, shown: string, options: PgStoreOptions): StorePool {
  const { config, boundMs } = poolConfig(url, options);
  const pool = new pg.Pool({ ...config, Client: storeClient(shown) });
  // A connection lost while idle is reported here; the next statement gets a new one (or fails as UNAVAILABLE).
  pool.on('error', () => undefined);
  const waits = options.lockWaits ?? new LockWaits(url, { statementTimeoutMs: boundMs });
  waits.watch(pool);
  return { pool, boundMs, waits };
}
