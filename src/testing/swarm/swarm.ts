/**
 * The crash swarm (in the manner of TigerBeetle's VOPR; docs/testing.md): one seed gives one run,
 * the same every time. A run drives the real kernel (virtual driver, virtual time) over the real
 * file log, whose I/O goes through SwarmDisk (disk.ts), with random queue configs, clients
 * creating tasks (and retrying the ones that got no answer), operator commands, reloads, worker
 * faults (errors, no answers, outages), disk faults (ENOSPC, EIO) and crashes at random points:
 * the file cut anywhere past what was synced, torn or damaged, then a restart from it the way
 * `pushq serve` restarts (openFileEventLog, fold, resumeFromLog). Then the faults stop and every
 * task must settle. The checks are in checks.ts.
 *
 * A client's CreateTask counts as acknowledged exactly when `pushq serve` answers it: when the
 * flush after it resolves, for a task created and for ALREADY_EXISTS alike (operations.ts, durable).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwarmCheckFailure, type DeliveryFigures, type SwarmCheck } from './checks.js';
import type { CrashDamage } from './disk.js';
import { SwarmRun } from './run.js';

export interface SwarmOptions {
  /** Operations in the faulty phase; default: drawn from the seed, 100..400. */
  ops?: number;
  /** Where the run's log file goes (a fresh directory inside); default the system's temp directory. */
  dir?: string;
  /** Keep the log file after a passing run (a failing run always keeps it). */
  keepLog?: boolean;
}

export interface SwarmStats {
  ops: number;
  crashes: number;
  tasks: number;
  acknowledged: number;
  events: number;
  /** Crashes that cut into bytes not yet synced, and those that left damage there. */
  crashesLosingUnsynced: number;
  crashDamage: Record<CrashDamage, number>;
  diskFaults: number;
  refusedWhileDiskFailed: number;
  virtualSeconds: number;
  deliveries?: DeliveryFigures;
}

export interface SwarmResult {
  seed: number;
  ok: boolean;
  /** The run's directory (its log, events.log), when kept: `keepLog`, or a failure. */
  logDir?: string;
  failure?: { check: SwarmCheck; message: string; trace: string[]; logPath: string };
  stats: SwarmStats;
}

/** Runs the swarm for one seed. Never throws for a failed check: the result says what failed, with the last operations. */
export async function runSwarm(seed: number, options: SwarmOptions = {}): Promise<SwarmResult> {
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), `pushq-swarm-${seed}-`));
  const run = new SwarmRun(seed, dir);
  const ops = options.ops ?? run.rng.between(100, 400);
  let failure: SwarmResult['failure'];
  try {
    await run.run(ops);
  } catch (err) {
    const check: SwarmCheck = err instanceof SwarmCheckFailure ? err.check : 'engine-error';
    const message = err instanceof SwarmCheckFailure ? err.message : `${(err as Error)?.stack ?? String(err)}`;
    failure = { check, message, trace: run.trace.slice(), logPath: run.path };
  }
  const kept = failure !== undefined || options.keepLog === true;
  if (!kept) rmSync(dir, { recursive: true, force: true });
  const result: SwarmResult = { seed, ok: failure === undefined, stats: run.stats };
  if (kept) result.logDir = dir;
  if (failure !== undefined) result.failure = failure;
  return result;
}
