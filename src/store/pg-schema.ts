/**
 * The PostgreSQL schema of the store, and its version. Every statement is kept to what CockroachDB
 * and YugabyteDB also run (docs/cluster.md lists them): plain tables with primary keys, TEXT,
 * BIGINT, BYTEA, TIMESTAMPTZ, `CREATE TABLE IF NOT EXISTS`, `INSERT ... ON CONFLICT ... DO UPDATE
 * ... WHERE`, `RETURNING`, `SELECT ... FOR UPDATE`, `now()`; no sequences, triggers, advisory
 * locks, LISTEN/NOTIFY or PL/pgSQL.
 *
 * The version is one integer in `pushq_schema`: a store made by a pushq with another number is
 * refused at start (STORE_SCHEMA_MISMATCH), before anything is written.
 *
 * Two openers at once on an empty database (nodes of a cluster started together) both create the
 * tables. `IF NOT EXISTS` sees only committed tables, so the second waits on the catalog's unique
 * index until the first commits and then fails (23505 on pg_type_typname_nsp_index, or 42P07 /
 * 42710). That failure means the same table is now there: `createRacing` runs the creation again,
 * and it finds them. Serializing with an advisory lock would do too, but CockroachDB has none.
 */
import { tablesCreatedBy } from './pg-errors.js';
import { sqlstateOf } from './pg-retry.js';

/** Bump when a table changes shape; a store with another number is refused. */
export const STORE_SCHEMA_VERSION = 1;

export const SCHEMA_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS pushq_schema (
     id INT PRIMARY KEY,
     version INT NOT NULL
   )`,
  // One row per stream (a queue's log): its epoch (the fence), its lease, its next position, its header.
  `CREATE TABLE IF NOT EXISTS pushq_streams (
     stream TEXT PRIMARY KEY,
     epoch BIGINT NOT NULL,
     owner TEXT,
     lease_expires_at TIMESTAMPTZ,
     next_position BIGINT NOT NULL,
     header TEXT
   )`,
  // One row per event; a batch is the rows one fenced transaction inserted.
  `CREATE TABLE IF NOT EXISTS pushq_events (
     stream TEXT NOT NULL,
     position BIGINT NOT NULL,
     epoch BIGINT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (stream, position)
   )`,
  `CREATE TABLE IF NOT EXISTS pushq_snapshots (
     stream TEXT PRIMARY KEY,
     position BIGINT NOT NULL,
     epoch BIGINT NOT NULL,
     body BYTEA NOT NULL
   )`,
];

/** The store's tables, by name (for the GRANT a refusal for want of a privilege names). */
export const STORE_TABLES: readonly string[] = tablesCreatedBy(SCHEMA_STATEMENTS);

/** Rows per INSERT statement of a batch (4 parameters each; PostgreSQL allows 65,535 parameters). */
export const ROWS_PER_INSERT = 2000;

/**
 * The SQLSTATEs of a `CREATE TABLE IF NOT EXISTS` that lost the race to a concurrent creator of the
 * same table (see above), and 42701 (duplicate_column) of an `ALTER TABLE … ADD COLUMN IF NOT
 * EXISTS` that lost it to a concurrent adder of the same column (membership.ts).
 */
const CREATE_RACE_SQLSTATES: ReadonlySet<string> = new Set(['23505', '42P07', '42710', '42701']);

/** Tries of a creation in all: a lost race means the other creator committed, so the second finds the table; one more for margin. */
export const CREATE_ATTEMPTS_MAX = 3;

/** Whether `err` (a driver error, not yet described) is a creation that lost the race to another creator of the same table. */
export function lostCreateRace(err: unknown): boolean {
  return CREATE_RACE_SQLSTATES.has(sqlstateOf(err));
}

/** Runs `create` (idempotent: IF NOT EXISTS, ON CONFLICT DO NOTHING) again while it loses the race to a concurrent creator, CREATE_ATTEMPTS_MAX tries in all. */
export async function createRacing<T>(create: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await create();
    } catch (err) {
      if (n >= CREATE_ATTEMPTS_MAX || !lostCreateRace(err)) throw err;
    }
  }
}
