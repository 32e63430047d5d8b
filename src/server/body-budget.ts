/**
 * The request-body bytes one service holds at once, across all its connections and ports' HTTP
 * requests: REST bodies (at most 256 KiB each), `/rpc_http` calls (at most 32 MiB each), the
 * dashboard's login. Each body had its own cap and nothing bounded their sum: N connections each
 * sending a 32 MiB call slowly held N × 32 MiB until the request timeout (16,384 connections
 * allowed), enough to take a machine's memory. Now a body's bytes are counted as they arrive and
 * until its answer has gone; a body whose next bytes would take the total past the budget is
 * refused at once (SERVER_BUSY: 503 with Retry-After; an `/rpc_http` call's rpc_error OVER_QUOTA),
 * its bytes let go and the rest read and thrown away unkept (body.ts discardUnreadBody). Nothing
 * of a refused call was done. docs/serve.md, Faults.
 *
 * {@link createClientServer} (connection-limits.ts) opens an account for each request it hands
 * on; body.ts readBodyUpTo, which every body of the HTTP ports is read with, charges it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

/** The default budget: six of the largest valid App Engine BulkAdd calls (100 tasks of 100 KiB, ~10 MiB) at once, or 256 REST bodies of the largest. */
export const BODY_BYTES_HELD_MAX = 64 * 1024 * 1024;
/** What a refused client is told to wait before it tries again: a slow body holds the budget for at most the request timeout, most far less. */
export const BODY_BUDGET_RETRY_AFTER_S = 1;

/** A request refused because the service holds as many body bytes as its budget allows. */
export class ServerBusyError extends ApiError {
  readonly retryAfterSeconds = BODY_BUDGET_RETRY_AFTER_S;
  constructor(maxBytes: number) {
    super('SERVER_BUSY', `pushq is receiving ${maxBytes} bytes of request bodies at once, its bound; the request was not read or done: retry in ${BODY_BUDGET_RETRY_AFTER_S} s`);
  }
}

/**
 * Sets the Retry-After every SERVER_BUSY answer carries (docs/errors.md), when `error` is one; each
 * path that answers HTTP errors (the REST API, the login, a cluster node's router) calls this.
 */
export function setRetryAfterWhenBusy(res: ServerResponse, error: unknown): void {
  if (error instanceof ServerBusyError) res.setHeader('retry-after', error.retryAfterSeconds);
}

/** The bytes held by a service's requests' bodies, against `maxBytes`. */
export class BodyBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Counts `n` more bytes, or (the total would pass the bound) counts none and says so. */
  take(n: number): boolean {
    if (this.held + n > this.maxBytes) return false;
    this.held += n;
    return true;
  }

  give(n: number): void {
    this.held -= n;
  }
}

/** One request's bytes in its service's budget. */
class BodyAccount {
  private held = 0;

  constructor(private readonly budget: BodyBudget) {}

  /** Counts a chunk of the body; throws ServerBusyError (and lets go all it held) when it does not fit. */
  charge(n: number): void {
    if (this.budget.take(n)) {
      this.held += n;
      return;
    }
    this.release();
    throw new ServerBusyError(this.budget.maxBytes);
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}

const accounts = new WeakMap<IncomingMessage, BodyAccount>();

/**
 * Opens `req`'s account in `budget`, closed (its bytes let go) when its answer has gone or its
 * connection closed. A request that has one already keeps it: a cluster node's router hands a call
 * for a queue it owns to that queue's service in process (its server's 'request'), and the call's
 * bytes belong to the node's budget, which bounds the node. Opened anew in the queue's service's
 * budget, each owned queue added a budget of its own (test/cluster/cluster-body-budget.test.ts).
 */
export function openBodyAccount(budget: BodyBudget, req: IncomingMessage, res: ServerResponse): void {
  if (accounts.has(req)) return;
  const account = new BodyAccount(budget);
  accounts.set(req, account);
  res.once('close', () => account.release());
}

/**
 * Makes `copy` (a call the cluster's router read and hands to a queue's service in process:
 * buffered-request.ts) charge the account `original` has. The service reads the copy's body into
 * bytes of its own while the router still holds the original's: both are in memory until the
 * answer has gone, so both count in the node's budget. With an account of its own the copy's bytes
 * were counted in the service's budget, and the node held up to twice its bound.
 */
export function chargeToAccountOf(original: IncomingMessage, copy: IncomingMessage): void {
  const account = accounts.get(original);
  if (account !== undefined) accounts.set(copy, account);
}

/** Counts `n` bytes of `req`'s body (nothing for a request no client server opened an account for); throws ServerBusyError past the budget. */
export function chargeBody(req: IncomingMessage, n: number): void {
  accounts.get(req)?.charge(n);
}
