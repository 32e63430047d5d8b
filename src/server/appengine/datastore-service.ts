/**
 * The three `datastore_v3` calls a transactional task needs, and no other: pushq serves no
 * Datastore. What Google's Go library sends for
 * `datastore.RunInTransaction(ctx, func(tc) error { _, err := taskqueue.Add(tc, t, q); return err }, nil)`
 * (google.golang.org/appengine/internal/transaction.go):
 *
 *   BeginTransaction(BeginTransactionRequest{app, mode, allow_multiple_eg?}) → Transaction{handle, app}
 *   taskqueue.Add / BulkAdd with `transaction` set on every task     → staged (taskqueue-service.ts)
 *   Commit(Transaction) → CommitResponse          when f returned nil: the staged tasks are added
 *   Rollback(Transaction) → VoidProto             when f returned an error (or panicked)
 *
 * Invariants:
 * - A commit adds every staged task in one engine step (one durable batch) or none; the transaction
 *   ends either way. It answers only once that batch is durable, as every add does.
 * - Begin and Rollback change nothing in the engine and log nothing.
 * - A refusal is an `application_error` with the Datastore's code (BAD_REQUEST for an unknown,
 *   ended or expired transaction), what the development server answers; too many open
 *   transactions is `rpc_error` OVER_QUOTA.
 */
import type protobuf from 'protobufjs';
import { PushqError } from '../../core/errors.js';
import { LogError } from '../../log/log-errors.js';
import type { ApiContext } from '../api.js';
import { durable } from '../operations.js';
import { decodeRequest, encodeMessage } from './call-codec.js';
import { MESSAGES, int64, type TransactionMessage } from './messages.js';
import { DatastoreError, RpcCallError, TaskQueueError, fromEngineError } from './rpc-errors.js';
import { TransactionRefusal } from './task-transactions.js';

export type DatastoreMethod = (ctx: ApiContext, request: Uint8Array) => Promise<Uint8Array>;

function decode<T>(type: protobuf.Type, bytes: Uint8Array, method: string): T {
  return decodeRequest<T>(type, bytes, `datastore_v3.${method}`);
}

const encode = encodeMessage;

/** A coordinator refusal as this service answers it. */
export function datastoreRefusal(err: TransactionRefusal): DatastoreError | RpcCallError {
  return err.code === 'TOO_MANY_OPEN' ? new RpcCallError('OVER_QUOTA', err.message) : new DatastoreError(err.code, err.message);
}

async function refusalsAnswered<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof TransactionRefusal ? datastoreRefusal(err) : err;
  }
}

/** A handle as pushq gives them (a safe integer); any other names no transaction of pushq's. */
export function handleOf(t: TransactionMessage): number {
  const n = int64(t.handle);
  return Number.isSafeInteger(n) ? n : -1;
}

const beginTransaction: DatastoreMethod = (ctx, bytes) => {
  const m = decode<{ app: string }>(MESSAGES.BeginTransactionRequest, bytes, 'BeginTransaction');
  return refusalsAnswered(() => {
    const handle = ctx.transactions.begin(m.app, ctx.driver.clock());
    return encode(MESSAGES.Transaction, { handle, app: m.app });
  });
};

const commit: DatastoreMethod = (ctx, bytes) => {
  const t = decode<TransactionMessage>(MESSAGES.Transaction, bytes, 'Commit');
  const handle = handleOf(t);
  return refusalsAnswered(async () => {
    const tasks = ctx.transactions.commit(handle, t.app, ctx.driver.clock());
    if (tasks.length > 0) {
      try {
        await durable(ctx, () => ctx.driver.kernel.addTasks(tasks, 'taskqueue'));
      } catch (err) {
        if (err instanceof LogError && err.code === 'LOG_WRITE_FAILED') {
          // Not TRANSIENT_ERROR's number: in the Datastore's codes 2 is CONCURRENT_TRANSACTION.
          throw new DatastoreError('INTERNAL_ERROR', `transaction ${handle}: ${err.message}; the commit is not acknowledged and the transaction has ended`);
        }
        if (!(err instanceof PushqError)) throw err;
        // The queue went (a reload), or a storage limit was reached, since the tasks were staged.
        const e = fromEngineError(err);
        if (e instanceof TaskQueueError) throw new DatastoreError('BAD_REQUEST', `transaction ${handle} was not committed and none of its ${tasks.length} tasks was added: ${e.message}`);
        throw e;
      }
    }
    return encode(MESSAGES.CommitResponse, {});
  });
};

const rollback: DatastoreMethod = (ctx, bytes) => {
  const t = decode<TransactionMessage>(MESSAGES.Transaction, bytes, 'Rollback');
  return refusalsAnswered(() => {
    ctx.transactions.rollback(handleOf(t), t.app, ctx.driver.clock());
    return encode(MESSAGES.Void, {});
  });
};

/** The datastore_v3 methods pushq answers; every other datastore_v3 call is CALL_NOT_FOUND (rpc-http.ts). */
export const DATASTORE_METHODS: Readonly<Record<string, DatastoreMethod>> = {
  BeginTransaction: beginTransaction,
  Commit: commit,
  Rollback: rollback,
};
