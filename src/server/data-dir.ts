/**
 * The data directory of `pushq serve`: one durable event log, `<dir>/events.log`. A first start
 * creates it; a restart opens it (a torn tail from a crash is dropped: those batches were never
 * acknowledged) and hands back its events for replay.
 *
 * The directory is locked first (`<dir>/lock`, data-dir-lock.ts): a second server on the same
 * directory is refused before it touches the log. The caller owns the returned lock and releases
 * it after closing the log (PushqService does, given `dataLock`).
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent } from '../core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from '../log/event-log.js';
import { createFileEventLog, openFileEventLog } from '../log/file-log.js';
import { PUSHQ_VERSION } from '../version.js';
import { acquireDataDirLock, type DataDirLock, type LockOptions } from './data-dir-lock.js';

export const EVENT_LOG_FILE = 'events.log';

export interface OpenedData {
  log: EventLog;
  path: string;
  events: EngineEvent[];
  /** Bytes of a torn tail dropped at open. */
  droppedBytes: number;
  /** Held until released; `lock.takenOver` says if a crashed server's lock was replaced. */
  lock: DataDirLock;
}

export async function openDataDir(dir: string, configHash: string, options: { durable?: boolean; lock?: LockOptions } = {}): Promise<OpenedData> {
  await mkdir(dir, { recursive: true });
  const lock = await acquireDataDirLock(dir, options.lock);
  try {
    return { ...(await openLog(dir, configHash, options.durable ?? true)), lock };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function openLog(dir: string, configHash: string, durable: boolean): Promise<Omit<OpenedData, 'lock'>> {
  const path = join(dir, EVENT_LOG_FILE);
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size > 0) {
    const opened = await openFileEventLog(path, { durable });
    if (opened.header.clock !== 'wall') {
      await opened.log.close();
      throw new Error(`${path}: this log was written by a simulation (virtual clock), not by pushq serve; use another --data directory`);
    }
    return { log: opened.log, path, events: opened.events, droppedBytes: opened.recovered.droppedBytes };
  }
  const header: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash };
  const log = await createFileEventLog(path, header, { durable, overwrite: true });
  return { log, path, events: [], droppedBytes: 0 };
}
