/**
 * A statement sent on a connection whose PostgreSQL backend has stopped answering (SIGSTOP: a real
 * process, as a hung server or a cut network looks to the client): the store gives it up at the
 * client's bound (pg-options.ts statementBounds: the given bound + 3 s) with STORE_TIMEOUT saying
 * the store did not answer, rather than waiting for as long as the hang lasts. The pool holds one
 * connection, so the statement must go to the stopped one (serve-postgres-hung.test.ts, through a
 * node's pool of four, may be given a new connection instead).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { PgStore } from '../../src/store/pg-store.js';
import { StoreError } from '../../src/store/store.js';
import { TEST_HEADER as HEADER } from '../log/conformance.js';

const db = pgForTheseTests();

/** The bound given to the store: the client gives up at 1 + 3 s. */
const BOUND_MS = 1000;

describe('a store connection whose backend does not answer', () => {
  it('a read on it fails STORE_TIMEOUT at the client bound ("did not answer within 4 s"), and the store works again once the backend answers', async () => {
    const url = await db.pg.database();
    const application = `pushq-hung-${process.pid}`;
    const store = await PgStore.open(url, { statementTimeoutMs: BOUND_MS, connections: 1, applicationName: application });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    let stopped: number | undefined;
    try {
      await store.ensureStream('q', HEADER);
      const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [application]);
      expect(r.rows).toHaveLength(1);
      stopped = r.rows[0]!.pid;
      process.kill(stopped, 'SIGSTOP');
      const started = Date.now();
      const err = await store.read('q').then(
        () => null,
        (e: unknown) => e,
      );
      const tookMs = Date.now() - started;
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('STORE_TIMEOUT');
      expect((err as StoreError).message).toContain('the store did not answer within 4 s (a server or network that hangs); the connection was dropped');
      expect((err as StoreError).message).not.toContain('pushq-test-secret');
      // Not before the bound (the client's, not the server's, which a stopped backend never applies).
      expect(tookMs).toBeGreaterThanOrEqual(BOUND_MS + 3000 - 50);
      process.kill(stopped, 'SIGCONT');
      stopped = undefined;
      // The dropped connection is replaced: the store answers again.
      expect(await store.read('q')).toEqual([]);
    } finally {
      if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
      await admin.end();
      await store.close();
    }
  }, 60_000);
});
