/**
 * The PostgreSQL store (`pushq serve --store postgres://...`), with the `pg` client (node-postgres:
 * the client CockroachDB and YugabyteDB document and test for Node, pure JavaScript, a pool, and
 * typed server error codes we map to ours).
 *
 * Fencing: an append is one transaction whose first statement moves the stream's `next_position`
 * on only `WHERE epoch = <writer's epoch>`; zero rows means a newer epoch took the stream, and the
 * transaction is rolled back: a deposed owner commits nothing. The UPDATE holds the stream row's
 * lock until commit, so an acquire (which moves the epoch on, on the same row) orders itself
 * entirely before or entirely after each append.
 *
 * Times of leases are the database's `now()`, so nodes' clocks never decide who owns a queue.
 *
 * Conflicts: every transaction (explicit, or one statement on its own) that the database aborts
 * with SQLSTATE 40001 or 40P01 is run again whole, a bounded number of times, after a jittered
 * wait (pg-retry.ts); a fence refusal is a result, never retried. Batches of an append are locked
 * in stream order, so two of our transactions never deadlock each other.
 */
import pg from 'pg';
import type { EngineEvent } from '../core/events.js';
import { decodeEvent, encodeEvent } from '../log/codec.js';
import type { LogHeader } from '../log/event-log.js';
import { STORE_ROLE_QUERY, describePgError, isClientTimeout, privilegeError, type StoreRole } from './pg-errors.js';
import { conflictRetry, type ConflictRetry, type ConflictRetryOptions, type ConflictStats } from './pg-retry.js';
import { appendClaimedQuery, insertEvents } from './pg-append.js';
import { CREATE_ATTEMPTS_MAX, SCHEMA_STATEMENTS, STORE_SCHEMA_VERSION, STORE_TABLES, lostCreateRace } from './pg-schema.js';
import type { PgStoreOptions } from './pg-options.js';
import { storePool, type StorePool } from './pg-pool.js';
import { StoreError, isStoreUrl, redactUrl, type EventStore, type Lease, type LeaseHolder, type StoredSnapshot } from './store.js';

export type { PgStoreOptions } from './pg-options.js';

/** Events per statement of a read (about 7 MB at the 347 bytes an event takes in a serve log): well inside the bound. */
const READ_PAGE_EVENTS = 20_000;

const MS = `* INTERVAL '1 millisecond'`;

/** One stream's batch of an append: its writer's epoch and, when the writer knows it, where the stream ends (`at`). */
type AppendBatch = { stream: string; epoch: number; events: readonly EngineEvent[]; at?: number };

export class PgStore implements EventStore {
  readonly displayUrl: string;
  /** Transactions that appended events, and the events they held (for the benchmark's events per transaction). */
  readonly stats = { appendTransactions: 0, appendedEvents: 0 };
  private readonly headers = new Map<string, LogHeader>();
  private readonly retry: ConflictRetry;
  /** Who the sessions run as (read at open): a refusal for want of a privilege names the GRANT for this user. */
  private role: StoreRole | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    retry: ConflictRetryOptions,
    /** The statement bound (statementBounds' `ms`), named by a STORE_TIMEOUT. */
    private readonly boundMs: number,
    /** pushq's tables a GRANT must name: the store's and `otherTables`. */
    private readonly tables: readonly string[],
    private readonly waits: StorePool['waits'], // the pool's lock waits: a STORE_TIMEOUT ending one names its holder (pg-waits.ts)
  ) {
    this.displayUrl = redactUrl(url);
    this.retry = conflictRetry(this.displayUrl, retry);
  }

  /** A driver failure as a StoreError naming this store (pg-errors.ts). */
  private describe(err: unknown): StoreError {
    return privilegeError(err, this.displayUrl, this.role, this.tables, false) ?? describePgError(err, this.displayUrl, this.boundMs);
  }

  /** Transactions aborted by a conflict (40001, 40P01), run again, or given up (STORE_CONFLICT). */
  get conflicts(): ConflictStats {
    return this.retry.stats;
  }

  /**
   * Connects, checks the schema's version and creates the tables on an empty database. Throws
   * StoreError (UNAVAILABLE, AUTH_FAILED, SCHEMA_MISMATCH, BAD_URL, FAILED) naming the URL without
   * its password; on a refusal nothing has been written.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const shown = redactUrl(url);
    if (!isStoreUrl(url)) throw new StoreError('STORE_BAD_URL', `${shown}: not a PostgreSQL URL (postgres://user:password@host:port/database)`);
    const { pool, boundMs, waits } = storePool(url, shown, options);
    const store = new PgStore(pool, url, options.conflictRetry ?? {}, boundMs, [...STORE_TABLES, ...(options.otherTables ?? [])], waits);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err instanceof StoreError ? err : store.describe(err);
    }
    return store;
  }

  private async migrate(attempt = 1): Promise<void> {
    // to_regclass finds the table as the statements below name it (on the search_path), whatever
    // the user may do with it: information_schema.tables lists only the tables a user has some
    // privilege on, so a user not granted pushq's tables took them for missing and tried to create
    // them, refused as if the database were empty.
    const found = await this.q<{ found: boolean; username: string; schema: string | null }>(`${STORE_ROLE_QUERY}, to_regclass('pushq_schema') IS NOT NULL AS found`);
    const row = found.rows[0]!;
    this.role = { user: row.username, schema: row.schema };
    if (row.found) {
      const v = await this.q<{ version: number }>('SELECT version FROM pushq_schema WHERE id = 1');
      const found = v.rows[0]?.version;
      if (found !== STORE_SCHEMA_VERSION) {
        throw new StoreError('STORE_SCHEMA_MISMATCH', `${this.displayUrl}: the store's schema is version ${found ?? '(none)'}, this pushq uses version ${STORE_SCHEMA_VERSION}: it was made by another pushq version; nothing was written`);
      }
      return;
    }
    try {
      await this.retry.run(
        () =>
          this.waits.around(() =>
            this.txOnce(async (c) => {
              for (const s of SCHEMA_STATEMENTS) await c.query(s);
              await c.query('INSERT INTO pushq_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [STORE_SCHEMA_VERSION]);
            }),
          ),
        'schema creation',
      );
    } catch (err) {
      // Another opener created the schema meanwhile (pg-schema.ts): look again, and check its version.
      if (lostCreateRace(err) && attempt < CREATE_ATTEMPTS_MAX) return this.migrate(attempt + 1);
      throw err instanceof StoreError ? err : (privilegeError(err, this.displayUrl, this.role, this.tables, true) ?? this.describe(err));
    }
  }

  /** One statement, its own transaction: run again whole after a conflict. */
  private async q<R extends pg.QueryResultRow>(text: string | pg.QueryConfig, values?: unknown[], what = 'a statement'): Promise<pg.QueryResult<R>> {
    try {
      return await this.retry.run(() => this.waits.around(() => (typeof text === 'string' ? this.pool.query<R>(text, values) : this.pool.query<R>(text))), what);
    } catch (err) {
      throw err instanceof StoreError ? err : this.describe(err);
    }
  }

  /** One explicit transaction (`work` between BEGIN and COMMIT): run again whole, from BEGIN, after a conflict. */
  private async tx<T>(work: (c: pg.PoolClient) => Promise<T>, what = 'transaction'): Promise<T> {
    try {
      return await this.retry.run(() => this.waits.around(() => this.txOnce(work)), what);
    } catch (err) {
      throw err instanceof StoreError ? err : this.describe(err);
    }
  }

  /** One attempt: BEGIN, work, COMMIT; rolled back on any failure, which is thrown as it came (the caller reads its SQLSTATE). Callers run it in `waits.around`. */
  private async txOnce<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A connection that dies while checked out emits 'error' on the client (the pool listens only
    // to idle ones): without a listener it would crash the process; the query in progress rejects
    // with it anyway, and release(true) drops the connection.
    const lost = (): void => {
      broken = true;
    };
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A statement the client gave up on is still running on the connection: a ROLLBACK would
      // wait behind it. Dropping the connection ends the transaction (the server rolls it back).
      if (isClientTimeout(err)) broken = true;
      else {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw err;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  async ensureStream(stream: string, header: LogHeader): Promise<LogHeader> {
    const r = await this.q<{ header: string }>(
      `INSERT INTO pushq_streams (stream, epoch, next_position, header) VALUES ($1, 0, 0, $2)
       ON CONFLICT (stream) DO UPDATE SET header = COALESCE(pushq_streams.header, excluded.header)
       RETURNING header`,
      [stream, JSON.stringify(header)],
    );
    const h = JSON.parse(r.rows[0]!.header) as LogHeader;
    this.headers.set(stream, h);
    return h;
  }

  async header(stream: string): Promise<LogHeader | null> {
    const known = this.headers.get(stream);
    if (known !== undefined) return known;
    const r = await this.q<{ header: string | null }>('SELECT header FROM pushq_streams WHERE stream = $1', [stream]);
    const text = r.rows[0]?.header;
    if (text === undefined || text === null) return null;
    const h = JSON.parse(text) as LogHeader;
    this.headers.set(stream, h);
    return h;
  }

  async append(stream: string, epoch: number, events: readonly EngineEvent[], at?: number): Promise<number> {
    const [result] = await this.appendMany([{ stream, epoch, events, ...(at === undefined ? {} : { at }) }]);
    if (result instanceof StoreError) throw result;
    return result!;
  }

  /**
   * Appends batches to several streams, most often in ONE statement (a cluster node's group
   * commit: one round trip, one commit, one fsync, for every queue it owns), each fenced by its
   * own epoch as `append` is. A fenced batch writes nothing and gets STORE_FENCED in its place;
   * the others are committed. A failure before anything is committed (the store lost) is thrown:
   * then nothing was written. A batch refused by that statement is judged in a second
   * transaction; if that one fails, those batches get the error in their place while the first
   * statement's stay committed (each batch's fate is its own, as with fencing).
   * Results are in the order of `batches`: each batch's first position, or its refusal.
   */
  async appendMany(batches: readonly AppendBatch[]): Promise<(number | StoreError)[]> {
    const encoded: string[][] = [];
    for (const b of batches) {
      const header = await this.header(b.stream);
      if (header === null) throw new StoreError('STORE_FAILED', `${this.displayUrl}: stream ${b.stream} does not exist`);
      // Encoded (and validated) before the transaction: a bad event is a bug, not a store failure.
      encoded.push(b.events.map((e) => encodeEvent(e, header.version)));
    }
    // Batches in stream order (a stable sort keeps a stream's batches in their order). Batches judged
    // alone lock their streams' rows in that order; the one statement's join may lock them in any
    // order, so two appends over the same streams (only while queues move between owners) may
    // deadlock: PostgreSQL aborts one (40P01) and it is run again (pg-retry.ts).
    const order = batches.map((_, k) => k).sort((x, y) => (batches[x]!.stream < batches[y]!.stream ? -1 : batches[x]!.stream > batches[y]!.stream ? 1 : 0));
    const what = `append to ${[...new Set(batches.map((b) => b.stream))].join(', ')}`;
    const results: (number | StoreError)[] = new Array<number | StoreError>(batches.length);
    // The common case in one statement, one round trip and its own commit: every batch claimed
    // where its fence (and expected end) holds, its events inserted. Only when each stream has
    // one batch in the group (a cluster node's group commit: each queue's log sends one append at
    // a time; a single append): a stream's later batch must claim after its earlier one.
    let rest = order;
    let someCommitted = false;
    if (new Set(batches.map((b) => b.stream)).size === batches.length) {
      const claimed = await this.appendClaimed(order.map((k) => batches[k]!), order.map((k) => encoded[k]!), what);
      someCommitted = claimed.size > 0;
      rest = [];
      for (const k of order) {
        const start = claimed.get(batches[k]!.stream);
        if (start !== undefined) results[k] = start;
        // Refused with no expected end: only the fence refuses it (the stream exists: its header was read).
        else if (batches[k]!.at === undefined) results[k] = this.fenced(batches[k]!.stream, batches[k]!.epoch);
        else rest.push(k);
      }
      if (someCommitted) this.stats.appendTransactions++;
    }
    // A batch refused there (a newer epoch; a stream that does not end where its writer expects,
    // maybe because an earlier try of the batch committed unanswered) is judged alone, in a
    // transaction: claimed again it is refused the same way, and told apart below.
    if (rest.length > 0) await this.judgeAlone(rest, batches, encoded, results, someCommitted, rest.length < batches.length ? `${what} (the batches refused at first)` : what);
    for (let k = 0; k < batches.length; k++) if (typeof results[k] === 'number') this.stats.appendedEvents += encoded[k]!.length;
    return results;
  }

  /**
   * appendMany's batches `rest`, each claimed alone, in one transaction, and when refused told why
   * (results[k]). Its failure is thrown only when nothing of appendMany is committed yet
   * (`someCommitted` false); otherwise each of these batches gets it in its place.
   */
  private async judgeAlone(rest: readonly number[], batches: readonly AppendBatch[], encoded: readonly string[][], results: (number | StoreError)[], someCommitted: boolean, what: string): Promise<void> {
    try {
      await this.tx(async (c) => {
        /** Where each batch's events go: its first position, and how many leading events are already there. */
        const placed: { k: number; first: number; skip: number }[] = [];
        for (const k of rest) {
          const { stream, epoch, at } = batches[k]!;
          const bodies = encoded[k]!;
          // The fence: zero rows means a newer epoch owns the stream (or, given `at`, that the stream
          // does not end there: told apart below). Not an error to the transaction, so the other
          // streams' batches still go in; this one writes nothing.
          const claim = (n: number, expected: number | undefined): Promise<pg.QueryResult<{ start: string }>> =>
            c.query<{ start: string }>(
              'UPDATE pushq_streams SET next_position = next_position + $3 WHERE stream = $1 AND epoch = $2 AND ($4::BIGINT IS NULL OR next_position = $4) RETURNING next_position - $3 AS start',
              [stream, epoch, n, expected ?? null],
            );
          let moved = await claim(bodies.length, at);
          // Leading events of the batch already in the stream (an earlier try's, committed unanswered).
          let skip = 0;
          if (moved.rowCount !== 1) {
            const there = at === undefined ? this.fenced(stream, epoch) : await this.alreadyThere(c, stream, epoch, at, bodies);
            if (there instanceof StoreError) {
              results[k] = there;
              continue;
            }
            skip = there;
            if (skip === bodies.length) {
              results[k] = at as number;
              continue;
            }
            moved = await claim(bodies.length - skip, (at as number) + skip);
            if (moved.rowCount !== 1) {
              results[k] = this.fenced(stream, epoch); // an acquire came in between: no longer this epoch's
              continue;
            }
          }
          placed.push({ k, first: Number(moved.rows[0]!.start) - skip, skip });
        }
        await insertEvents(c, placed.map(({ k, first, skip }) => ({ stream: batches[k]!.stream, epoch: batches[k]!.epoch, first, skip, bodies: encoded[k]! })));
        for (const { k, first } of placed) results[k] = first;
      }, what);
    } catch (err) {
      if (!someCommitted) throw err;
      for (const k of rest) results[k] = err instanceof StoreError ? err : new StoreError('STORE_FAILED', String(err));
      return;
    }
    // Counted once committed (a conflict's rolled-back attempts are not), and only when it wrote.
    if (rest.some((k) => typeof results[k] === 'number')) this.stats.appendTransactions++;
  }

  /**
   * Claims every batch's positions and inserts its events in ONE statement (its own transaction;
   * the streams each have one batch here): a stream's row moves on by its batch's length where the
   * fence (and the expected end, if given) holds, and only those batches' events go in, numbered
   * from where their claim starts. Returns where each claimed stream's batch starts; a stream
   * missing from it wrote nothing. Arrays, not a statement built per group: its text is the same
   * every time, so each connection prepares it once. (Its join may lock the rows in any order: see appendMany.)
   * Portable: a data-modifying WITH and multi-array unnest run on CockroachDB and YugabyteDB too.
   */
  private async appendClaimed(batches: readonly { stream: string; epoch: number; at?: number }[], bodies: readonly (readonly string[])[], what: string): Promise<Map<string, number>> {
    const r = await this.q<{ stream: string; start: string }>(appendClaimedQuery(batches, bodies), undefined, what);
    return new Map(r.rows.map((row) => [row.stream, Number(row.start)]));
  }

  private fenced(stream: string, epoch: number): StoreError {
    return new StoreError('STORE_FENCED', `${this.displayUrl}: stream ${stream}: epoch ${epoch} is not the current epoch: this writer was deposed`);
  }

  /**
   * Why a batch expected at `at` could not be claimed there: a newer epoch (fenced); or this
   * epoch's stream already holding the batch's first events from `at` on (an earlier try of it,
   * committed though its answer was lost): how many; or the stream ending elsewhere (STORE_FAILED:
   * the writer's count and the store disagree, and nothing is written).
   */
  private async alreadyThere(c: pg.PoolClient, stream: string, epoch: number, at: number, bodies: readonly string[]): Promise<number | StoreError> {
    const row = (await c.query<{ epoch: string; next_position: string }>('SELECT epoch, next_position FROM pushq_streams WHERE stream = $1', [stream])).rows[0];
    if (row === undefined || Number(row.epoch) !== epoch) return this.fenced(stream, epoch);
    const end = Number(row.next_position);
    const held = end - at;
    if (held > 0 && held <= bodies.length) {
      const there = await c.query<{ epoch: string; body: string }>('SELECT epoch, body FROM pushq_events WHERE stream = $1 AND position >= $2 AND position < $3 ORDER BY position', [stream, at, end]);
      if (there.rows.length === held && there.rows.every((r, i) => Number(r.epoch) === epoch && r.body === bodies[i])) return held;
    }
    return new StoreError('STORE_FAILED', `${this.displayUrl}: stream ${stream} ends at position ${end}, not at ${at} where its writer expects, and does not hold the batch from there: nothing written`);
  }

  /** From `position`, a page per statement: one SELECT of a long log could outlast the statement bound. Positions are dense and append-only, so the pages make one read. */
  async read(stream: string, position = 0): Promise<EngineEvent[]> {
    const header = await this.header(stream);
    if (header === null) return [];
    const events: EngineEvent[] = [];
    for (let from = position; ; from += READ_PAGE_EVENTS) {
      const r = await this.q<{ body: string }>('SELECT body FROM pushq_events WHERE stream = $1 AND position >= $2 ORDER BY position LIMIT $3', [stream, from, READ_PAGE_EVENTS]);
      for (const row of r.rows) events.push(decodeEvent(row.body, header.version));
      if (r.rows.length < READ_PAGE_EVENTS) return events;
    }
  }

  async length(stream: string): Promise<number> {
    const r = await this.q<{ next_position: string }>('SELECT next_position FROM pushq_streams WHERE stream = $1', [stream]);
    return Number(r.rows[0]?.next_position ?? 0);
  }

  async streams(): Promise<string[]> {
    const r = await this.q<{ stream: string }>('SELECT stream FROM pushq_streams WHERE header IS NOT NULL ORDER BY stream');
    return r.rows.map((row) => row.stream);
  }

  /**
   * One statement, the fence in its WHERE: no lock on the stream's row, so a snapshot's body (MBs)
   * never holds up the stream's appends. A stale epoch inserts nothing (STORE_FENCED). An acquire
   * that commits while the statement runs may let the old epoch's snapshot in: harmless, as it
   * covers only events already in the stream (stream-snapshots.ts), and a snapshot never replaces
   * one at a later position.
   */
  async putSnapshot(stream: string, epoch: number, position: number, bytes: Buffer): Promise<void> {
    const r = await this.q(
      `INSERT INTO pushq_snapshots (stream, position, epoch, body)
       SELECT stream, $2::BIGINT, epoch, $3::BYTEA FROM pushq_streams WHERE stream = $1 AND epoch = $4::BIGINT
       ON CONFLICT (stream) DO UPDATE SET position = excluded.position, epoch = excluded.epoch, body = excluded.body
       WHERE pushq_snapshots.position <= excluded.position`,
      [stream, position, bytes, epoch],
      `snapshot of ${stream}`,
    );
    if (r.rowCount !== 0) return;
    const current = await this.q<{ epoch: string }>('SELECT epoch FROM pushq_streams WHERE stream = $1', [stream]);
    if (Number(current.rows[0]?.epoch) !== epoch) throw new StoreError('STORE_FENCED', `${this.displayUrl}: stream ${stream}: snapshot by epoch ${epoch}, which is not the current epoch`);
    // The current epoch, but a snapshot at a later position is already stored: it stays.
  }

  async getSnapshot(stream: string): Promise<StoredSnapshot | null> {
    const r = await this.q<{ position: string; epoch: string; body: Buffer }>('SELECT position, epoch, body FROM pushq_snapshots WHERE stream = $1', [stream]);
    const row = r.rows[0];
    return row === undefined ? null : { position: Number(row.position), epoch: Number(row.epoch), bytes: row.body };
  }

  async acquire(stream: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const r = await this.q<{ epoch: string; lease_expires_at: Date; granted: Date }>(
      `INSERT INTO pushq_streams (stream, epoch, owner, lease_expires_at, next_position) VALUES ($1, 1, $2, now() + $3::BIGINT ${MS}, 0)
       ON CONFLICT (stream) DO UPDATE SET epoch = pushq_streams.epoch + 1, owner = excluded.owner, lease_expires_at = excluded.lease_expires_at
       WHERE pushq_streams.owner IS NULL OR pushq_streams.owner = excluded.owner OR pushq_streams.lease_expires_at <= now()
       RETURNING epoch, lease_expires_at, now() AS granted`,
      [stream, owner, Math.round(ttlMs)],
      `acquire of ${stream}`,
    );
    const row = r.rows[0];
    if (row === undefined) return null;
    return { stream, owner, epoch: Number(row.epoch), expiresAtMs: row.lease_expires_at.getTime(), grantedAtMs: row.granted.getTime() };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const r = await this.q<{ lease_expires_at: Date; granted: Date }>(
      `UPDATE pushq_streams SET lease_expires_at = now() + $4::BIGINT ${MS}
       WHERE stream = $1 AND epoch = $2 AND owner = $3
       RETURNING lease_expires_at, now() AS granted`,
      [lease.stream, lease.epoch, lease.owner, Math.round(ttlMs)],
      `renewal of ${lease.stream}`,
    );
    const row = r.rows[0];
    return row === undefined ? null : { ...lease, expiresAtMs: row.lease_expires_at.getTime(), grantedAtMs: row.granted.getTime() };
  }

  async release(lease: Lease): Promise<void> {
    await this.q('UPDATE pushq_streams SET owner = NULL, lease_expires_at = NULL WHERE stream = $1 AND epoch = $2 AND owner = $3', [lease.stream, lease.epoch, lease.owner], `release of ${lease.stream}`);
  }

  async leaseHolder(stream: string): Promise<LeaseHolder | null> {
    const r = await this.q<{ owner: string; lease_expires_at: Date; now: Date }>(
      'SELECT owner, lease_expires_at, now() AS now FROM pushq_streams WHERE stream = $1 AND owner IS NOT NULL AND lease_expires_at > now()',
      [stream],
      `lease holder of ${stream}`,
    );
    const row = r.rows[0];
    return row === undefined ? null : { owner: row.owner, expiresAtMs: row.lease_expires_at.getTime(), nowMs: row.now.getTime() };
  }

  async now(): Promise<number> {
    const r = await this.q<{ now: Date }>('SELECT now() AS now');
    return r.rows[0]!.now.getTime();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
