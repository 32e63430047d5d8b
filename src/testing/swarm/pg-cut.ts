/**
 * Two moments inside a node's append transaction, reached at the same point every time (so a seed
 * still gives the same run). The swarm's own connection first inserts, uncommitted, a row at the
 * position the append will take: the append's transaction then moves the stream's
 * `next_position` (its fenced UPDATE, which locks the stream's row until it ends) and waits on
 * that row in its INSERT. The swarm sees it waiting (pg_stat_activity, by the node's
 * application_name), and then either
 * - **cuts** it: ends the node's connection the way a killed process's socket ends
 *   (pg_terminate_backend). PostgreSQL rolls the cut transaction back: nothing of the batch, and no
 *   moved position, may be seen afterwards; or
 * - **races** it with another node's acquire of the same stream, sent while the append holds the
 *   stream's row, and seen waiting for it too; then lets the append go. The two transactions meet
 *   on the one row, as an append and a takeover do when a lease runs out under load.
 * Either way the held row is rolled back. A snapshot put is held the same way, on the stream's
 * snapshot row (pg-snapshots.ts), and cut.
 */
import pg from 'pg';
import { SwarmCheckFailure } from './checks.js';

/** How long to wait for a transaction to reach the lock it must wait on (it is on its way when asked). */
const REACH_MS_MAX = 10_000;

export class HeldPosition {
  private constructor(
    private readonly c: pg.Client,
    readonly stream: string,
  ) {}

  /** Holds `stream`'s next position (an uncommitted row there) until `release`. */
  static async take(url: string, stream: string): Promise<HeldPosition> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('BEGIN');
      const next = await c.query<{ next_position: string }>('SELECT next_position FROM pushq_streams WHERE stream = $1', [stream]);
      await c.query(`INSERT INTO pushq_events (stream, position, epoch, body) VALUES ($1, $2, -1, 'swarm: holds this position')`, [stream, next.rows[0]!.next_position]);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    return new HeldPosition(c, stream);
  }

  /**
   * Holds `stream`'s snapshot row (locked, or an uncommitted row in its place when it has none)
   * until `release`: a snapshot put (its INSERT … ON CONFLICT DO UPDATE) waits on it.
   */
  static async snapshotRow(url: string, stream: string): Promise<HeldPosition> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('BEGIN');
      const locked = await c.query('SELECT 1 FROM pushq_snapshots WHERE stream = $1 FOR UPDATE', [stream]);
      if (locked.rowCount === 0) await c.query(`INSERT INTO pushq_snapshots (stream, position, epoch, body) VALUES ($1, 0, -1, ''::BYTEA)`, [stream]);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    return new HeldPosition(c, stream);
  }

  /** The backend of `applicationName` once it waits on a lock in a statement containing `statement` (an append's INSERT is inside its one WITH statement). */
  async waiting(applicationName: string, statement: string): Promise<number> {
    const until = Date.now() + REACH_MS_MAX;
    for (;;) {
      // Inside a transaction, PostgreSQL answers pg_stat_activity from one snapshot until told to drop it.
      await this.c.query('SELECT pg_stat_clear_snapshot()');
      const r = await this.c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE $2`, [applicationName, `%${statement}%`]);
      if (r.rows.length > 0) return r.rows[0]!.pid;
      if (Date.now() > until) {
        const seen = await this.c.query(`SELECT state, wait_event_type, wait_event, left(query, 60) AS query FROM pg_stat_activity WHERE application_name = $1`, [applicationName]);
        throw new SwarmCheckFailure('engine-error', `${applicationName} never came to wait in "${statement}" on ${this.stream} (${REACH_MS_MAX} ms); its connections: ${JSON.stringify(seen.rows)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Ends a backend's connection, as a killed process's socket ends. */
  async terminate(pid: number): Promise<void> {
    await this.c.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  /** Rolls the held row back: a transaction waiting on it goes on. */
  async release(): Promise<void> {
    await this.c.query('ROLLBACK').catch(() => undefined);
    await this.c.end().catch(() => undefined);
  }
}

/** The statement an append waits in, behind the held row (PgStore.appendClaimed's, or a batch judged alone). */
export const APPEND_INSERT = 'INSERT INTO pushq_events';
/** The statement a snapshot put waits in, behind the held snapshot row. */
export const SNAPSHOT_PUT = 'INSERT INTO pushq_snapshots';
/** The statement an acquire waits in, behind an append holding the stream's row. */
export const ACQUIRE_UPSERT = 'INSERT INTO pushq_streams';
