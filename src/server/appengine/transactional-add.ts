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
 * A staged task is named now, as the development server names it at the Add (`chosen_task_name`,
 * which Go's `taskqueue.Add` returns as the task's Name): a name no task of the engine holds, kept
 * for it until the commit adds it under that name, or a rollback or expiry frees it
 * (task-transactions.ts).
 */
import { findTaskId } from '../../core/decide.js';
import type { TaskSpec } from '../../core/task-spec.js';
import type { ApiContext } from '../api.js';
import { engineState } from '../operations.js';
import { handleOf } from './datastore-service.js';
import { has, type AddRequestMessage, type TransactionMessage } from './messages.js';
import { TaskQueueError } from './rpc-errors.js';
import { TRANSACTIONAL_REQUEST_BYTES_MAX, TransactionRefusal } from './task-transactions.js';

/** Whether any task of the call is bound to a transaction. */
export function isTransactional(requests: readonly AddRequestMessage[]): boolean {
  return requests.some((m) => has(m, 'transaction'));
}

/** Stages every task of the call in its one transaction, or refuses the call whole (staging none): the names chosen for them, in order. */
export function stageTransactional(ctx: ApiContext, requests: readonly AddRequestMessage[], specs: readonly TaskSpec[], requestBytes: number): string[] {
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
    const held = (queue: string, name: string): boolean => {
      const q = engineState(ctx).queueByName.get(queue);
      return q !== undefined && findTaskId(engineState(ctx), q, name) >= 0;
    };
    return ctx.transactions.stage(handleOf(bound), bound.app, specs, ctx.driver.clock(), held);
  } catch (err) {
    if (err instanceof TransactionRefusal && err.code !== 'TOO_MANY_OPEN') throw new TaskQueueError('DATASTORE_ERROR', err.message, err.code);
    throw err;
  }
}
