/**
 * Errors of cluster mode (`pushq serve --store postgres://... --cluster`), with stable codes
 * listed in docs/errors.md ("Cluster"). The API router answers them in Google's JSON error shape,
 * as the rest of the API does; /rpc_http as an application_error TRANSIENT_ERROR (rpc-front.ts).
 */
import { HTTP_STATUS, restErrorDetails, type GoogleStatus } from '../server/errors.js';

export type ClusterErrorCode =
  /** No live node holds the queue's lease right now (a node died and its lease has not run out, or the queue is moving): retry. */
  | 'QUEUE_OWNER_UNKNOWN'
  /** The node that holds the queue's lease could not be reached, or stopped owning it while the call was forwarded: retry. */
  | 'QUEUE_OWNER_UNAVAILABLE'
  /** A path cluster mode does not serve (it serves the queues API, the dashboard, health, reload and reset). */
  | 'NOT_IN_CLUSTER_MODE';

/** Each code's Google status; its HTTP status is the API's for that status (HTTP_STATUS). */
const STATUS: Readonly<Record<ClusterErrorCode, GoogleStatus>> = {
  QUEUE_OWNER_UNKNOWN: 'UNAVAILABLE',
  QUEUE_OWNER_UNAVAILABLE: 'UNAVAILABLE',
  NOT_IN_CLUSTER_MODE: 'UNIMPLEMENTED',
};

export class ClusterError extends Error {
  override name = 'ClusterError';
  readonly httpStatus: number;
  readonly status: GoogleStatus;

  constructor(
    readonly code: ClusterErrorCode,
    text: string,
    /** The call reached no queue's service (nothing can have been taken): safe to send again. */
    readonly reachedNoService = false,
  ) {
    super(`${text} (${code})`);
    this.status = STATUS[code];
    this.httpStatus = HTTP_STATUS[this.status];
  }

  /** Google's error shape, as every other API refusal (src/server/errors.ts), with its ErrorInfo (reason: the code). */
  toJSON(): unknown {
    return { error: { code: this.httpStatus, message: this.message, status: this.status, details: restErrorDetails(this.code, this.message) } };
  }
}
