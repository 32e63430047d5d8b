/**
 * The event log interface the kernel writes through. Two implementations share it: the memory
 * log (memory-log.ts: simulations, tests) and the file log (durable, JSON lines).
 *
 * The kernel calls `append` for each event of a step, then `commit` once: the events since the
 * previous commit form one batch, which a durable log writes and syncs together and which
 * recovery keeps whole or drops whole. `flush` resolves when every committed batch is durable;
 * an API acknowledges a command only after it.
 */
import type { EngineEvent } from '../core/events.js';

export const LOG_FORMAT = 'pushq-events';
/** The format this pushq writes; it reads (and appends to) every earlier one too. See log-format.ts for the list. */
export const LOG_FORMAT_VERSION = 2;

/** The first line of a log file; memory logs keep the same record. */
export interface LogHeader {
  format: typeof LOG_FORMAT;
  version: number;
  pushqVersion: string;
  seed: number;
  /** `virtual`: times are µs since the run started; `wall`: µs since the Unix epoch. */
  clock: 'virtual' | 'wall';
  /** sha256 (hex) of the canonical JSON of the queue configuration first applied. */
  configHash: string;
}

export interface EventLog {
  readonly header: LogHeader;
  append(event: EngineEvent): void;
  commit(): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * Why a durable log cannot take writes now (a full disk, an I/O error), or null. While it is
   * set the kernel refuses commands, and it clears once a flush has written and synced everything.
   * A log that cannot fail (the memory log) leaves it out.
   */
  writeFailure?(): Error | null;
}
