/**
 * Why a task's previous attempt failed, as the next attempt tells its handler in
 * `X-AppEngine-TaskRetryReason`: `http-status-<code>` for an answer outside 200–299, else one of
 * RETRY_REASONS. The HTTP dispatcher starts a transport failure's error text with one of these
 * codes; evolve keeps the code per task (one byte), so a request reads its retry reason from the
 * state like every other header.
 */
import type { FailureReason } from './events.js';

/** Values of `X-AppEngine-TaskRetryReason` (and prefixes of AttemptFailed.error) for failures without a status. */
export const RETRY_REASONS = {
  deadline: 'deadline-exceeded',
  refused: 'connection-refused',
  reset: 'connection-reset',
  other: 'connection-error',
  noTarget: 'no-target-url',
} as const;

/** A retry reason as evolve stores it (TaskTable.retryReason). */
export const enum RetryReasonCode {
  None = 0,
  Status = 1,
  Deadline = 2,
  Refused = 3,
  Reset = 4,
  Other = 5,
  NoTarget = 6,
}

const CONNECTION_CODES: ReadonlyMap<string, RetryReasonCode> = new Map([
  [RETRY_REASONS.refused, RetryReasonCode.Refused],
  [RETRY_REASONS.reset, RetryReasonCode.Reset],
  [RETRY_REASONS.other, RetryReasonCode.Other],
  [RETRY_REASONS.noTarget, RetryReasonCode.NoTarget],
]);

/** The code for a failed attempt: its reason, and for a connection failure the code its error starts with. */
export function retryReasonCode(reason: FailureReason, error: string | undefined): RetryReasonCode {
  if (reason === 'status') return RetryReasonCode.Status;
  if (reason === 'deadline') return RetryReasonCode.Deadline;
  // Anything else (an attempt abandoned by a restart) is a plain connection error.
  const colon = error === undefined ? -1 : error.indexOf(':');
  const prefix = error === undefined ? undefined : colon < 0 ? error : error.slice(0, colon);
  return (prefix !== undefined ? CONNECTION_CODES.get(prefix) : undefined) ?? RetryReasonCode.Other;
}

const TEXT: readonly (string | undefined)[] = [undefined, undefined, RETRY_REASONS.deadline, RETRY_REASONS.refused, RETRY_REASONS.reset, RETRY_REASONS.other, RETRY_REASONS.noTarget];

/** The header value for a stored code; `lastStatus` is the failed answer's status when the code is Status. */
export function retryReasonText(code: RetryReasonCode, lastStatus: number): string | undefined {
  return code === RetryReasonCode.Status ? `http-status-${lastStatus}` : TEXT[code];
}
