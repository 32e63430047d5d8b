/**
 * Typed errors for callers (STYLE.md §4): each has a stable `code`, listed in docs/errors.md.
 * A command that throws one of these changed nothing: no event was logged, no state moved.
 *
 * `field` names the offending input (an API layer turns it into the JSON error body), and
 * `index` says which task of a batch was at fault.
 */
export type PushqErrorCode =
  | 'UNKNOWN_QUEUE'
  | 'INVALID_QUEUE_MODE'
  | 'TASK_ALREADY_EXISTS'
  | 'TOMBSTONED_TASK'
  | 'INVALID_TASK_NAME'
  | 'INVALID_TASK'
  | 'INVALID_ETA'
  | 'INVALID_URL'
  | 'INVALID_HEADER'
  | 'TASK_TOO_LARGE'
  | 'TOO_MANY_TASKS'
  | 'DUPLICATE_TASK_NAME'
  | 'STORAGE_LIMIT_EXCEEDED'
  | 'UNKNOWN_TASK'
  | 'TASK_RELEASED'
  | 'TASK_NOT_RUNNABLE'
  | 'QUEUE_NOT_RESUMABLE'
  | 'INVALID_RETRY_OPTIONS'
  | 'INVALID_DISPATCH_DEADLINE';

export class PushqError extends Error {
  override name = 'PushqError';
  constructor(
    readonly code: PushqErrorCode,
    message: string,
    readonly details: { field?: string; index?: number; queue?: string; task?: string } = {},
  ) {
    super(message);
  }
}

export class UnknownQueueError extends PushqError {
  override name = 'UnknownQueueError';
  constructor(queue: string) {
    super('UNKNOWN_QUEUE', `queue "${queue}" is not defined in the queue configuration`, { field: 'queue', queue });
  }
}

export class InvalidQueueModeError extends PushqError {
  override name = 'InvalidQueueModeError';
  constructor(queue: string) {
    super('INVALID_QUEUE_MODE', `queue "${queue}" is a pull queue; push tasks cannot be added to it`, { field: 'queue', queue });
  }
}

export class TaskAlreadyExistsError extends PushqError {
  override name = 'TaskAlreadyExistsError';
  constructor(task: string, queue: string, index?: number) {
    super('TASK_ALREADY_EXISTS', `task "${task}" already exists in queue "${queue}" and has not finished`, { field: 'name', task, queue, ...(index === undefined ? {} : { index }) });
  }
}

export class TombstonedTaskError extends PushqError {
  override name = 'TombstonedTaskError';
  constructor(
    task: string,
    queue: string,
    /** When the name is free again; a shell renders it in its own clock's terms (tombstonedMessage). */
    readonly reusableAtUs: number,
    index?: number,
  ) {
    // Seconds on the engine's clock (a simulation's virtual time); a wall-clock shell says a date instead.
    super('TOMBSTONED_TASK', tombstonedMessage(task, Number.isFinite(reusableAtUs) ? `${reusableAtUs / 1e6} s` : null), { field: 'name', task, queue, ...(index === undefined ? {} : { index }) });
  }
}

/**
 * TombstonedTaskError's message, with the time given as text (µs here; RFC 3339 in the HTTP API);
 * null: the name is never free again (dev-server mode, whose reusableAtUs is Infinity).
 */
export function tombstonedMessage(task: string, reservedUntil: string | null): string {
  if (reservedUntil === null) return `task name "${task}" was used by a task that ended; dev-server mode reserves every name for as long as the engine runs, as dev_appserver does`;
  return `task name "${task}" was used by a task that ended recently; it is reserved until ${reservedUntil}`;
}

export class UnknownTaskError extends PushqError {
  override name = 'UnknownTaskError';
  constructor(task: string, queue: string) {
    super('UNKNOWN_TASK', `no task named "${task}" in queue "${queue}"`, { field: 'name', task, queue });
  }
}

/**
 * Reading an ended task whose row a simulation released (it keeps no in-memory log, so it keeps
 * only the tasks alive; task-table.ts): its story is in the log, if the run wrote one.
 */
export class TaskReleasedError extends PushqError {
  override name = 'TaskReleasedError';
  /** `queueKnown`: false for a generated name (`task<id>`), whose queue went with the row. */
  constructor(task: string, queue: string, queueKnown = true) {
    const which = queueKnown ? `task "${task}" in queue "${queue}"` : `task "${task}" (in whichever queue it was: that went with its row)`;
    super('TASK_RELEASED', `${which} has ended and this simulation released its row (it keeps no in-memory log): read its story in the run's log, or create the simulation with keepEndedTasks: true`, { field: 'name', task, queue });
  }
}

/**
 * What in the configuration keeps a queue from running whatever a command says: rate 0, which
 * gives it no rate to dispatch at. (A queue removed from the file, DISABLED, is not held: it keeps
 * its last configuration, and ResumeQueue resumes a PAUSED or DISABLED queue, cloudtasks.proto.)
 */
export type ConfigHold = 'rate-zero';

/**
 * Resuming a queue whose configuration gives it rate 0: it has no rate to run at. Only a new
 * configuration changes that (deploy semantics, reference §1.4).
 */
export class QueueNotResumableError extends PushqError {
  override name = 'QueueNotResumableError';
  constructor(queue: string) {
    super('QUEUE_NOT_RESUMABLE', `queue "${queue}" has rate 0 in the queue configuration, which keeps it paused; give it a rate above 0 and reload to resume it`, { field: 'queue', queue });
  }
}

export class TaskValidationError extends PushqError {
  override name = 'TaskValidationError';
}
