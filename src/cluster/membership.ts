/**
 * The nodes of a cluster and who owns which queue, in PostgreSQL beside the store's tables.
 *
 * `pushq_nodes` has one row per running node: its id, the URL its API answers on and the address
 * of its gRPC API (where other nodes forward calls for the queues it owns), the queue configuration
 * it applies (its hash and its queues' names: placement gives a queue only to nodes whose file
 * holds it, node.ts) and when its heartbeat runs out, in database time.
 * A node is live while `expires_at > now()`: one that is killed or stopped drops out after one
 * lifetime, with no one having to notice it. The owner of a queue is read off the queue stream's
 * lease (`pushq_streams.owner`, written by the store's acquire), joined to the owner's row for its
 * URL: the lease row is the one record of ownership, this table only adds where to reach it.
 *
 * Statements are kept to the portable set of docs/cluster.md (CREATE TABLE IF NOT EXISTS, INSERT
 * ... ON CONFLICT DO UPDATE, a join, now() arithmetic).
 */
import pg from 'pg';
import { PgSession, type SessionOptions } from '../store/pg-session.js';
import { QUEUE_STREAM_PREFIX } from '../store/store.js';

export const NODES_TABLE = `CREATE TABLE IF NOT EXISTS pushq_nodes (
  node TEXT PRIMARY KEY,
  api_url TEXT NOT NULL,
  grpc_address TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  config_hash TEXT,
  queues TEXT
)`;

/**
 * The columns added since the table's first shape, for a store whose `pushq_nodes` was made before
 * them (CREATE TABLE IF NOT EXISTS leaves an existing table as it is). NULL in a row: a node that
 * does not announce its configuration, taken as knowing every queue (the placement of before).
 */
export const NODES_TABLE_COLUMNS: readonly string[] = [
  'ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS config_hash TEXT',
  'ALTER TABLE pushq_nodes ADD COLUMN IF NOT EXISTS queues TEXT',
];

const MS = `* INTERVAL '1 millisecond'`;

// One definition, in the store's layer; re-exported for code that imported it from here.
export { queueStream } from '../store/store.js';

export interface QueueOwner {
  queue: string;
  node: string;
  url: string;
  /** HOST:PORT of the owner's gRPC API. */
  grpc: string;
  epoch: number;
}

/** The queue configuration a node applies, as it announces it to the others. */
export interface AppliedConfig {
  /** sha256 of the configuration's canonical JSON (the log header's config hash). */
  hash: string;
  /** Its queues' names. */
  queues: readonly string[];
}

/** A live node, with the configuration it announced (null: it announces none, so it is taken to know every queue). */
export interface LiveNode {
  node: string;
  config: AppliedConfig | null;
}

export class Membership {
  private constructor(private readonly db: PgSession) {}

  /** Connects and creates the nodes table when missing; `session`: PgSession's bound, name and lock waits. Throws StoreError. */
  static async open(url: string, session: SessionOptions = {}): Promise<Membership> {
    return new Membership(await PgSession.open(url, 2, NODES_TABLE, NODES_TABLE_COLUMNS, session));
  }

  private q<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.db.q<R>(text, values);
  }

  /** Announces `node` and the configuration it applies (or keeps them announced) for `ttlMs` more of database time. */
  async heartbeat(node: string, apiUrl: string, grpcAddress: string, ttlMs: number, config: AppliedConfig): Promise<void> {
    await this.q(
      `INSERT INTO pushq_nodes (node, api_url, grpc_address, started_at, expires_at, config_hash, queues) VALUES ($1, $2, $3, now(), now() + $4::BIGINT ${MS}, $5, $6)
       ON CONFLICT (node) DO UPDATE SET api_url = excluded.api_url, grpc_address = excluded.grpc_address, expires_at = excluded.expires_at,
         config_hash = excluded.config_hash, queues = excluded.queues`,
      [node, apiUrl, grpcAddress, Math.round(ttlMs), config.hash, JSON.stringify(config.queues)],
    );
  }

  /** Nodes whose heartbeat has not run out, sorted, each with the configuration it announced. */
  async liveNodes(): Promise<LiveNode[]> {
    const r = await this.q<{ node: string; config_hash: string | null; queues: string | null }>('SELECT node, config_hash, queues FROM pushq_nodes WHERE expires_at > now() ORDER BY node');
    return r.rows.map((row) => ({ node: row.node, config: row.config_hash === null || row.queues === null ? null : { hash: row.config_hash, queues: JSON.parse(row.queues) as string[] } }));
  }

  /** Every queue whose lease is held and not run out, with its owner's URL. */
  async owners(): Promise<QueueOwner[]> {
    const r = await this.q<{ stream: string; owner: string; api_url: string; grpc_address: string; epoch: string }>(
      `SELECT s.stream, s.owner, n.api_url, n.grpc_address, s.epoch FROM pushq_streams s JOIN pushq_nodes n ON n.node = s.owner
       WHERE s.lease_expires_at > now() AND s.stream LIKE $1`,
      [`${QUEUE_STREAM_PREFIX}%`],
    );
    return r.rows.map((row) => ({ queue: row.stream.slice(QUEUE_STREAM_PREFIX.length), node: row.owner, url: row.api_url, grpc: row.grpc_address, epoch: Number(row.epoch) }));
  }

  /** Takes `node` out at once (a clean stop), and forgets nodes gone for an hour. */
  async leave(node: string): Promise<void> {
    await this.q(`DELETE FROM pushq_nodes WHERE node = $1 OR expires_at < now() - 3600000::BIGINT ${MS}`, [node]);
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
