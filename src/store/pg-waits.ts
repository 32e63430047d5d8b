/**
 * What a PostgreSQL store's statements are waiting for, said while they wait (a start held up
 * by a lock another session holds on pushq's tables would otherwise sit silent until its bound).
 *
 * The store's sessions carry an application_name of their own (PgStoreOptions.applicationName);
 * a separate, short-lived session looks them up in pg_stat_activity every few seconds and names,
 * for each one waiting for a lock, the table (or row) and the session that holds it up
 * (pg_blocking_pids): its pid, user, application, address, since when its transaction runs, and
 * its last statement. A store that does not let that session in (a stopped postmaster, a network
 * that hangs) is said to be not answering.
 */
import pg from 'pg';

export interface WaitWatch {
  stop(): void;
}

interface WaitRow {
  relation: string | null;
  locktype: string | null;
  mode: string | null;
  blocker: number;
  usename: string | null;
  application_name: string | null;
  client_addr: string | null;
  state: string | null;
  xact_start: Date | null;
  query: string | null;
}

/** One statement of the watcher, and its connection, are given this long at most. */
const LOOKUP_MS = 2000;

/** The lines that say what the sessions named `applicationName` wait for, or that the store does not answer. */
export async function describeWaits(url: string, applicationName: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: LOOKUP_MS, query_timeout: LOOKUP_MS, application_name: 'pushq wait lookup' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query<WaitRow>(
      `SELECT l.relation::regclass::text AS relation, l.locktype, l.mode, b.pid AS blocker, b.usename, b.application_name,
              host(b.client_addr) AS client_addr, b.state, b.xact_start, left(b.query, 120) AS query
         FROM pg_stat_activity w
         LEFT JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
         CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
         JOIN pg_stat_activity b ON b.pid = bp.pid
        WHERE w.application_name = $1
        ORDER BY w.pid, b.pid`,
      [applicationName],
    );
    const lines = new Set<string>();
    for (const row of r.rows) {
      const what = row.relation !== null ? `${row.mode ?? 'a lock'} on table ${row.relation}` : `a row lock (${row.locktype ?? 'lock'})`;
      const since = row.xact_start === null ? '' : `, in a transaction since ${row.xact_start.toISOString()}`;
      const who = [row.usename === null ? null : `user ${row.usename}`, row.application_name ? `application "${row.application_name}"` : null, row.client_addr === null ? null : `from ${row.client_addr}`].filter((x) => x !== null).join(', ');
      lines.add(`waiting for ${what}, held up by session pid ${row.blocker} (${who}${since}; ${row.state ?? 'state unknown'}: ${JSON.stringify(row.query ?? '')})`);
    }
    return [...lines];
  } catch (err) {
    return [`the store does not answer (${(err as Error).message})`];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Calls `report` with each line of describeWaits, `firstMs` after the start and then every
 * `everyMs`, until stopped; nothing while the sessions wait for nothing. Lookups run one at a time.
 */
export function watchWaits(url: string, applicationName: string, report: (line: string) => void, { firstMs = 1000, everyMs = 5000 } = {}): WaitWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = async (): Promise<void> => {
    const lines = await describeWaits(url, applicationName);
    if (stopped) return;
    for (const line of lines) report(line);
    timer = setTimeout(() => void look(), everyMs);
  };
  timer = setTimeout(() => void look(), firstMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
