/**
 * The crash swarm on PostgreSQL (docs/testing.md, "The crash swarm on PostgreSQL"): one seed gives
 * one run of 2–3 simulated nodes contending for the queues' streams in one fresh database, with
 * leases running out, nodes crashing at random points and new owners taking over (pg-run.ts).
 * A run's database is created on the server `adminUrl` names, and dropped after a passing run
 * (kept after a failure, for a look).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../store/store.js';
import { SwarmCheckFailure, type DeliveryFigures, type SwarmCheck } from './checks.js';
import { PgSwarmRun } from './pg-run.js';

export interface PgSwarmOptions {
  /** A PostgreSQL URL whose user may CREATE DATABASE: each run gets a database of its own there. */
  adminUrl: string;
  /** Operations before the faults stop; default: drawn from the seed, 60..200. */
  ops?: number;
  /** Keep the run's database after a passing run too. */
  keep?: boolean;
}

export interface PgSwarmStats {
  ops: number;
  nodes: number;
  queues: number;
  crashes: number;
  /** Crashes with a create's flush (its transaction) on the way: committed, never answered. */
  crashesMidFlush: number;
  /** Crashes that cut a node's append transaction in the middle (pg-cut.ts): rolled back. */
  crashesMidTransaction: number;
  /** Acquires sent while the stream's owner had an append inside its transaction. */
  races: number;
  /** Flushes of several queues of one node at once: one transaction (its group commit) for all. */
  sharedFlushes: number;
  leaseExpiries: number;
  /** Acquires that took a stream (the first owner of each queue included). */
  handovers: number;
  /** Acquires refused because the stream's lease was held. */
  refusedAcquires: number;
  releases: number;
  /** Deposed owners whose append the store refused (STORE_FENCED). */
  fencedAppends: number;
  /** Zombies that woke to find no one had taken their queue, and went on. */
  zombiesRevived: number;
  /** SERIALIZABLE runs (every fourth seed): node transactions aborted by a conflict (40001/40P01) and run again. */
  conflictRetries: number;
  /** Fold snapshots stored (pg-snapshots.ts). */
  snapshotsWritten: number;
  /** Crashes of an owner's node with its snapshot on its way, in the middle of the put's statement (rolled back), right after the put. */
  snapshotCrashesBefore: number;
  snapshotCrashesDuring: number;
  snapshotCrashesAfter: number;
  /** Takeovers that restored a snapshot, and the events they did not replay for it. */
  restoredFromSnapshot: number;
  eventsNotReplayed: number;
  tasks: number;
  acknowledged: number;
  events: number;
  virtualSeconds: number;
  deliveries?: DeliveryFigures;
}

export interface PgSwarmResult {
  seed: number;
  ok: boolean;
  /** The run's database (password hidden), when kept: `keep`, or a failure. */
  database?: string;
  failure?: { check: SwarmCheck; message: string; trace: string[] };
  stats: PgSwarmStats;
  /** sha256 of every stream's final events, after a passing run. */
  digest?: string;
}

async function admin<T>(adminUrl: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Runs the PostgreSQL swarm for one seed. Never throws for a failed check: the result says what failed, with the last operations. */
export async function runPgSwarm(seed: number, options: PgSwarmOptions): Promise<PgSwarmResult> {
  const name = `pushq_swarm_${seed}_${randomBytes(3).toString('hex')}`;
  await admin(options.adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(options.adminUrl);
  u.pathname = `/${name}`;
  const run = new PgSwarmRun(seed, u.toString());
  const ops = options.ops ?? run.rng.between(60, 200);
  let failure: PgSwarmResult['failure'];
  try {
    await run.run(ops);
  } catch (err) {
    const check: SwarmCheck = err instanceof SwarmCheckFailure ? err.check : 'engine-error';
    const message = err instanceof SwarmCheckFailure ? err.message : `${(err as Error)?.stack ?? String(err)}`;
    failure = { check, message, trace: run.trace.slice() };
  }
  const kept = failure !== undefined || options.keep === true;
  if (!kept) await admin(options.adminUrl, (c) => c.query(`DROP DATABASE ${name}`));
  const result: PgSwarmResult = { seed, ok: failure === undefined, stats: run.stats };
  if (kept) result.database = redactUrl(u.toString());
  if (failure !== undefined) result.failure = failure;
  else result.digest = run.digest;
  return result;
}
