/**
 * Bug: two nodes started at once on an empty database both ran `CREATE TABLE IF NOT EXISTS`, and
 * one failed with a raw SQL error (`42710: type "pushq_storage" already exists`, or `23505:
 * duplicate key value violates unique constraint "pg_type_typname_nsp_index"`): IF NOT EXISTS
 * does not see a table another transaction is creating. Concurrent opens on fresh databases must
 * all succeed, with one schema.
 */
import { describe, expect, it } from 'vitest';
import { Membership, NODES_TABLE, NODES_TABLE_COLUMNS } from '../../src/cluster/membership.js';
import { STORAGE_TABLE } from '../../src/cluster/storage-budget.js';
import { PgSession } from '../../src/store/pg-session.js';
import { PgStore } from '../../src/store/pg-store.js';
import { STORE_SCHEMA_VERSION } from '../../src/store/pg-schema.js';
import { count } from '../cluster/cluster-harness.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';

const db = pgForTheseTests();
const OPENS = 6;
const ROUNDS = 5;

describe('schema creation on an empty database, several openers at once', () => {
  it('PgStore.open: every concurrent open succeeds, the schema made once', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await db.pg.database();
      const opened = await Promise.allSettled(Array.from({ length: OPENS }, () => PgStore.open(url, { connections: 1 })));
      for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
      expect(opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      expect(await count(url, 'SELECT count(*) AS n FROM pushq_schema WHERE version = $1', [STORE_SCHEMA_VERSION])).toBe(1);
    }
  }, 120_000);

  it('a cluster node\'s own tables (pushq_nodes, pushq_storage): every concurrent open succeeds', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await db.pg.database();
      const opened = await Promise.allSettled(Array.from({ length: OPENS }, (_, k) => PgSession.open(url, 1, k % 2 === 0 ? NODES_TABLE : STORAGE_TABLE)));
      for (const o of opened) if (o.status === 'fulfilled') await o.value.end();
      expect(opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      expect(await count(url, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('pushq_nodes', 'pushq_storage')`)).toBe(2);
    }
  }, 120_000);

  it("pushq_nodes's later columns (the configuration a node announces): added at once by concurrent openers, and to a table made before them", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await db.pg.database();
      const opened = await Promise.allSettled(Array.from({ length: OPENS }, () => PgSession.open(url, 1, NODES_TABLE, NODES_TABLE_COLUMNS)));
      for (const o of opened) if (o.status === 'fulfilled') await o.value.end();
      expect(opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    }
    // The table as a cluster node made it before the columns, holding a node of that pushq.
    const url = await db.pg.database();
    const old = await PgSession.open(url, 1, 'CREATE TABLE pushq_nodes (node TEXT PRIMARY KEY, api_url TEXT NOT NULL, grpc_address TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)');
    await old.q(`INSERT INTO pushq_nodes VALUES ('older', 'http://127.0.0.1:1', '127.0.0.1:2', now(), now() + INTERVAL '1 minute')`);
    await old.end();
    const opened = await Promise.all(Array.from({ length: 3 }, () => Membership.open(url)));
    try {
      await opened[0]!.heartbeat('newer', 'http://127.0.0.1:3', '127.0.0.1:4', 60_000, { hash: 'h', queues: ['default', 'q0'] });
      // A node that announces nothing is taken to know every queue (node.ts).
      expect(await opened[1]!.liveNodes()).toEqual([
        { node: 'newer', config: { hash: 'h', queues: ['default', 'q0'] } },
        { node: 'older', config: null },
      ]);
    } finally {
      for (const m of opened) await m.close();
    }
  }, 120_000);
});
