/**
 * The engine's tasks, as a struct of typed arrays: one row per task. A million tasks is ~60 MB
 * here; as one object each it would be several times that and slow to collect. Cold, per-task data
 * that most simulated tasks do not have (explicit name, URL, headers, body, retry options) sits in
 * `meta`, sparse.
 *
 * Ids are dense, assigned in order from 0. A task's row is `row(id) = id − base`: the table holds
 * the tasks from id `base` on. Two kinds of table:
 * - **keeps ended tasks** (the default; the server, replay, a simulation with an in-memory log):
 *   `base` stays 0, so a row is its id, and code that only ever reads such a table (the server's
 *   reads of ended tasks, replay's listings) may index by id. Projections, which a simulation may
 *   be given as observers, read through `row`/`heldRow`;
 * - **releases ended tasks** (`releaseEnded`: a simulation that keeps no in-memory log, such as
 *   `pushq simulate` and experiments): from time to time the ended tasks at the low end (ended, no
 *   attempt in flight) are released and the rest moves down (`compact`), so memory follows the span
 *   of ids from the oldest task still alive to the newest, not every task ever added. A released
 *   task keeps only its tombstone, and only if it had an explicit name (its end time, in
 *   `releasedNamed`); its story lives in the log.
 *
 * An id read from something that can outlive its task (a ready-heap entry, a backoff timer, a
 * name) goes through `heldRow`, which answers -1 for a released task; an id of a task known to be
 * held (it has an event now, or an attempt in flight) goes through `row`.
 *
 * Only `evolve` writes to a TaskTable's rows (`plannedRows` is a sizing hint, not state).
 */
import type { TaskOptions } from './events.js';
import type { RetryPolicy } from './retry-policy.js';
import { isFinal, type TaskState } from './task-machine.js';
import type { Micros } from './time.js';
import { widenField } from './field-shapes.js';

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

/** Options of a new table; the default keeps every task's row. */
export interface TaskTableOptions {
  /**
   * Rows to allocate up front; grown by doubling (or to `plannedRows`). A releasing table is best
   * started small: freshly allocated columns are not reliably left untouched by the allocator
   * (measured: a 1M-row releasing table cost as much memory as a keeping one).
   */
  capacity?: number;
  /** Release ended tasks' rows (see the module's comment). */
  releaseEnded?: boolean;
}

/**
 * A releasing table looks for rows to release once its rows in use reach this many, and then each
 * time they double. Small on purpose: a look costs little (each task is looked at once, each move
 * copies fewer rows than it frees), and rows are reused sooner, so fewer pages are ever touched.
 */
const COMPACT_FROM_ROWS = 16;

type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

export class TaskTable {
  /** Tasks added so far: the next task's id. */
  count = 0;
  /** The id of the task in row 0: tasks below it were released, and scans of the held tasks run from here to `count`. Always 0 in a table that keeps ended tasks. */
  base = 0;
  readonly releaseEnded: boolean;
  /** Tasks whose rows were released and that had an explicit name: id → when they ended (their tombstone). */
  readonly releasedNamed: Map<number, Micros>;
  /** Ids from `base` up to this are known to be releasable (never below `base`). */
  private releasableBelow = 0;
  /** Rows in use at which the next `compact` runs (Infinity in a table that keeps ended tasks). */
  private compactAtRows: number;
  /**
   * Rows that growing makes room for at least, while a burst of tasks is being added: a hint, not
   * state (a simulation sets it to the rows in use plus the burst's tasks, and back to 0 after).
   * A burst of millions then grows the table once, instead of by doublings whose copies briefly
   * hold both the old and the new columns.
   */
  plannedRows = 0;
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
  /** Per row, undefined where a task has none; at least as long as the rows in use, filled ahead (never holes). */
  meta: (TaskMeta | undefined)[];

  constructor(options: TaskTableOptions | number = {}) {
    const { capacity = 1024, releaseEnded = false } = typeof options === 'number' ? { capacity: options } : options;
    this.releaseEnded = releaseEnded;
    // Compaction moves `base` only once a run has grown: compiled as a field that changes (field-shapes.ts).
    widenField(this, 'base', 1);
    this.releasedNamed = new Map();
    this.compactAtRows = releaseEnded ? COMPACT_FROM_ROWS : Infinity;
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
    // million-task run, and a hole or a read past the end would be V8's slow path. A releasing
    // table fills it as its rows in use grow (most of its capacity is never used).
    this.meta = new Array<TaskMeta | undefined>(releaseEnded ? Math.min(capacity, COMPACT_FROM_ROWS) : capacity).fill(undefined);
  }

  get capacity(): number {
    return this.state.length;
  }

  /** The row of task `id`, which must be held (it has an event now, or an attempt in flight). */
  row(id: number): number {
    return id - this.base;
  }

  /** The row of task `id`, or -1 when there is no such task or its row was released. */
  heldRow(id: number): number {
    return id >= this.base && id < this.count ? id - this.base : -1;
  }

  /** Whether task `id` (< count) has ended: a released task has. */
  hasEnded(id: number): boolean {
    const r = this.heldRow(id);
    return r < 0 || isFinal(this.state[r] as TaskState);
  }

  /** When task `id` ended (NaN if it has not): from its row, or once released from its tombstone (NaN for an unnamed task). */
  endedAtOf(id: number): Micros {
    const r = this.heldRow(id);
    if (r >= 0) return this.endedAt[r] as number;
    return this.releasedNamed.get(id) ?? NaN;
  }

  /** Appends a task in state `pending`; returns its id. */
  push(state: TaskState, queue: number, eta: Micros, addedAt: Micros, size: number, meta: TaskMeta | undefined): number {
    const id = this.count;
    if (id - this.base >= this.compactAtRows) this.compact();
    const r = id - this.base;
    if (r === this.capacity) this.grow(Math.max(this.capacity * 2, this.plannedRows));
    if (r === this.meta.length) this.extendMeta();
    this.count++;
    this.state[r] = state;
    this.queue[r] = queue;
    this.eta[r] = eta;
    this.addedAt[r] = addedAt;
    this.firstAttemptAt[r] = NaN;
    this.endedAt[r] = NaN;
    this.size[r] = size;
    this.meta[r] = meta;
    if (this.base !== 0) {
      // A row used before: the columns a new task starts at zero.
      this.dispatchCount[r] = 0;
      this.executionCount[r] = 0;
      this.lastStatus[r] = 0;
      this.endReason[r] = 0;
      this.attemptOpen[r] = 0;
      this.retryReason[r] = 0;
    }
    return id;
  }

  /**
   * Releases the ended tasks at the low end (ended, and no attempt in flight: an orphaned attempt
   * still reads its row), leaving a tombstone for each named one, and moves the rest down once at
   * least half the rows in use are releasable. Each task is looked at once and each move copies
   * fewer rows than it frees, so the cost per task stays constant.
   */
  private compact(): void {
    let id = this.releasableBelow;
    const base = this.base;
    while (id < this.count) {
      const r = id - base;
      if (!isFinal(this.state[r] as TaskState) || this.attemptOpen[r] !== 0) break;
      if (this.meta[r]?.name !== undefined) this.releasedNamed.set(id, this.endedAt[r] as number);
      id++;
    }
    this.releasableBelow = id;
    const inUse = this.count - base;
    const freed = id - base;
    if (freed * 2 >= inUse) {
      const kept = inUse - freed;
      for (const column of this.columns()) column.copyWithin(0, freed, inUse);
      const meta = this.meta;
      for (let r = 0; r < kept; r++) meta[r] = meta[r + freed];
      for (let r = kept; r < inUse; r++) meta[r] = undefined;
      this.base = id;
    }
    this.compactAtRows = Math.max(COMPACT_FROM_ROWS, 2 * (this.count - this.base));
  }

  private columns(): Column[] {
    return [this.state, this.queue, this.eta, this.addedAt, this.firstAttemptAt, this.endedAt, this.dispatchCount, this.executionCount, this.lastStatus, this.endReason, this.size, this.attemptOpen, this.retryReason];
  }

  private extendMeta(): void {
    const meta = this.meta;
    const from = meta.length;
    // One new backing store of the new length (pushes would grow it by halves, copying each time).
    meta.length = Math.min(this.capacity, Math.max(16, from * 2, this.plannedRows));
    meta.fill(undefined, from);
  }

  private grow(n: number): void {
    const inUse = this.count - this.base;
    const grow = <T extends Column>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a.subarray(0, inUse));
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
    // `meta` grows on its own, when a push reaches its end (extendMeta).
  }
}
