/**
 * Every task the engine has seen, as a struct of typed arrays indexed by task id (ids are dense,
 * assigned in order from 0). A million tasks is ~60 MB here; as one object each it would be
 * several times that and slow to collect. Cold, per-task data that most simulated tasks do not
 * have (explicit name, URL, headers, body, retry options) sits in `meta`, sparse.
 *
 * Only `evolve` writes to a TaskTable.
 */
import type { TaskOptions } from './events.js';
import type { RetryPolicy } from './retry-policy.js';
import type { TaskState } from './task-machine.js';
import type { Micros } from './time.js';

export type HttpMethod = 'GET' | 'POST' | 'HEAD' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

export const enum EndReason {
  None = 0,
  Succeeded = 1,
  GaveUp = 2,
  Deleted = 3,
  Purged = 4,
}

/**
 * What a task carries beyond the defaults (absent fields take the queue's): its TaskAdded's
 * options (event-schema.ts), with the retry parameters already made a policy. Often the event's
 * own object, so it is never changed.
 */
export type TaskMeta = Readonly<Omit<TaskOptions, 'retry'> & { retry?: RetryPolicy }>;

export class TaskTable {
  count = 0;
  state: Uint8Array;
  queue: Uint16Array;
  /** When the task is next due: its ETA, or its retry time while in backoff. */
  eta: Float64Array;
  addedAt: Float64Array;
  /** NaN until the first attempt. */
  firstAttemptAt: Float64Array;
  endedAt: Float64Array;
  /** Attempts dispatched so far (Cloud Tasks dispatchCount); the next attempt's X-AppEngine-TaskRetryCount. */
  dispatchCount: Uint32Array;
  /** Attempts that got a response from the handler (X-AppEngine-TaskExecutionCount). */
  executionCount: Uint32Array;
  /** Status of the previous response, 0 if none (X-AppEngine-TaskPreviousResponse). */
  lastStatus: Uint16Array;
  endReason: Uint8Array;
  /** Bytes counted against total_storage_limit while the task lives. */
  size: Uint32Array;
  /** 1 while an attempt is in flight (also for a task deleted during its attempt). */
  attemptOpen: Uint8Array;
  /** Why the last failed attempt failed (a RetryReasonCode), 0 if none: the next attempt's X-AppEngine-TaskRetryReason. */
  retryReason: Uint8Array;
  /** One entry per row up to the capacity (as long as the columns), undefined where a task has none. */
  meta: (TaskMeta | undefined)[];

  constructor(capacity = 1024) {
    this.state = new Uint8Array(capacity);
    this.queue = new Uint16Array(capacity);
    this.eta = new Float64Array(capacity);
    this.addedAt = new Float64Array(capacity);
    this.firstAttemptAt = new Float64Array(capacity);
    this.endedAt = new Float64Array(capacity);
    this.dispatchCount = new Uint32Array(capacity);
    this.executionCount = new Uint32Array(capacity);
    this.lastStatus = new Uint16Array(capacity);
    this.endReason = new Uint8Array(capacity);
    this.size = new Uint32Array(capacity);
    this.attemptOpen = new Uint8Array(capacity);
    this.retryReason = new Uint8Array(capacity);
    // Filled ahead, not pushed per task: a million pushes onto a growing array cost ~80 ms of a
    // million-task run, and a hole or a read past the end would be V8's slow path.
    this.meta = new Array<TaskMeta | undefined>(capacity).fill(undefined);
  }

  get capacity(): number {
    return this.state.length;
  }

  /** Appends a task in state `pending`; returns its id. */
  push(state: TaskState, queue: number, eta: Micros, addedAt: Micros, size: number, meta: TaskMeta | undefined): number {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    this.state[id] = state;
    this.queue[id] = queue;
    this.eta[id] = eta;
    this.addedAt[id] = addedAt;
    this.firstAttemptAt[id] = NaN;
    this.endedAt[id] = NaN;
    this.size[id] = size;
    this.meta[id] = meta;
    return id;
  }

  private grow(): void {
    const n = this.capacity * 2;
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.state = grow(this.state);
    this.queue = grow(this.queue);
    this.eta = grow(this.eta);
    this.addedAt = grow(this.addedAt);
    this.firstAttemptAt = grow(this.firstAttemptAt);
    this.endedAt = grow(this.endedAt);
    this.dispatchCount = grow(this.dispatchCount);
    this.executionCount = grow(this.executionCount);
    this.lastStatus = grow(this.lastStatus);
    this.endReason = grow(this.endReason);
    this.size = grow(this.size);
    this.attemptOpen = grow(this.attemptOpen);
    this.retryReason = grow(this.retryReason);
    const meta = this.meta;
    for (let i = meta.length; i < n; i++) meta.push(undefined);
  }
}
