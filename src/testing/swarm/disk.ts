/**
 * The crash swarm's disk: the file log's writer I/O (src/log/file-io.ts) over a real file, with a
 * model of what survives a crash.
 *
 * - Writes go to the file at once (the page cache); what is durable is tracked apart: an
 *   fdatasync is held, not done, until the harness completes it (`completeSyncs`), and only then
 *   does what was written before it count as durable. So the swarm can crash between a write and
 *   its sync, with the sync's caller (an API client) still waiting.
 * - A crash (`crash`) keeps the durable bytes and any prefix of the rest: the file is cut at an
 *   offset the harness picks in [durable, size] (mid-line, mid-batch, at a boundary), and may be
 *   left with damage in its unsynced part: garbage after the cut (a sector half written), or one
 *   digit changed inside the last complete unsynced batch (a torn sector that still parses: only
 *   the batch's checksum can tell). Pending syncs are dropped: their callers never hear back.
 * - Faults: while `writeFault` / `syncFault` is set, writes fail with that errno (after writing
 *   part of their bytes, as a filling disk does) / syncs fail with it.
 */
import { closeSync, fstatSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import type { LogFileIo } from '../../log/file-io.js';

export type DiskFault = 'ENOSPC' | 'EIO';

/** How the unsynced part of the file is left by a crash. */
export type CrashDamage = 'none' | 'garbage-tail' | 'flipped-digit';

interface HeldSync {
  fd: number;
  upTo: number;
  callback: (err: NodeJS.ErrnoException | null) => void;
}

function errno(code: DiskFault, call: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'i/o error'}, ${call}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class SwarmDisk implements LogFileIo {
  /** Bytes of the file that a crash keeps whatever happens. */
  durable = 0;
  writeFault: DiskFault | null = null;
  syncFault: DiskFault | null = null;
  /** Bytes a failing write still writes before it fails (then reset to 0). */
  partialBytes = 0;
  private held: HeldSync[] = [];
  private readonly fds = new Set<number>();
  writes = 0;
  syncs = 0;

  constructor(readonly path: string) {}

  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    this.fds.add(fd);
    this.writes++;
    if (this.writeFault !== null) {
      const k = Math.min(this.partialBytes, length);
      this.partialBytes = 0;
      if (k > 0) return writeSync(fd, buffer, offset, k, position);
      throw errno(this.writeFault, 'write');
    }
    return writeSync(fd, buffer, offset, length, position);
  }

  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void {
    this.fds.add(fd);
    this.held.push({ fd, upTo: fstatSync(fd).size, callback });
  }

  /** Syncs waiting to be completed. */
  get pendingSyncs(): number {
    return this.held.length;
  }

  /** Completes the first `count` held syncs, in order (failing them while `syncFault` is set). */
  completeSyncs(count = Infinity): void {
    const now = this.held.splice(0, Math.min(count, this.held.length));
    for (const s of now) {
      this.syncs++;
      if (this.syncFault !== null) {
        s.callback(errno(this.syncFault, 'fdatasync'));
        continue;
      }
      if (s.upTo > this.durable) this.durable = s.upTo;
      s.callback(null);
    }
  }

  /** The file as it stands (what the process sees). */
  size(): number {
    return readFileSync(this.path).length;
  }

  /**
   * The process dies: its descriptors close, held syncs are dropped, and the file keeps the
   * durable bytes plus the first `cutAt - durable` of the rest, damaged as `damage` says.
   * `pick(n)` draws an integer in [0, n) for where the damage goes. Returns what was done.
   */
  crash(cutAt: number, damage: CrashDamage, pick: (n: number) => number): string {
    this.held = [];
    for (const fd of this.fds) {
      try {
        closeSync(fd);
      } catch {
        // already closed by the log itself
      }
    }
    this.fds.clear();
    this.writeFault = null;
    this.syncFault = null;
    const bytes = readFileSync(this.path);
    const cut = Math.max(this.durable, Math.min(cutAt, bytes.length));
    let what = `cut at byte ${cut} (durable ${this.durable}, written ${bytes.length})`;
    let kept = Buffer.from(bytes.subarray(0, cut));
    if (damage === 'garbage-tail') {
      const n = 1 + pick(64);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = pick(3) === 0 ? 0 : 0x20 + pick(0x5f); // zeros and printable noise, no newline
      kept = Buffer.concat([kept, junk]);
      what += `, ${n} bytes of garbage after it`;
    } else if (damage === 'flipped-digit') {
      const at = digitToFlip(kept, this.durable, pick);
      if (at >= 0) {
        const was = kept[at] as number;
        const numberStart = !((kept[at - 1] as number) >= 0x30 && (kept[at - 1] as number) <= 0x39);
        // Another digit, and not a leading zero: the line must still parse.
        const choices = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39].filter((d) => d !== was && !(numberStart && d === 0x30));
        kept[at] = choices[pick(choices.length)] as number;
        what += `, digit at byte ${at} changed ${String.fromCharCode(was)}→${String.fromCharCode(kept[at] as number)}`;
      }
    }
    writeFileSync(this.path, kept);
    if (kept.length < bytes.length) truncateSync(this.path, kept.length);
    // What is on the platter after a power loss is what a restart finds: durable from now on.
    this.durable = kept.length;
    return what;
  }
}

const MARKER = '\n{"commit":';

/**
 * A byte holding a digit in an event line of the last complete batch of `bytes`, if that batch
 * lies wholly at or past `durable`; -1 when there is none.
 */
function digitToFlip(bytes: Buffer, durable: number, pick: (n: number) => number): number {
  let marker = bytes.lastIndexOf(MARKER);
  while (marker >= 0 && bytes.indexOf(0x0a, marker + 1) < 0) marker = bytes.lastIndexOf(MARKER, marker - 1);
  if (marker < 0) return -1;
  const previous = bytes.lastIndexOf(MARKER, marker - 1);
  const batchStart = previous < 0 ? bytes.indexOf(0x0a) + 1 : bytes.indexOf(0x0a, previous + 1) + 1;
  if (batchStart < durable) return -1;
  const digits: number[] = [];
  for (let i = batchStart; i <= marker; i++) if ((bytes[i] as number) >= 0x30 && (bytes[i] as number) <= 0x39) digits.push(i);
  return digits.length === 0 ? -1 : (digits[pick(digits.length)] as number);
}
