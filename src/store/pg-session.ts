/**
 * A small PostgreSQL connection pool for one table of its own beside the store (a cluster's node
 * list, its storage figures): opened with the table created when missing, every statement's
 * failure a StoreError naming the URL with its password hidden (pg-errors.ts).
 */
import pg from 'pg';
import { STORE_ROLE_QUERY, alterRefused, describePgError, privilegeError, tablesCreatedBy, type StoreRole } from './pg-errors.js';
import { createRacing } from './pg-schema.js';
import type { PgStoreOptions } from './pg-options.js';
import { storePool } from './pg-pool.js';
import type { LockWaits } from './pg-waits.js';
import { StoreError, redactUrl } from './store.js';

/** A session's bound (default STORE_STATEMENT_TIMEOUT_MS), its application_name, and the LockWaits it shares (PgStoreOptions). */
export type SessionOptions = Pick<PgStoreOptions, 'statementTimeoutMs' | 'applicationName' | 'lockWaits'>;

export class PgSession {
  private constructor(
    private readonly pool: pg.Pool,
    /** The URL, password hidden. */
    readonly shown: string,
    /** The table, and who the sessions run as: a refusal for want of a privilege names the GRANT. */
    private readonly table: string,
    private readonly role: StoreRole | null,
    /** The statement bound (statementBounds' `ms`), named by a STORE_TIMEOUT. */
    private readonly boundMs: number,
    private readonly waits: LockWaits,
  ) {}

  /**
   * Connects (`connections` at most) and runs `createTable` (again if it lost the race to another
   * creator) when the table is not there, then each of `alter` (`ADD COLUMN IF NOT EXISTS`: the
   * columns a table made by an earlier pushq lacks) whose column it lacks; closes again if it fails.
   * Throws StoreError.
   *
   * Neither statement runs when it has nothing to do: CREATE TABLE IF NOT EXISTS is refused for
   * want of CREATE on the schema, and ALTER TABLE to anyone but the table's owner, even when the
   * table or the column is there; a node running as a user granted the tables (made by another)
   * must start. to_regclass and pg_attribute see them whatever the user's privileges.
   */
  static async open(url: string, connections: number, createTable: string, alter: readonly string[] = [], options: SessionOptions = {}): Promise<PgSession> {
    const shown = redactUrl(url);
    const table = tablesCreatedBy([createTable])[0]!;
    // Bounded as the store's own statements are (pg-options.ts, poolConfig): a lock another
    // session holds on this table must not hold a heartbeat or a storage round up for ever; and
    // a STORE_TIMEOUT ending a lock wait names who held it (pg-waits.ts).
    const { pool, boundMs, waits } = storePool(url, shown, { ...options, connections });
    let role: StoreRole | null = null;
    try {
      await waits.around(async () => {
        const r = await pool.query<{ username: string; schema: string | null; found: boolean }>(`${STORE_ROLE_QUERY}, to_regclass($1) IS NOT NULL AS found`, [table]);
        role = { user: r.rows[0]!.username, schema: r.rows[0]!.schema };
        // Nodes started together on an empty database create the table at once (pg-schema.ts).
        if (!r.rows[0]!.found) await createRacing(() => pool.query(createTable));
        for (const [i, statement] of alter.entries()) {
          const column = /ADD COLUMN IF NOT EXISTS\s+(\w+)/.exec(statement)?.[1];
          if (column !== undefined) {
            const has = await pool.query('SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped', [table, column]);
            if ((has.rowCount ?? 0) > 0) continue;
          }
          try {
            await createRacing(() => pool.query(statement));
          } catch (err) {
            // The table is there (made by an earlier pushq) and only its owner may alter it: not
            // the "creating its tables" refusal below, whose GRANT CREATE would not help.
            throw alterRefused(err, shown, role, table, alter.slice(i)) ?? err;
          }
        }
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof StoreError) throw err;
      throw privilegeError(err, shown, role, [table], true) ?? describePgError(err, shown, boundMs);
    }
    return new PgSession(pool, shown, table, role, boundMs, waits);
  }

  /** One statement; its failure as a StoreError. */
  async q<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.waits.around(() => this.pool.query<R>(text, values));
    } catch (err) {
      throw privilegeError(err, this.shown, this.role, [this.table], false) ?? describePgError(err, this.shown, this.boundMs);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
