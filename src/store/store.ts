/**
 * The store behind one interface: where queue logs, snapshots and leases live. Two
 * implementations share it: the file store (file-store.ts: one process, each stream a file log in
 * one directory; run by the conformance suite, no command opens it) and PostgreSQL (pg-store.ts:
 * several nodes, docs/cluster.md).
 *
 * A stream is one ordered log: a single node's whole log (`NODE_STREAM`, `~node`, every queue in
 * one order, store-log.ts) or, in a cluster, one queue's (`queueStream`). Invariants every
 * implementation keeps (test/log/store-conformance.test.ts runs the same cases on both):
 * - positions of a stream are dense, from 0; a batch is appended whole or not at all;
 * - an append carries the writer's epoch and is refused (`STORE_FENCED`, nothing written) unless
 *   it is the stream's current epoch: acquiring a lease always moves the epoch on, so a deposed
 *   owner (a paused process, a node cut off) can never write after its successor started;
 * - lease times are the store's clock (database time), never the caller's: nodes' clocks may drift,
 *   the store's does not differ between them.
 */
import type { EngineEvent } from '../core/events.js';
import type { LogHeader } from '../log/event-log.js';

/** What every queue stream's name starts with: a cluster keeps one stream per queue (docs/cluster.md). */
export const QUEUE_STREAM_PREFIX = 'queue/';

/** A queue's stream in a cluster's store. */
export function queueStream(queue: string): string {
  return QUEUE_STREAM_PREFIX + queue;
}

export interface Lease {
  stream: string;
  owner: string;
  epoch: number;
  /** When the lease runs out, in the store's clock (ms since the Unix epoch). */
  expiresAtMs: number;
  /** The store's clock when it granted or renewed the lease (ms since the Unix epoch). */
  grantedAtMs: number;
}

/** A live lease as another node sees it: whose, and until when, with the store's clock at the reading. */
export interface LeaseHolder {
  owner: string;
  expiresAtMs: number;
  /** The store's clock when it was read (ms since the Unix epoch): `expiresAtMs − nowMs` is how long it still runs. */
  nowMs: number;
}

export interface StoredSnapshot {
  /** Events of the stream the snapshot covers: replay continues from here. */
  position: number;
  epoch: number;
  bytes: Buffer;
}

export interface EventStore {
  /** The store's address, safe to print (no password). */
  readonly displayUrl: string;
  /** Creates the stream if missing and sets its header (the first writer's); returns the stream's header. */
  ensureStream(stream: string, header: LogHeader): Promise<LogHeader>;
  /** The stream's header, or null when the stream does not exist. */
  header(stream: string): Promise<LogHeader | null>;
  /**
   * Appends one batch at the stream's end, fenced by `epoch`; resolves with the batch's first
   * position once durable. `at`, when given, is where the writer knows the stream ends (its count
   * of durable events): a stream already past `at` holding this very batch there under this epoch
   * is the batch of an earlier try whose commit went through but whose answer was lost, and is
   * answered `at` without writing it twice; a stream that ends elsewhere is STORE_FAILED.
   */
  append(stream: string, epoch: number, events: readonly EngineEvent[], at?: number): Promise<number>;
  /** Events of the stream from `position` (inclusive) to its end, in order. */
  read(stream: string, position?: number): Promise<EngineEvent[]>;
  /** Events in the stream. */
  length(stream: string): Promise<number>;
  /** Every stream, sorted. */
  streams(): Promise<string[]>;
  /** Stores a snapshot covering the stream's first `position` events; fenced by `epoch` like append. */
  putSnapshot(stream: string, epoch: number, position: number, bytes: Buffer): Promise<void>;
  getSnapshot(stream: string): Promise<StoredSnapshot | null>;
  /** Takes the stream's lease for `owner` when it is free, expired or already `owner`'s; a new epoch each time. null when someone else holds it. */
  acquire(stream: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a held lease; null when the lease was lost (another epoch took the stream). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Gives the lease up (the epoch stays; the next acquire moves it on). */
  release(lease: Lease): Promise<void>;
  /** Who holds the stream's lease now (one that has not run out), read without taking it: for the message of a refused acquire. null when no one does. */
  leaseHolder(stream: string): Promise<LeaseHolder | null>;
  /** The store's clock (ms since the Unix epoch). */
  now(): Promise<number>;
  close(): Promise<void>;
}

export type StoreErrorCode =
  /** An append or snapshot by an epoch that is no longer the stream's (a deposed owner). */
  | 'STORE_FENCED'
  /** The store cannot be reached (connection refused, timed out, lost). Retry later. */
  | 'STORE_UNAVAILABLE'
  /**
   * A statement ran into the store's bound (pg-options.ts, statementBounds): a lock another session
   * holds on pushq's tables, or a server that does not answer. Retry later.
   */
  | 'STORE_TIMEOUT'
  /** A transaction the database aborted for a conflict (SQLSTATE 40001 or 40P01) every time it was retried (pg-retry.ts): nothing was written. Retry later. */
  | 'STORE_CONFLICT'
  /** The store refused the credentials. */
  | 'STORE_AUTH_FAILED'
  /** The store holds a schema from another pushq version. */
  | 'STORE_SCHEMA_MISMATCH'
  /** The store's URL cannot be used (unknown scheme, bad syntax). */
  | 'STORE_BAD_URL'
  /** The store refused an operation for another reason (named in the message). */
  | 'STORE_FAILED';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `operand` names a PostgreSQL store (`postgres://` or `postgresql://`) rather than a file. */
export function isStoreUrl(operand: string): boolean {
  return /^postgres(ql)?:\/\//.test(operand);
}

/**
 * A PostgreSQL URL with its password replaced by `***`, for messages and logs: the one after the
 * user name, and every query parameter that names one (`?password=...`, which node-postgres, like
 * libpq, connects with; `sslpassword`, a key's passphrase).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    for (const key of new Set(u.searchParams.keys())) if (/password/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    // Not parseable: show the scheme only, never the rest (it may hold a password).
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url);
    return scheme === null ? '(unparseable store URL)' : `${scheme[0]}//(unparseable)`;
  }
}
