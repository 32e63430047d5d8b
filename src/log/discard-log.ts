/**
 * A log that keeps nothing: for a run whose events nobody will read (`pushq simulate` without
 * --log). The projections still see every event as it is applied; only the record is skipped,
 * so a million-task run does not hold millions of events in memory.
 */
import type { EngineEvent } from '../core/events.js';
import type { EventLog, LogHeader } from './event-log.js';

export class DiscardEventLog implements EventLog {
  constructor(readonly header: LogHeader) {}

  append(_event: EngineEvent): void {}

  commit(): void {}

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
