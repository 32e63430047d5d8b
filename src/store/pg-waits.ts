/**
 * Who holds up a PostgreSQL store's statements, said while they wait and named in the failure a
 * lock wait ends in (STORE_TIMEOUT, 55P03): a start or a running node held up by a lock another
 * session holds on pushq's tables would otherwise sit silent, then fail naming no one.
 *
 * A LockWaits knows the backend pids of the pools it watches (each connection's, as it connects:
 * an application_name in the store's URL overrides the one pushq gives, so names cannot find
 * them). While one of their statements has run past `firstMs`, a separate, short-lived session
 * looks them up (pg_locks, pg_blocking_pids, pg_stat_activity), then again every `everyMs` while
 * one still runs, and names for each wait the table (or row) and the session that holds it up: its
 * pid, user, application, address, since when its transaction runs and its last statement. A role
 * that may not read another role's sessions (neither a superuser nor a member of
 * pg_read_all_stats) sees only the pid, user and application: the line says so. A store that does
 * not let that session in (a stopped postmaster, a network that hangs) is said not to answer.
 */
import pg from 'pg';
import { STORE_STATEMENT_TIMEOUT_MS, statementBounds } from './pg-options.js';
import { storeClient } from './pg-password.js';
import { redactUrl } from './store.js';

/** One statement of the lookup, and its connection, are given this long at most. */
const LOOKUP_MS = 2000;
/** A statement's first lookup, at most this long into it (sooner when the lock bound is shorter). */
const FIRST_LOOK_MS = 1000;
/** Then again this often while statements still run. */
const EVERY_LOOK_MS = 5000;
/** What pg_stat_activity shows in `query` for a session the looking role may not see. */
const HIDDEN = '<insufficient privilege>';

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
  held_s: number | null;
  query: string | null;
  me: string;
}

/** What a lookup saw: one line per wait (none: nothing waits on a lock), or why it could not look. */
export type WaitLookup = { lines: string[] } | { unanswered: string };

/** What the sessions `pids` wait for, and on whom. */
export async function describeWaits(url: string, pids: readonly number[]): Promise<WaitLookup> {
  if (pids.length === 0) return { lines: [] };
  // The password from where the store's own connections take it (pg-password.ts): node-postgres's
  // own reading of ~/.pgpass prints a deprecation warning, and is gone in pg 9.
  const Client = storeClient(redactUrl(url));
  const c = new Client({ connectionString: url, connectionTimeoutMillis: LOOKUP_MS, query_timeout: LOOKUP_MS, application_name: 'pushq wait lookup' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query<WaitRow>(
      `SELECT COALESCE(l.relation, t.relation)::regclass::text AS relation, l.locktype, l.mode, b.pid AS blocker, b.usename, b.application_name,
              host(b.client_addr) AS client_addr, b.state, b.xact_start, extract(epoch FROM clock_timestamp() - b.xact_start)::float8 AS held_s,
              left(b.query, 120) AS query, current_user::text AS me
         FROM unnest($1::int[]) AS w(pid)
         LEFT JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
         -- A row's first waiter holds the row's tuple lock and waits for its holder's transaction
         -- (locktype transactionid, no relation): the tuple lock says which table the row is in.
         LEFT JOIN LATERAL (SELECT relation FROM pg_locks WHERE pid = w.pid AND locktype = 'tuple' AND granted LIMIT 1) t ON true
         CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
         JOIN pg_stat_activity b ON b.pid = bp.pid
        ORDER BY w.pid, b.pid`,
      [pids],
    );
    return { lines: [...new Set(r.rows.map(waitLine))] };
  } catch (err) {
    return { unanswered: whyNoLookup(err) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Why a lookup saw nothing, as a phrase: refused a connection, no answer, or another failure. */
function whyNoLookup(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  // 53300: max_connections, or the role's CONNECTION LIMIT, is reached; the store answers, and
  // says no. The lookup is one more connection beside the store's own.
  if (code === TOO_MANY_CONNECTIONS) return `the store took no more connections (${code}: ${message}): max_connections, or the role's CONNECTION LIMIT, is reached`;
  // The lookup's own bounds (connectionTimeoutMillis, query_timeout) end in node-postgres's timeout errors.
  if (/timeout/i.test(message)) return `the store does not answer (${message})`;
  return `the lookup failed (${typeof code === 'string' ? `${code}: ` : ''}${message})`;
}

/** The SQLSTATE of a connection refused because every one is taken. */
const TOO_MANY_CONNECTIONS = '53300';

function waitLine(row: WaitRow): string {
  const what =
    row.relation === null ? `a row lock (${row.locktype ?? 'lock'})` : row.locktype === 'relation' ? `${row.mode ?? 'a lock'} on table ${row.relation}` : `a row of table ${row.relation}`;
  const who = [row.usename === null ? null : `user ${row.usename}`, row.application_name ? `application "${row.application_name}"` : null];
  if (row.query === HIDDEN) {
    const hidden = `its address, transaction and statement are hidden from user ${row.me} (a superuser or a member of pg_read_all_stats sees them)`;
    return `waiting for ${what}, held up by session pid ${row.blocker} (${[...who, hidden].filter((x) => x !== null).join(', ')})`;
  }
  const from = row.client_addr === null ? null : `from ${row.client_addr}`;
  const since = row.xact_start === null ? null : `in a transaction since ${row.xact_start.toISOString()} (for ${Math.round(row.held_s ?? 0)} s)`;
  return `waiting for ${what}, held up by session pid ${row.blocker} (${[...who, from, since].filter((x) => x !== null).join(', ')}; ${row.state ?? 'state unknown'}: ${JSON.stringify(row.query ?? '')})`;
}

/** The SQLSTATE of a wait for a lock that ran past lock_timeout. */
const LOCK_TIMEOUT = '55P03';

/** What each failure that ended a lock wait (55P03) saw of its holder, for describePgError (heldUpBy). */
const seenFor = new WeakMap<object, string>();

/** What was seen of who held up the lock wait `err` ended (a phrase to append to its message), if it was looked at. */
export function heldUpBy(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? seenFor.get(err) : undefined;
}

export interface LockWaitsOptions {
  /** Each line of each lookup while statements run; `waiting` false for a lookup the store did not answer. */
  report?: (line: string, waiting: boolean) => void;
  /** The statements' bound (PgStoreOptions.statementTimeoutMs; default STORE_STATEMENT_TIMEOUT_MS): the first lookup comes well inside its lock bound. */
  statementTimeoutMs?: number | undefined;
}

/** A statement (or transaction) running: when it began, and whether a lookup has run since. */
interface Running {
  since: number;
  looked: boolean;
}

/**
 * The lock waits of one node's or one process's pools (module comment). Each statement that runs
 * past `firstMs` is looked at (so the failure that ends its lock wait can name the holder), every
 * `firstMs` until a lookup sees a wait, then every EVERY_LOOK_MS while it runs; the report hears a
 * lookup at most about every EVERY_LOOK_MS, however many statements wait (a store retried every
 * 200 ms, nodes' rounds).
 */
export class LockWaits {
  private readonly pids = new Set<number>();
  private readonly running = new Set<Running>();
  private timer: { handle: NodeJS.Timeout; at: number } | undefined;
  private looking: Promise<void> | null = null;
  /** The last lookup's answer, and when it was asked. */
  private seen: { lookup: WaitLookup; at: number } | null = null;
  private reportedAt = -Infinity;
  private readonly firstMs: number;

  constructor(
    private readonly url: string,
    private readonly options: LockWaitsOptions = {},
  ) {
    const { lockMs } = statementBounds(options.statementTimeoutMs ?? STORE_STATEMENT_TIMEOUT_MS);
    this.firstMs = Math.min(FIRST_LOOK_MS, Math.max(1, Math.floor(lockMs / 2)));
  }

  /** Knows each connection of `pool` by its backend pid while it lives. */
  watch(pool: pg.Pool): void {
    const pidOf = (c: pg.PoolClient): number | undefined => (c as unknown as { processID?: number | null }).processID ?? undefined;
    pool.on('connect', (c) => {
      const pid = pidOf(c);
      if (pid !== undefined) this.pids.add(pid);
    });
    pool.on('remove', (c) => {
      const pid = pidOf(c);
      if (pid !== undefined) this.pids.delete(pid);
    });
  }

  /** Runs `op` (statements of the watched pools); a lock wait that ends it (55P03) is told who held it up (heldUpBy). */
  async around<T>(op: () => Promise<T>): Promise<T> {
    const me: Running = { since: Date.now(), looked: false };
    this.running.add(me);
    this.schedule();
    try {
      return await op();
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === LOCK_TIMEOUT && typeof err === 'object' && err !== null) {
        if (this.looking !== null) await this.looking;
        const phrase = this.seenSince(me.since);
        if (phrase !== undefined) seenFor.set(err, phrase);
      }
      throw err;
    } finally {
      this.running.delete(me);
      if (this.running.size === 0 && this.timer !== undefined) {
        clearTimeout(this.timer.handle);
        this.timer = undefined;
      }
    }
  }

  /** The lookups' answer since `since`, as a phrase: the holders seen, none, or that none could look. */
  private seenSince(since: number): string | undefined {
    const seen = this.seen;
    if (seen === null || seen.at < since) return undefined;
    if ('unanswered' in seen.lookup) return `who held it could not be looked up: ${seen.lookup.unanswered}`;
    if (seen.lookup.lines.length === 0) return `a lookup ${((seen.at - since) / 1000).toFixed(1)} s into the wait saw no session holding it up`;
    return `seen while it waited: ${seen.lookup.lines.join('; ')}`;
  }

  /** The timer at the earliest lookup a running statement is due (a lookup under way schedules when it ends). */
  private schedule(): void {
    if (this.looking !== null || this.running.size === 0) return;
    const due = this.due();
    if (this.timer !== undefined) {
      if (this.timer.at <= due) return;
      clearTimeout(this.timer.handle);
    }
    const handle = setTimeout(() => this.fire(), Math.max(0, due - Date.now()));
    handle.unref();
    this.timer = { handle, at: due };
  }

  /** When the earliest lookup a statement running now is due. */
  private due(): number {
    const lastAt = this.seen?.at ?? -Infinity;
    let due = Infinity;
    for (const r of this.running) due = Math.min(due, r.looked ? lastAt + EVERY_LOOK_MS : Math.max(r.since, lastAt) + this.firstMs);
    return due;
  }

  /**
   * The timer's turn. The statement it was set for may have ended since (the timer stays while any
   * runs): a service whose short statements overlap always has one running, and a lookup for none
   * past its delay would cost the store a connection every `firstMs` for nothing.
   */
  private fire(): void {
    this.timer = undefined;
    if (this.due() > Date.now()) this.schedule();
    else this.look();
  }

  private look(): void {
    const at = Date.now();
    const running = [...this.running];
    this.looking = describeWaits(this.url, [...this.pids]).then((lookup) => {
      this.seen = { lookup, at };
      // A lookup that saw no wait may have come before the statement reached its lock (a slow
      // connect, a loaded machine): the statements it saw are looked at again `firstMs` on.
      if (!('lines' in lookup) || lookup.lines.length > 0) for (const r of running) r.looked = true;
      this.looking = null;
      const report = this.options.report;
      if (report !== undefined && this.running.size > 0 && at - this.reportedAt >= EVERY_LOOK_MS - this.firstMs) {
        const lines = 'unanswered' in lookup ? [lookup.unanswered] : lookup.lines;
        if (lines.length > 0) this.reportedAt = at;
        for (const line of lines) report(line, !('unanswered' in lookup));
      }
      this.schedule();
    });
  }
}

/**
 * A LockWaits whose lines go to `write`, after `prefixes.starting` until `started()` is called,
 * then after `prefixes.running`, and then only lines of lock waits: once started, a store that does
 * not answer at all is said by the process's own outage line (a single node's, a cluster round's).
 */
export function phasedLockWaits(url: string, statementTimeoutMs: number | undefined, write: (line: string) => void, prefixes: { starting: string; running: string }): { lockWaits: LockWaits; started(): void } {
  let started = false;
  const lockWaits = new LockWaits(url, {
    statementTimeoutMs,
    report: (line, waiting) => {
      if (!started) write(`${prefixes.starting}${line}`);
      else if (waiting) write(`${prefixes.running}${line}`);
    },
  });
  return { lockWaits, started: () => void (started = true) };
}
