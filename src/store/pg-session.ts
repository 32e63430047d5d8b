/**
 * A small PostgreSQL connection pool for one table of its own beside the store (a cluster's node
 * list, its storage figures): opened with the table created when missing, every statement's
 * failure a StoreError naming the URL with its password hidden (pg-errors.ts).
 */
import pg from 'pg';
import { describePgError } from './pg-errors.js';
import { storeClient } from './pg-password.js';
import { createRacing } from './pg-schema.js';
import { redactUrl } from './store.js';

export class PgSession {
  private constructor(
    private readonly pool: pg.Pool,
    /** The URL, password hidden. */
    readonly shown: string,
  ) {}

  /**
   * Connects (`connections` at most) and runs `createTable` (again if it lost the race to another
   * creator), then each of `alter` (idempotent: the columns a table made by an earlier pushq lacks);
   * closes again if it fails. Throws StoreError.
   */
  static async open(url: string, connections: number, createTable: string, alter: readonly string[] = []): Promise<PgSession> {
    const shown = redactUrl(url);
    const pool = new pg.Pool({ connectionString: url, Client: storeClient(shown), max: connections, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // an idle connection lost: the next statement reports it
    const session = new PgSession(pool, shown);
    try {
      // Nodes started together on an empty database create the table at once (pg-schema.ts).
      await createRacing(() => pool.query(createTable));
      for (const statement of alter) await createRacing(() => pool.query(statement));
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw describePgError(err, session.shown);
    }
    return session;
  }

  /** One statement; its failure as a StoreError. */
  async q<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw describePgError(err, this.shown);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
