/**
 * A store user that may not do what pushq needs, on a real PostgreSQL: the refusal says what pushq
 * was doing (creating its tables in an empty database, or using tables another user made) and the
 * GRANT that lets this user, not the server's bare `42501: permission denied for schema public`.
 * A user granted the tables another user made starts, as a single node and as a cluster node:
 * information_schema lists only tables a user has a privilege on, so such a user took the tables
 * for missing and pushq tried to create them, refused for want of CREATE on the schema.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';
import { Membership } from '../../src/cluster/membership.js';
import { StoreError } from '../../src/store/store.js';

const fx = serveStoreFixture('pushq-pgprivileges-', 'queue:\n- name: work\n  rate: 1/s\n');

const SINGLE_TABLES = 'pushq_schema, pushq_streams, pushq_events, pushq_snapshots';
const CLUSTER_TABLES = `${SINGLE_TABLES}, pushq_nodes, pushq_storage`;

/** A new database, its owner's URL and the URL of a new login role `user` with no privilege in it. */
async function databaseWithUser(user: string): Promise<{ owner: string; limited: string; sql(text: string): Promise<void> }> {
  const owner = await fx.pg.database();
  const sql = async (text: string): Promise<void> => {
    const c = new pg.Client({ connectionString: owner });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await sql(`CREATE ROLE ${user} LOGIN PASSWORD 'limited-secret'`);
  const u = new URL(owner);
  u.username = user;
  u.password = 'limited-secret';
  return { owner, limited: u.toString(), sql };
}

/** Starts serve on `url` (its tables made so), and stops it. */
async function makeTables(args: string[]): Promise<void> {
  const s = await startServe(['--config', fx.queueYamlPath, ...args], 60_000);
  fx.children.push(s);
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
}

const serveArgs = (url: string, cluster: boolean): string[] => ['serve', '--port', '0', '--grpc-port', '0', '--config', fx.queueYamlPath, '--store', url, ...(cluster ? ['--cluster'] : [])];

describe('--store as a user short of privileges', () => {
  for (const cluster of [false, true]) {
    const mode = cluster ? 'a cluster node' : 'a single node';
    const tables = cluster ? CLUSTER_TABLES : SINGLE_TABLES;
    it(`${mode}: an empty database it may not create tables in, then tables it was not granted: each refusal says what pushq was doing and what to grant; granted, it serves`, async () => {
      const user = cluster ? 'lim_cluster' : 'lim_single';
      const db = await databaseWithUser(user);
      const empty = await pushq(serveArgs(db.limited, cluster), { timeoutMs: 60_000 });
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain(
        `pushq was creating its tables (${tables}), which this database does not have yet, and user ${user} may not (42501: permission denied for schema public): GRANT CREATE ON SCHEMA public TO ${user}, or start pushq once as a user who may create them and then GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables} TO ${user} (STORE_FAILED)\n`,
      );
      await makeTables(cluster ? ['--store', db.owner, '--cluster'] : ['--store', db.owner]);
      const ungranted = await pushq(serveArgs(db.limited, cluster), { timeoutMs: 60_000 });
      expect(ungranted.code).toBe(1);
      expect(ungranted.stderr).toContain(`pushq was using its tables, and user ${user} may not (42501: permission denied for table pushq_schema): GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables} TO ${user} (STORE_FAILED)\n`);
      await db.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables} TO ${user}`);
      const granted = await startServe(['--config', fx.queueYamlPath, '--store', db.limited, ...(cluster ? ['--cluster'] : [])], 60_000);
      fx.children.push(granted);
      // A cluster node answers 503 until some node owns the queue (its first ticks): waited for, bounded.
      let status = await createWork(granted.api, 'one');
      for (const until = Date.now() + 45_000; status === 503 && Date.now() < until; status = await createWork(granted.api, 'one')) await new Promise((r) => setTimeout(r, 250));
      expect(status, granted.stdout() + granted.stderr()).toBe(200);
      granted.child.kill('SIGTERM');
      expect(await granted.exited).toBe(0);
    }, 180_000);
  }
});

describe('--cluster as a user granted a pushq_nodes an earlier pushq made, before its later columns', () => {
  it('is refused saying the table is there and only its owner may add the columns (the statements to run), not that pushq was creating its tables; run, the user opens it', async () => {
    const user = 'lim_older';
    const db = await databaseWithUser(user);
    // pushq_nodes's first shape (before config_hash and queues), made by the owner, granted to the user.
    await db.sql('CREATE TABLE pushq_nodes (node TEXT PRIMARY KEY, api_url TEXT NOT NULL, grpc_address TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)');
    await db.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON pushq_nodes TO ${user}`);
    const err = await Membership.open(db.limited).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_FAILED');
    expect((err as StoreError).message).toMatch(
      new RegExp(
        `: pushq was adding to its table pushq_nodes the columns this version needs \\(the table was made by an earlier pushq\\), which only the table's owner may do, and user ${user} is not its owner \\(42501: must be owner of table pushq_nodes\\): ` +
          `run as the owner ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS config_hash TEXT; ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS queues TEXT; or start this pushq once as the owner$`,
      ),
    );
    expect((err as StoreError).message).not.toContain('creating');
    // The statements it names, run as the owner, are the way out.
    await db.sql('ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS config_hash TEXT; ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS queues TEXT');
    const opened = await Membership.open(db.limited);
    await opened.close();
  }, 60_000);
});
