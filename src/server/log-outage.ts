/**
 * What `pushq serve` does while its event log cannot be written (the disk is full: ENOSPC; it
 * fails: EIO). docs/serve.md, Faults.
 *
 * - Commands are refused by the kernel itself (LOG_WRITE_FAILED → the API's LOG_UNAVAILABLE), so
 *   nothing new is taken that could not be made durable.
 * - No new attempt starts: this transport says "no room" for every queue while the log has a
 *   failure, and offers the room back once a flush has written and synced everything. Attempts
 *   already in flight still settle, so what waits in memory for the disk is bounded by the tasks
 *   there are (a settle or a backoff's end each), not by how long the outage lasts.
 * - The background flush retries every 200 ms; the first failure and the recovery are each
 *   reported once on stderr, not every retry.
 */
import type { AttemptRequest, ObservedOutcome } from '../core/attempt.js';
import type { HttpDispatcher } from '../dispatch/http-dispatcher.js';
import type { RealTransport } from '../engine/wall-driver.js';
import type { EventLog } from '../log/event-log.js';

export class LogOutageGuard implements RealTransport {
  private listener: ((queueIndex: number) => void) | null = null;
  /** Queues refused room because of the log, in the order they asked; offered room at recovery. */
  private blocked: number[] = [];
  private readonly isBlocked: boolean[] = [];
  private reported: string | null = null;

  constructor(
    private readonly dispatcher: HttpDispatcher,
    private readonly log: EventLog,
    private readonly report: (line: string) => void,
  ) {}

  send(request: AttemptRequest): Promise<ObservedOutcome> {
    return this.dispatcher.send(request);
  }

  abort(id: number): void {
    this.dispatcher.abort(id);
  }

  hasRoom(target: string, queueIndex: number, pinned: boolean): boolean {
    if (this.log.writeFailure?.() == null) return this.dispatcher.hasRoom(target, queueIndex, pinned);
    if (this.isBlocked[queueIndex] !== true) {
      this.isBlocked[queueIndex] = true;
      this.blocked.push(queueIndex);
    }
    return false;
  }

  setRoomListener(listener: (queueIndex: number) => void): void {
    this.listener = listener;
    this.dispatcher.setRoomListener(listener);
  }

  /** After each background flush: reports a new failure, or the recovery, and then gives the held queues their room. */
  check(): void {
    const failure = this.log.writeFailure?.() ?? null;
    if (failure !== null) {
      if (this.reported !== failure.message) this.report(`pushq serve: ${failure.message}; changes are refused (LOG_UNAVAILABLE) and no new attempt starts until it can be written, retrying every 200 ms`);
      this.reported = failure.message;
      return;
    }
    if (this.reported !== null) this.report('pushq serve: the event log is written again: changes are taken and attempts start again');
    this.reported = null;
    const queues = this.blocked;
    this.blocked = [];
    for (const q of queues) {
      this.isBlocked[q] = false;
      this.listener?.(q);
    }
  }
}
