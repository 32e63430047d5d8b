/**
 * The PostgreSQL schema of the store, and its version. Every statement is kept to what CockroachDB
 * and YugabyteDB also run (docs/cluster.md lists them): plain tables with primary keys, TEXT,
 * BIGINT, BYTEA, TIMESTAMPTZ, `CREATE TABLE IF NOT EXISTS`, `INSERT ... ON CONFLICT ... DO UPDATE
 * ... WHERE`, `RETURNING`, `SELECT ... FOR UPDATE`, `now()`; no sequences, triggers, advisory
 * locks, LISTEN/NOTIFY or PL/pgSQL.
 *
 * The version is one integer in `pushq_schema`: a store made by a pushq with another number is
 * refused at start (STORE_SCHEMA_MISMATCH), before anything is written.
 */

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

/** Rows per INSERT statement of a batch (4 parameters each; PostgreSQL allows 65,535 parameters). */
export const ROWS_PER_INSERT = 2000;
