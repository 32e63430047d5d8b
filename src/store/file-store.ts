/**
 * The file store: the EventStore interface over file logs in one directory, for one process. No
 * command opens it (`pushq serve --data` writes its file log itself, under the data directory's
 * lock); it is the store without a database, run through the conformance suite PostgreSQL runs
 * (test/log/store-conformance.test.ts). Nothing locks its directory. Each stream is a file log
 * (`<stream>.jsonl`, the format of log-format.ts, written by FileEventLog, unchanged), its snapshot
 * `<stream>.snap`, and the epochs `epochs.json`; the whole files are written by atomic-file.ts
 * (a temporary file of its own per write, synced, renamed; removed when the write fails).
 *
 * Leases here are in-process (one node), on the local clock; epochs are still kept on disk and move
 * on at each acquire, so fencing means the same as on PostgreSQL, also across restarts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../core/events.js';
import { writeFileAtomicallySync } from '../log/atomic-file.js';
import type { LogHeader } from '../log/event-log.js';
import { createFileEventLog, openFileEventLog, readEventLogFile, type FileEventLog } from '../log/file-log.js';
import { StoreError, type EventStore, type Lease, type LeaseHolder, type StoredSnapshot } from './store.js';

const LOG_SUFFIX = '.jsonl';
const SNAPSHOT_SUFFIX = '.snap';

interface HeldLease {
  owner: string;
  epoch: number;
  expiresAtMs: number;
}

export class FileStore implements EventStore {
  readonly displayUrl: string;
  private readonly logs = new Map<string, FileEventLog>();
  private readonly epochs: Record<string, number>;
  private readonly leases = new Map<string, HeldLease>();
  /** Appends run one at a time per store: a batch is written and synced before the next starts. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.displayUrl = dir;
    const epochsPath = join(dir, 'epochs.json');
    this.epochs = existsSync(epochsPath) ? (JSON.parse(readFileSync(epochsPath, 'utf8')) as Record<string, number>) : {};
  }

  private path(stream: string, suffix = LOG_SUFFIX): string {
    return join(this.dir, encodeURIComponent(stream) + suffix);
  }

  private async log(stream: string): Promise<FileEventLog> {
    const open = this.logs.get(stream);
    if (open !== undefined) return open;
    if (!existsSync(this.path(stream))) throw new StoreError('STORE_FAILED', `stream ${stream} does not exist in ${this.dir}`);
    const { log } = await openFileEventLog(this.path(stream));
    this.logs.set(stream, log);
    return log;
  }

  async ensureStream(stream: string, header: LogHeader): Promise<LogHeader> {
    if (existsSync(this.path(stream))) return (await this.log(stream)).header;
    const log = await createFileEventLog(this.path(stream), header);
    await log.flush();
    this.logs.set(stream, log);
    return header;
  }

  async header(stream: string): Promise<LogHeader | null> {
    return existsSync(this.path(stream)) ? (await this.log(stream)).header : null;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  append(stream: string, epoch: number, events: readonly EngineEvent[], at?: number): Promise<number> {
    return this.serial(async () => {
      this.fence(stream, epoch);
      const log = await this.log(stream);
      const position = log.length;
      // A local write's outcome is never unknown, so the stream can only end where its one writer says.
      if (at !== undefined && at !== position) throw new StoreError('STORE_FAILED', `stream ${stream}: it ends at position ${position}, not at ${at} where its writer expects`);
      for (const e of events) log.append(e);
      log.commit();
      await log.flush();
      return position;
    });
  }

  private fence(stream: string, epoch: number): void {
    const current = this.epochs[stream] ?? 0;
    if (epoch !== current) throw new StoreError('STORE_FENCED', `stream ${stream}: epoch ${epoch} is not the current epoch ${current}: this writer was deposed`);
  }

  async read(stream: string, position = 0): Promise<EngineEvent[]> {
    if (!existsSync(this.path(stream))) return [];
    await this.queue;
    const open = this.logs.get(stream);
    if (open !== undefined) await open.flush();
    return (await readEventLogFile(this.path(stream))).events.slice(position);
  }

  async length(stream: string): Promise<number> {
    if (!existsSync(this.path(stream))) return 0;
    await this.queue;
    return (await this.log(stream)).length;
  }

  async streams(): Promise<string[]> {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(LOG_SUFFIX))
      .map((f) => decodeURIComponent(f.slice(0, -LOG_SUFFIX.length)))
      .sort();
  }

  putSnapshot(stream: string, epoch: number, position: number, bytes: Buffer): Promise<void> {
    return this.serial(async () => {
      this.fence(stream, epoch);
      // A snapshot never replaces one at a later position (as in pg-store.ts).
      if (((await this.getSnapshot(stream))?.position ?? -1) > position) return;
      const meta = Buffer.from(JSON.stringify({ position, epoch }) + '\n');
      writeFileAtomicallySync(this.path(stream, SNAPSHOT_SUFFIX), Buffer.concat([meta, bytes]));
    });
  }

  async getSnapshot(stream: string): Promise<StoredSnapshot | null> {
    const p = this.path(stream, SNAPSHOT_SUFFIX);
    if (!existsSync(p)) return null;
    const all = readFileSync(p);
    const nl = all.indexOf(10);
    const meta = JSON.parse(all.subarray(0, nl).toString('utf8')) as { position: number; epoch: number };
    return { position: meta.position, epoch: meta.epoch, bytes: Buffer.from(all.subarray(nl + 1)) };
  }

  async acquire(stream: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.serial(async () => {
      const now = Date.now();
      const held = this.leases.get(stream);
      if (held !== undefined && held.owner !== owner && held.expiresAtMs > now) return null;
      const epoch = (this.epochs[stream] ?? 0) + 1;
      // On disk before it counts: an acquire that cannot write its epoch grants nothing, and the holder's appends stay good.
      writeFileAtomicallySync(join(this.dir, 'epochs.json'), Buffer.from(JSON.stringify({ ...this.epochs, [stream]: epoch })));
      this.epochs[stream] = epoch;
      this.leases.set(stream, { owner, epoch, expiresAtMs: now + ttlMs });
      return { stream, owner, epoch, expiresAtMs: now + ttlMs, grantedAtMs: now };
    });
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const held = this.leases.get(lease.stream);
    if (held === undefined || held.epoch !== lease.epoch || (this.epochs[lease.stream] ?? 0) !== lease.epoch) return null;
    const now = Date.now();
    held.expiresAtMs = now + ttlMs;
    return { ...lease, expiresAtMs: held.expiresAtMs, grantedAtMs: now };
  }

  async release(lease: Lease): Promise<void> {
    const held = this.leases.get(lease.stream);
    if (held !== undefined && held.epoch === lease.epoch) this.leases.delete(lease.stream);
  }

  async leaseHolder(stream: string): Promise<LeaseHolder | null> {
    const held = this.leases.get(stream);
    const now = Date.now();
    return held === undefined || held.expiresAtMs <= now ? null : { owner: held.owner, expiresAtMs: held.expiresAtMs, nowMs: now };
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async close(): Promise<void> {
    await this.queue;
    for (const log of this.logs.values()) await log.close();
    this.logs.clear();
  }
}
