/**
 * The transaction coordinator behind App Engine's transactional tasks: what pushq keeps between
 * `datastore_v3.BeginTransaction` and `Commit` / `Rollback` (datastore-service.ts) for the tasks
 * an app adds with that transaction (`taskqueue.Add` inside `datastore.RunInTransaction`). It
 * holds tasks only: pushq serves no Datastore, so a transaction here writes no entity.
 *
 * Invariants:
 * - Memory only, never logged: a task staged here is not in the engine, so no read, dispatch or
 *   replay sees it. Its commit is one `addTasks` of all its tasks (one step, one durable batch:
 *   all or none); a rollback, an expiry or a restart drops them, as a crashed app's transaction.
 * - Bounded: at most TASKS_PER_TRANSACTION_MAX tasks per transaction (App Engine's 5), at most
 *   TRANSACTIONS_OPEN_MAX open at once, each for at most TRANSACTION_LIFETIME_US of the service's
 *   clock (Datastore's 60 s); expired ones are dropped at the next begin (begin order is time order).
 * - A transaction ends once: after its commit, rollback or expiry its handle is unknown.
 * - A task staged without a name is named at once (the Add answers the name, as App Engine's
 *   development server does: `chosen_task_name`), `txn<handle>-<k>`, a name no generated one takes
 *   (those are `task<id>`, `task<id>-<k>`) and no task holds now; the name is reserved while the
 *   transaction is open (an add of it by name is TASK_ALREADY_EXISTS: reservedBy), and the task is
 *   added under it at the commit; a rollback or an expiry frees it.
 * - Handles start at a random base per coordinator, so a handle from before a restart does not
 *   name a transaction begun after it (the app would commit another transaction's tasks).
 * - Time comes from the caller (the service's clock); nothing here reads a clock.
 */
import { randomInt } from 'node:crypto';
import { PushqError } from '../../core/errors.js';
import { US_PER_SECOND, type Micros } from '../../core/time.js';
import { specQueue, type TaskSpec } from '../../core/task-spec.js';
import type { DatastoreErrorName } from './messages.js';

/** App Engine's limit on tasks added in one transaction (reference §3.3, §6: "max tasks per transaction 5"). */
export const TASKS_PER_TRANSACTION_MAX = 5;
/** Datastore's transaction lifetime (App Engine: a transaction may last 60 s). */
export const TRANSACTION_LIFETIME_US = 60 * US_PER_SECOND;
/** Open transactions at once: each holds up to 5 tasks of up to 100 KiB in memory. */
export const TRANSACTIONS_OPEN_MAX = 1000;
/** App Engine's limit on one transactional add request (Python `MAX_TRANSACTIONAL_REQUEST_SIZE_BYTES`). */
export const TRANSACTIONAL_REQUEST_BYTES_MAX = 2 ** 20;

/** Why a transaction call was refused: a datastore_v3 error code (BAD_REQUEST for all but the cap). */
export class TransactionRefusal extends Error {
  override name = 'TransactionRefusal';
  constructor(
    readonly code: DatastoreErrorName | 'TOO_MANY_OPEN',
    detail: string,
  ) {
    super(detail);
  }
}

/** An add by name of a name an open transaction reserved for one of its tasks: the name is taken, as by a live task. */
export class TaskNameReservedError extends PushqError {
  override name = 'TaskNameReservedError';
  constructor(task: string, queue: string, handle: number, index?: number) {
    super('TASK_ALREADY_EXISTS', `task "${task}" already exists in queue "${queue}": the name was chosen for a task of open transaction ${handle}, added when it commits`, { field: 'name', task, queue, ...(index === undefined ? {} : { index }) });
  }
}

/** Whether a task of the engine holds `name` in `queue` (live or tombstoned): such a name is not chosen. */
export type NameHeld = (queue: string, name: string) => boolean;

interface OpenTransaction {
  app: string;
  begunAtUs: Micros;
  /** Every one named (a name chosen at staging for those added without one). */
  tasks: TaskSpec[];
}

const reservationKey = (queue: string, name: string): string => `${queue}/${name}`;

export class TaskTransactions {
  private readonly open = new Map<number, OpenTransaction>();
  /** `queue/name` → the open transaction that chose it. */
  private readonly reserved = new Map<string, number>();
  private next: number;

  /** `firstHandle`: for tests; otherwise a random base below 2^52 (handles stay exact as numbers). */
  constructor(firstHandle: number = randomInt(1, 2 ** 47) * 32) {
    this.next = firstHandle;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** A new transaction of `app`: its handle. */
  begin(app: string, nowUs: Micros): number {
    this.dropExpired(nowUs);
    if (this.open.size >= TRANSACTIONS_OPEN_MAX) {
      throw new TransactionRefusal('TOO_MANY_OPEN', `${this.open.size} transactions are open, the most pushq keeps at once (${TRANSACTIONS_OPEN_MAX}); commit or roll back one, or wait for one to expire (${TRANSACTION_LIFETIME_US / US_PER_SECOND} s after it began)`);
    }
    const handle = this.next++;
    this.open.set(handle, { app, begunAtUs: nowUs, tasks: [] });
    return handle;
  }

  /**
   * Stages tasks (already checked with the Task Queue API's rules) in the transaction: added at its
   * commit. Refused whole, staging none, when the transaction is not open or would pass the limit.
   * Returns the name each got (the transaction's tasks are never named by the app: S23).
   */
  stage(handle: number, app: string, tasks: readonly TaskSpec[], nowUs: Micros, held: NameHeld): string[] {
    const t = this.live(handle, app, nowUs, 'add tasks to');
    if (t.tasks.length + tasks.length > TASKS_PER_TRANSACTION_MAX) {
      const already = t.tasks.length === 0 ? '' : ` (it holds ${t.tasks.length} already)`;
      throw new TransactionRefusal('BAD_REQUEST', `too many transactional tasks: ${tasks.length} more would make ${t.tasks.length + tasks.length} in transaction ${handle}${already}, and one transaction adds at most ${TASKS_PER_TRANSACTION_MAX}; none of these was added`);
    }
    return tasks.map((spec) => {
      const queue = specQueue(spec);
      let name = spec.name;
      // The k-th task of the transaction; past a name some task holds (one given by hand), the next k.
      for (let k = t.tasks.length; name === undefined; k++) {
        const candidate = `txn${handle}-${k}`;
        if (!held(queue, candidate) && !this.reserved.has(reservationKey(queue, candidate))) name = candidate;
      }
      this.reserved.set(reservationKey(queue, name), handle);
      t.tasks.push({ ...spec, name });
      return name;
    });
  }

  /** The open transaction that reserved `name` in `queue`, or null (an expired one's names are free). */
  reservedBy(queue: string, name: string, nowUs: Micros): number | null {
    this.dropExpired(nowUs);
    return this.reserved.get(reservationKey(queue, name)) ?? null;
  }

  /** Ends the transaction for its commit: its tasks, to add as one step (their names are then theirs, not reserved). */
  commit(handle: number, app: string, nowUs: Micros): TaskSpec[] {
    const t = this.live(handle, app, nowUs, 'commit');
    this.end(handle, t);
    return t.tasks;
  }

  /** Ends the transaction, dropping its tasks. */
  rollback(handle: number, app: string, nowUs: Micros): void {
    this.end(handle, this.live(handle, app, nowUs, 'roll back'));
  }

  /** Drops every open transaction (a reset drops every task). */
  clear(): void {
    this.open.clear();
    this.reserved.clear();
  }

  private end(handle: number, t: OpenTransaction): void {
    this.open.delete(handle);
    for (const spec of t.tasks) this.reserved.delete(reservationKey(specQueue(spec), spec.name as string));
  }

  /** The open transaction, or a refusal naming why there is none (an expired one is dropped here). */
  private live(handle: number, app: string, nowUs: Micros, doing: string): OpenTransaction {
    const t = this.open.get(handle);
    if (t === undefined || t.app !== app) {
      throw new TransactionRefusal('BAD_REQUEST', `cannot ${doing} transaction ${handle} of app ${JSON.stringify(app)}: pushq has no such open transaction (it was never begun here, already committed or rolled back, expired ${TRANSACTION_LIFETIME_US / US_PER_SECOND} s after it began, or begun before pushq restarted); its tasks were not added`);
    }
    if (nowUs - t.begunAtUs > TRANSACTION_LIFETIME_US) {
      this.end(handle, t);
      throw new TransactionRefusal('BAD_REQUEST', `cannot ${doing} transaction ${handle}: it expired, ${TRANSACTION_LIFETIME_US / US_PER_SECOND} s after it began (Datastore's transaction lifetime); its tasks were not added`);
    }
    return t;
  }

  private dropExpired(nowUs: Micros): void {
    for (const [handle, t] of this.open) {
      if (nowUs - t.begunAtUs <= TRANSACTION_LIFETIME_US) break; // the rest began later
      this.end(handle, t);
    }
  }
}
