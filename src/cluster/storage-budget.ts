/**
 * `total_storage_limit` across a cluster (docs/cluster.md, "total_storage_limit across the nodes").
 *
 * The limit covers the stored task bytes of every queue together, but each queue's kernel holds
 * only its own. So each node, every round (`roundMs`, default 200 ms):
 *   1. reads the live figure (the kernel's `storageBytes`) of each queue it owns;
 *   2. publishes them in `pushq_storage`, one row per queue stream, fenced by the queue's epoch
 *      (a deposed owner's late figure never replaces its successor's);
 *   3. reads every row back.
 * A CreateTask on an owned queue is then checked, synchronously, in the kernel's pure core, against
 *
 *     its own live bytes + the live bytes of the node's other owned queues
 *                        + the last published bytes of every other configured queue
 *
 * so a refusal is the one-node refusal (STORAGE_LIMIT_EXCEEDED, same message), with no database
 * call on the create's path. The price is a bounded overshoot: what the other nodes accepted since
 * the figures this node last read. A node's view of another's queue is at most two rounds old (the
 * other published it at its round's start, this node reads it at its own next round), so the
 * cluster's stored bytes stay below `limit + Σ over the other nodes of the bytes each accepted in
 * the last 2 × (roundMs + one round's time)`: nothing more while the cluster is quiet for two
 * rounds, and never more than (nodes − 1) × limit however fast creates come.
 *
 * A queue no node owns now (a failover) keeps its last published figure: its tasks are still
 * stored. Rows of queues outside this node's queue.yaml are not counted (no node takes them).
 *
 * Statements: one multi-row `INSERT … ON CONFLICT (stream) DO UPDATE … WHERE` and one `SELECT` per
 * round, on a connection of their own (never behind appends); the table is created with
 * `CREATE TABLE IF NOT EXISTS`, like `pushq_nodes` (no schema version change: no table changed shape).
 */
import pg from 'pg';
import { PgSession, type SessionOptions } from '../store/pg-session.js';
import { QUEUE_STREAM_PREFIX, queueStream } from '../store/store.js';

export const STORAGE_TABLE = `CREATE TABLE IF NOT EXISTS pushq_storage (
  stream TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  node TEXT NOT NULL,
  published_at TIMESTAMPTZ NOT NULL
)`;

/** Default time between two rounds: the overshoot bound is what other nodes accept in about two of them. */
const STORAGE_ROUND_MS = 200;

/** The round's period for this process: `PUSHQ_STORAGE_ROUND_MS` when set to a whole number ≥ 10, else STORAGE_ROUND_MS. */
export function storageRoundMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['PUSHQ_STORAGE_ROUND_MS']);
  return Number.isInteger(n) && n >= 10 ? n : STORAGE_ROUND_MS;
}

/** One owned queue's live figure. */
export interface OwnedStorage {
  queue: string;
  epoch: number;
  bytes: number;
}

/** What the node tells the budget: the queues it owns now, and the queues of its queue.yaml. */
export interface StorageSource {
  owned(): readonly OwnedStorage[];
  /** One owned queue's live bytes, undefined when the node does not own it (asked at each create: no list built). */
  live(queue: string): number | undefined;
  configured(): readonly string[];
}

export class StorageBudget {
  /** Bytes per queue as last read from the table (every node's last publication). */
  private published = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private lastError: string | null = null;
  private closed = false;

  private constructor(
    private readonly db: PgSession,
    private readonly node: string,
    private readonly source: StorageSource,
    private readonly report: (line: string) => void,
  ) {}

  /** Connects (one connection) and creates the table when missing; `session`: PgSession's bound, name and lock waits. Throws StoreError. */
  static async open(url: string, node: string, source: StorageSource, report: (line: string) => void, session: SessionOptions = {}): Promise<StorageBudget> {
    return new StorageBudget(await PgSession.open(url, 1, STORAGE_TABLE, [], session), node, source, report);
  }

  /**
   * Bytes stored under the limit by every configured queue but `queue`: live for the queues this
   * node owns, as last published for the others (0 for a queue never published: it has no tasks
   * or its first owner has not had a round yet).
   */
  elsewhere(queue: string): number {
    let sum = 0;
    for (const q of this.source.configured()) {
      if (q !== queue) sum += this.source.live(q) ?? this.published.get(q) ?? 0;
    }
    return sum;
  }

  /** Starts the rounds (the first one should have been awaited: see `round`). */
  start(roundMs: number): void {
    this.timer = setInterval(() => void this.round(), roundMs);
  }

  /** One round: publish the owned queues' live figures, read every queue's. Never two at once; never throws. */
  round(): Promise<void> {
    this.running ??= this.publishAndRead().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async publishAndRead(): Promise<void> {
    if (this.closed) return;
    try {
      const owned = this.source.owned();
      if (owned.length > 0) {
        const values: unknown[] = [this.node];
        const rows = owned.map((o, i) => {
          values.push(queueStream(o.queue), o.epoch, o.bytes);
          return `($${2 + 3 * i}, $${3 + 3 * i}::BIGINT, $${4 + 3 * i}::BIGINT, $1, now())`;
        });
        await this.q(
          `INSERT INTO pushq_storage (stream, epoch, bytes, node, published_at) VALUES ${rows.join(', ')}
           ON CONFLICT (stream) DO UPDATE SET epoch = excluded.epoch, bytes = excluded.bytes, node = excluded.node, published_at = excluded.published_at
           WHERE pushq_storage.epoch <= excluded.epoch`,
          values,
        );
      }
      const r = await this.q<{ stream: string; bytes: string }>('SELECT stream, bytes FROM pushq_storage WHERE stream LIKE $1', [`${QUEUE_STREAM_PREFIX}%`]);
      this.published = new Map(r.rows.map((row) => [row.stream.slice(QUEUE_STREAM_PREFIX.length), Number(row.bytes)]));
      if (this.lastError !== null) this.report(`pushq serve: node ${this.node}: storage figures published and read again`);
      this.lastError = null;
    } catch (err) {
      // The last figures read stay in use. A node that cannot reach the store cannot append either,
      // so its creates are not acknowledged meanwhile (docs/cluster.md).
      const message = (err as Error).message;
      if (this.lastError !== message) this.report(`pushq serve: node ${this.node}: cannot publish or read the queues' storage figures (${message}); retrying`);
      this.lastError = message;
    }
  }

  private q<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.db.q<R>(text, values);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    await this.db.end().catch(() => undefined);
  }
}
