/**
 * `pushq serve --store postgres://...`: the node's log in PostgreSQL instead of the data
 * directory (docs/cluster.md). Opening refuses, before anything is written, an unreachable store,
 * wrong credentials, a schema from another pushq version and a log another live node holds (whose
 * lease, and when it runs out), with the URL (password hidden) and the problem; the caller exits 1.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EngineEvent } from '../core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from '../log/event-log.js';
import { PgStore, type PgStoreOptions } from '../store/pg-store.js';
import { SnapshotWriter, readFromSnapshot } from '../server/stream-snapshots.js';
import type { PushqService } from '../server/service.js';
import type { FoldSnapshot } from '../server/fold-snapshot.js';
import { NODE_STREAM, openStoreLog } from '../store/store-log.js';
import { phasedLockWaits } from '../store/pg-waits.js';
import { StoreError, redactUrl } from '../store/store.js';
import { PUSHQ_VERSION } from '../version.js';

/** The lease on the node's log: renewed every third of it. */
const STORE_LEASE_MS = 15_000;

/**
 * The lease for this process: `PUSHQ_STORE_LEASE_MS` when set to a whole number ≥ 1000 (tests of a
 * kill -9 and a restart wait for the dead node's lease to run out: a few seconds, not 15), else
 * STORE_LEASE_MS.
 */
export function storeLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['PUSHQ_STORE_LEASE_MS']);
  return Number.isSafeInteger(n) && n >= 1000 ? n : STORE_LEASE_MS;
}

export interface OpenedStore {
  log: EventLog;
  /** The events to fold at start: after `snapshot` when there is one, else the whole stream. */
  events: EngineEvent[];
  snapshot: FoldSnapshot | null;
  /** Starts writing fold snapshots of the stream for the running service (stream-snapshots.ts). */
  writeSnapshots(service: PushqService): SnapshotWriter;
  where: string;
  discard(): Promise<void>;
}

/** The store's log, or the line to print (the URL without its password, and what is wrong). */
export async function openServeStore(url: string, configHash: string, onDeposed: (message: string) => void, options: Pick<PgStoreOptions, 'statementTimeoutMs'> = {}): Promise<OpenedStore | { error: string }> {
  // Held up by a lock another session holds on pushq's tables, a start says what it waits for
  // and on whom, a second in and every 5 s after, until it goes on or its bound (STORE_TIMEOUT)
  // ends it: it never sits silent; a store that does not answer at all is said so too. Once
  // started, a statement held up by a lock says it the same way (pg-waits.ts).
  const { lockWaits, started } = phasedLockWaits(url, options.statementTimeoutMs, (line) => void process.stderr.write(`${line}\n`), { starting: 'pushq serve: starting: ', running: 'pushq serve: ' });
  const applicationName = `pushq serve ${process.pid} ${randomBytes(3).toString('hex')}`;
  const opened = await open(url, configHash, onDeposed, { ...options, applicationName, lockWaits });
  started();
  return opened;
}

async function open(url: string, configHash: string, onDeposed: (message: string) => void, options: PgStoreOptions): Promise<OpenedStore | { error: string }> {
  let store: PgStore;
  try {
    store = await PgStore.open(url, options);
  } catch (err) {
    return { error: err instanceof StoreError ? `${err.message} (${err.code})` : `${redactUrl(url)}: ${(err as Error).message}` };
  }
  try {
    const header: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash };
    // This process's name as the lease's owner: a second `pushq serve` (on this host too) is then
    // another owner, refused while this one's lease runs, not the same owner taking its lease back.
    const owner = `serve@${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const leaseMs = storeLeaseMs();
    const opened = await openStoreLog(store, owner, header, { leaseMs, onDeposed: (err) => onDeposed(err.message), readEvents: false });
    opened.log.keepLease(leaseMs);
    const log = opened.log;
    // From the latest usable snapshot, as a cluster's queue is taken (docs/cluster.md, Snapshots).
    const warn = (line: string): void => void process.stderr.write(`pushq serve: ${line}\n`);
    const { snapshot, tail, from } = await readFromSnapshot(store, NODE_STREAM, log.header, warn);
    log.durableEvents = from + tail.length;
    const closeLog = log.close.bind(log);
    let snapshots: SnapshotWriter | undefined;
    const closeAll: EventLog['close'] = async () => {
      await closeLog();
      // A clean stop leaves a snapshot of everything (best effort: writeFinal says when it is not
      // worth it or not possible), so the next start folds next to nothing, as a cluster's hand-over does.
      await snapshots?.writeFinal();
      await store.close();
    };
    // The service closes the log at shutdown; the pool goes with it.
    const wrapped = Object.assign(log, { close: closeAll });
    return {
      log: wrapped,
      // The closures here share one scope with the log's close, which lives as long as the service:
      // none may name `tail` (or the snapshot), which must go once folded into the state.
      events: tail,
      snapshot,
      writeSnapshots: (service) => (snapshots = new SnapshotWriter(service, { store, log, epoch: log.lease.epoch, lastPosition: from, warn })),
      where: `${store.displayUrl} (PostgreSQL)`,
      discard: closeAll,
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    return { error: err instanceof StoreError ? `${err.message} (${err.code})` : `${store.displayUrl}: ${(err as Error).message}` };
  }
}
