/**
 * A statement of the store held up by a lock another session holds on pushq's tables, on a real
 * PostgreSQL: the STORE_TIMEOUT its lock wait ends in (55P03) names the session holding it (pid,
 * user, application_name, address, how long its transaction has run, its last statement), and
 * says so plainly when the store's user may not see those details; while it waits, the LockWaits'
 * report says the same, a second in (src/store/pg-waits.ts). Before, the error said only "held by
 * another session", and nothing was said while it waited.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { PG_PASSWORD, pgForTheseTests } from '../helpers/pg-cluster.js';
import { PgStore } from '../../src/store/pg-store.js';
import { Membership } from '../../src/cluster/membership.js';
import { describeWaits, LockWaits } from '../../src/store/pg-waits.js';
import { storePool } from '../../src/store/pg-pool.js';
import { describePgError } from '../../src/store/pg-errors.js';
import { StoreError, redactUrl } from '../../src/store/store.js';
import type { EngineEvent } from '../../src/core/events.js';

/**
 * A lock wait's bound: the first lookup comes 1 s into a statement, so 4 s leaves it 3 s to open its
 * connection and read pg_locks on a loaded machine (at 1.5 s, with the lookup at 0.75 s, a full run
 * at load 7 once timed out before the lookup answered).
 */
const BOUND_MS = 4000;
import { TEST_HEADER as HEADER } from '../log/conformance.js';

const db = pgForTheseTests();

/** A session named `application` holding `table` locked (ACCESS EXCLUSIVE) until released; its pid. */
async function holdLock(url: string, table: string, application: string): Promise<{ pid: number; release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url, application_name: application });
  await c.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    pid,
    async release() {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

function event(): EngineEvent {
  return { type: 'QueuePaused', t: 1, queue: 'q' };
}

// The tests run side by side: each waits out its lock's bound (seconds of an idle process), each
// on a database, tables, roles and application name of its own, and a lookup reads only the
// holders of its own session's waits (pg_blocking_pids).
describe.concurrent('a lock wait of the store names who holds it up', () => {
  it('an append held up by an operator\'s LOCK TABLE: STORE_TIMEOUT names the holding session, and the report said so while it waited', async () => {
    const url = await db.pg.database();
    const lines: string[] = [];
    const lockWaits = new LockWaits(url, { statementTimeoutMs: BOUND_MS, report: (line) => lines.push(line) });
    const store = await PgStore.open(url, { statementTimeoutMs: BOUND_MS, lockWaits });
    try {
      await store.ensureStream('q', HEADER);
      const lease = await store.acquire('q', 'me', 60_000);
      const holder = await holdLock(url, 'pushq_events', 'culprit-session');
      let err: StoreError;
      let again: StoreError;
      try {
        err = await refusal(store.append('q', lease!.epoch, [event()]));
        // Tried again at once (as a node's flush is, every 200 ms): looked at in its own wait too, not 5 s after the last lookup.
        again = await refusal(store.append('q', lease!.epoch, [event()]));
      } finally {
        await holder.release();
      }
      expect(again.message).toContain(`held up by session pid ${holder.pid} (user postgres, application "culprit-session"`);
      expect(err.code).toBe('STORE_TIMEOUT');
      expect(err.message).toContain('did not come free within 4 s (55P03');
      expect(err.message).toMatch(new RegExp(`seen while it waited: waiting for RowExclusiveLock on table pushq_events, held up by session pid ${holder.pid} \\(user postgres, application "culprit-session", from 127\\.0\\.0\\.1, in a transaction since \\S+ \\(for \\d+ s\\); idle in transaction: "LOCK TABLE pushq_events IN ACCESS EXCLUSIVE MODE"\\)`));
      expect(err.message).not.toContain('pushq-test-secret');
      expect(lines.some((l) => l.startsWith(`waiting for RowExclusiveLock on table pushq_events, held up by session pid ${holder.pid} (user postgres, application "culprit-session"`)), lines.join('\n')).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a row another session holds (SELECT ... FOR UPDATE on the stream\'s row, as a paused node\'s open append does): the line names the table the row is in', async () => {
    const url = await db.pg.database();
    const store = await PgStore.open(url, { statementTimeoutMs: BOUND_MS });
    try {
      await store.ensureStream('q', HEADER);
      const lease = await store.acquire('q', 'me', 60_000);
      const c = new pg.Client({ connectionString: url, application_name: 'culprit-row' });
      await c.connect();
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      let err: StoreError;
      try {
        await c.query('BEGIN');
        await c.query(`SELECT 1 FROM pushq_streams WHERE stream = 'q' FOR UPDATE`);
        err = await refusal(store.append('q', lease!.epoch, [event()]));
      } finally {
        await c.query('ROLLBACK');
        await c.end();
      }
      expect(err.code).toBe('STORE_TIMEOUT');
      expect(err.message).toContain(`seen while it waited: waiting for a row of table pushq_streams, held up by session pid ${pid} (user postgres, application "culprit-row"`);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a transaction that reaches its lock wait only after the first lookup (which saw nothing waiting) is looked at again in time: its STORE_TIMEOUT names the holder', async () => {
    const url = await db.pg.database();
    await sql(url, 'CREATE TABLE t (a int)');
    const { pool, waits } = storePool(url, redactUrl(url), { statementTimeoutMs: 1500 });
    const holder = await holdLock(url, 't', 'culprit-late');
    try {
      const failed = await waits
        .around(async () => {
          const c = await pool.connect();
          try {
            await c.query('SELECT pg_sleep(1)'); // past the first lookup (0.75 s in), waiting on nothing
            await c.query('SELECT * FROM t');
          } finally {
            c.release();
          }
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(describePgError(failed, 'store', 1500).message).toContain(`held up by session pid ${holder.pid} (user postgres, application "culprit-late"`);
    } finally {
      await holder.release();
      await pool.end();
    }
  }, 60_000);

  it('a user who may not read the holder\'s session: the error names its pid, user and application and says plainly that the rest is hidden', async () => {
    const url = await db.pg.database();
    const setup = await PgStore.open(url);
    await setup.ensureStream('q', HEADER);
    await setup.close();
    await sql(url, `CREATE ROLE lock_limited LOGIN PASSWORD 'limited-secret'; GRANT SELECT, INSERT, UPDATE, DELETE ON pushq_schema, pushq_streams, pushq_events, pushq_snapshots TO lock_limited`);
    const limited = new URL(url);
    limited.username = 'lock_limited';
    limited.password = 'limited-secret';
    const store = await PgStore.open(limited.toString(), { statementTimeoutMs: BOUND_MS });
    try {
      const lease = await store.acquire('q', 'me', 60_000);
      const holder = await holdLock(url, 'pushq_streams', 'culprit-admin');
      let err: StoreError;
      try {
        err = await refusal(store.append('q', lease!.epoch, [event()]));
      } finally {
        await holder.release();
      }
      expect(err.code).toBe('STORE_TIMEOUT');
      expect(err.message).toContain(`held up by session pid ${holder.pid} (user postgres, application "culprit-admin", its address, transaction and statement are hidden from user lock_limited (a superuser or a member of pg_read_all_stats sees them))`);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a lookup the store refuses a connection for (its connections all taken, 53300) says so: not "the store does not answer"', async () => {
    const url = await db.pg.database();
    // A role's CONNECTION LIMIT refuses as max_connections does: SQLSTATE 53300 at connect.
    await sql(url, `CREATE ROLE lookup_limited LOGIN PASSWORD 'limited-secret' CONNECTION LIMIT 0`);
    const limited = new URL(url);
    limited.username = 'lookup_limited';
    limited.password = 'limited-secret';
    const seen = await describeWaits(limited.toString(), [1]);
    expect(seen).toEqual({ unanswered: expect.stringContaining('the store took no more connections (53300: too many connections for role "lookup_limited")') });
    expect(JSON.stringify(seen)).not.toContain('does not answer');
  }, 60_000);

  it('a cluster\'s node list (PgSession) held up: its STORE_TIMEOUT names the holder too', async () => {
    const url = await db.pg.database();
    const membership = await Membership.open(url, { statementTimeoutMs: BOUND_MS });
    try {
      const holder = await holdLock(url, 'pushq_nodes', 'culprit-nodes');
      let err: StoreError;
      try {
        err = await refusal(membership.liveNodes());
      } finally {
        await holder.release();
      }
      expect(err.code).toBe('STORE_TIMEOUT');
      expect(err.message).toContain(`waiting for AccessShareLock on table pushq_nodes, held up by session pid ${holder.pid} (user postgres, application "culprit-nodes"`);
    } finally {
      await membership.close();
    }
  }, 60_000);

  it('a store whose password is in the password file (PGPASSFILE), as docs/cluster.md advises: a start held up names the holder, with no warning from node-postgres', async () => {
    const url = await db.pg.database();
    const setup = await PgStore.open(url);
    await setup.close();
    const dir = mkdtempSync(join(tmpdir(), 'pushq-lock-pgpass-'));
    const file = join(dir, 'pgpass');
    writeFileSync(file, `127.0.0.1:${db.pg.port}:*:postgres:${PG_PASSWORD}\n`);
    chmodSync(file, 0o600);
    const bare = new URL(url);
    bare.password = '';
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: file };
    delete env['PGPASSWORD'];
    const holder = await holdLock(url, 'pushq_streams', 'culprit-pgpass');
    try {
      const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', bare.toString(), '--store-timeout-seconds', String(BOUND_MS / 1000)], { env, timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain(`pushq serve: starting: waiting for AccessShareLock on table pushq_streams, held up by session pid ${holder.pid} (user postgres, application "culprit-pgpass"`);
      // The lookup's own connection asked the file as the store's do (pg-password.ts), not node-postgres's deprecated reading.
      expect(refused.stderr).not.toContain('DeprecationWarning');
    } finally {
      await holder.release();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
