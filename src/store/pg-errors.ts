/**
 * node-postgres failures as the store's typed errors (STYLE §4): the caller sees one of our codes
 * and a message that names the store's URL (password hidden) and the problem, never a bare driver
 * error. SQLSTATE classes from the PostgreSQL manual, appendix A.
 */
import { StoreError } from './store.js';

/** Socket-level errors: the store is not there (or went away); retrying later can succeed. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** node-postgres's own message when a statement's `query_timeout` passes (it has no code). */
const CLIENT_TIMEOUT_MESSAGE = 'Query read timeout';

/** Whether `err` is the client giving up on a statement (query_timeout): the statement may still be running on its connection. */
export function isClientTimeout(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === undefined && err.message === CLIENT_TIMEOUT_MESSAGE;
}

/**
 * `boundMs`: the store's statement bound (pg-options.ts, statementBounds), named when a statement
 * ran into it: STORE_TIMEOUT, which says whether a lock held it up (lock_timeout, 55P03), it ran
 * too long (statement_timeout, 57014) or the server did not answer at all (the client's bound).
 */
export function describePgError(err: unknown, shownUrl: string, boundMs?: number): StoreError {
  if (err instanceof StoreError) return err; // already ours (pg-password.ts: no password given)
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  const bound = boundMs === undefined ? '' : ` within ${formatBound(boundMs)}`;
  if (code === '55P03') return new StoreError('STORE_TIMEOUT', `${shownUrl}: a lock on pushq's tables, held by another session, did not come free${bound} (${code}: ${message}); nothing of the statement was written`);
  if (code === '57014' && /statement timeout/i.test(message)) return new StoreError('STORE_TIMEOUT', `${shownUrl}: a statement did not finish${bound} (${code}: ${message}); nothing of it was written`);
  if (isClientTimeout(err)) {
    return new StoreError('STORE_TIMEOUT', `${shownUrl}: the store did not answer${boundMs === undefined ? '' : ` within ${formatBound(boundMs + 3000)}`} (a server or network that hangs); the connection was dropped`);
  }
  if (code === '28P01' || code === '28000') return new StoreError('STORE_AUTH_FAILED', `${shownUrl}: the store refused the credentials (${message})`);
  if (code === '3D000') return new StoreError('STORE_FAILED', `${shownUrl}: ${message}`);
  // 08xxx: connection exceptions; 57P0x: the server is shutting down or restarting; 53xxx: out of resources.
  if (UNREACHABLE.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53') || /timeout|terminated|Connection terminated|connect/i.test(message)) {
    return new StoreError('STORE_UNAVAILABLE', `${shownUrl}: the store cannot be reached (${code === '' ? message : `${code}: ${message}`})`);
  }
  return new StoreError('STORE_FAILED', `${shownUrl}: ${code === '' ? message : `${code}: ${message}`}`);
}

function formatBound(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
