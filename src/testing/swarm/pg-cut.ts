/**
 * A node killed in the middle of a transaction of its append, at the same point every time (so
 * the seed still gives the same run): the swarm's own connection first inserts, uncommitted, a row
 * at the position the append will take, so the append's transaction moves the stream's
 * `next_position` (its fenced UPDATE) and then waits on that row in its INSERT. The swarm sees it
 * waiting (pg_stat_activity, by the node's application_name), ends the node's connection the way a
 * killed process's socket ends (pg_terminate_backend), and rolls its own row back. PostgreSQL rolls
 * the cut transaction back: nothing of the batch, and no moved position, may be seen afterwards.
 */
import pg from 'pg';
import { SwarmCheckFailure } from './checks.js';

/** How long to wait for the append to reach the blocking row (it is on its way when asked). */
const REACH_MS_MAX = 10_000;

export class TransactionCutter {
  constructor(private readonly url: string) {}

  /**
   * Holds the stream's next position, runs `start` (which sends an append of `stream` by the node
   * named `applicationName`, or returns false when it has none to send), cuts that node's
   * connection once its transaction waits there, then lets go. `beforeCut` runs just before the
   * connection is ended (the node dies). Returns whether a transaction was cut.
   */
  async cut(stream: string, applicationName: string, start: () => boolean, beforeCut: () => void): Promise<boolean> {
    const blocker = new pg.Client({ connectionString: this.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      const next = await blocker.query<{ next_position: string }>('SELECT next_position FROM pushq_streams WHERE stream = $1', [stream]);
      await blocker.query(`INSERT INTO pushq_events (stream, position, epoch, body) VALUES ($1, $2, -1, 'swarm: holds this position')`, [stream, next.rows[0]!.next_position]);
      if (!start()) return false;
      const pid = await this.waitingBackend(blocker, applicationName);
      beforeCut();
      await blocker.query('SELECT pg_terminate_backend($1)', [pid]);
      return true;
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end().catch(() => undefined);
    }
  }

  private async waitingBackend(c: pg.Client, applicationName: string): Promise<number> {
    const until = Date.now() + REACH_MS_MAX;
    for (;;) {
      // Inside a transaction, PostgreSQL answers pg_stat_activity from one snapshot until told to drop it.
      await c.query('SELECT pg_stat_clear_snapshot()');
      const r = await c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO pushq_events%'`, [applicationName]);
      if (r.rows.length > 0) return r.rows[0]!.pid;
      if (Date.now() > until) {
        const seen = await c.query(`SELECT pid, state, wait_event_type, wait_event, left(query, 60) AS query FROM pg_stat_activity WHERE application_name = $1`, [applicationName]);
        throw new SwarmCheckFailure('engine-error', `${applicationName}'s append never reached the row held at the stream's next position (${REACH_MS_MAX} ms); its connections: ${JSON.stringify(seen.rows)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
