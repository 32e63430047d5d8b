/**
 * A transactional Add or BulkAdd (every task's `transaction` set: `taskqueue.Add(tc, ...)` inside
 * `datastore.RunInTransaction`): its tasks, checked by the caller with the Task Queue API's rules,
 * are staged in their transaction (task-transactions.ts) and added when it commits, not now.
 * App Engine's rules, in the order its libraries and development server apply them:
 *
 * - a named task is refused (INVALID_TASK_NAME, add-request.ts: "Task bound to a transaction
 *   cannot be named"), checked per task with the other rules;
 * - a request over 1 MiB is TRANSACTIONAL_REQUEST_TOO_LARGE (the Python library's check);
 * - tasks of one call bound to different transactions, or some to none, and a transaction that
 *   is not open or would hold more than 5 tasks, are the Datastore's BAD_REQUEST shifted by
 *   DATASTORE_ERROR (10001), the whole call refused: the development server's AddActions answers.
 *
 * A staged task has no name yet: its Add answers OK without `chosen_task_name` (the engine names
 * it at the commit, `task<N>` from the id it gets then).
 */
import type { TaskSpec } from '../../core/task-spec.js';
import type { ApiContext } from '../api.js';
import { handleOf } from './datastore-service.js';
import { has, type AddRequestMessage, type TransactionMessage } from './messages.js';
import { TaskQueueError } from './rpc-errors.js';
import { TRANSACTIONAL_REQUEST_BYTES_MAX, TransactionRefusal } from './task-transactions.js';

/** Whether any task of the call is bound to a transaction. */
export function isTransactional(requests: readonly AddRequestMessage[]): boolean {
  return requests.some((m) => has(m, 'transaction'));
}

/** Stages every task of the call in its one transaction, or refuses the call whole (staging none). */
export function stageTransactional(ctx: ApiContext, requests: readonly AddRequestMessage[], specs: readonly TaskSpec[], requestBytes: number): void {
  if (requestBytes > TRANSACTIONAL_REQUEST_BYTES_MAX) {
    throw new TaskQueueError('TRANSACTIONAL_REQUEST_TOO_LARGE', `a transactional add of ${requestBytes} bytes: one transactional request may be at most ${TRANSACTIONAL_REQUEST_BYTES_MAX} bytes; nothing was added`);
  }
  const txn = (m: AddRequestMessage): TransactionMessage | null => (has(m, 'transaction') ? (m.transaction ?? null) : null);
  const first = txn(requests[0] as AddRequestMessage);
  requests.forEach((m, i) => {
    const t = txn(m);
    const same = t !== null && first !== null && handleOf(t) === handleOf(first) && t.app === first.app;
    if (!same) {
      throw new TaskQueueError('DATASTORE_ERROR', `cannot add requests to different transactions: task ${i} is bound to ${t === null ? 'none' : `transaction ${handleOf(t)}`} and task 0 to ${first === null ? 'none' : `transaction ${handleOf(first)}`}; nothing was added`, 'BAD_REQUEST');
    }
  });
  const bound = first as TransactionMessage; // every task names it (checked above)
  try {
    ctx.transactions.stage(handleOf(bound), bound.app, specs, ctx.driver.clock());
  } catch (err) {
    if (err instanceof TransactionRefusal && err.code !== 'TOO_MANY_OPEN') throw new TaskQueueError('DATASTORE_ERROR', err.message, err.code);
    throw err;
  }
}
