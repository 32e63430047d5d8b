/**
 * node-postgres failures as the store's typed errors (STYLE §4): the caller sees one of our codes
 * and a message that names the store's URL (password hidden) and the problem, never a bare driver
 * error. SQLSTATE classes from the PostgreSQL manual, appendix A.
 */
import { StoreError } from './store.js';

/** Socket-level errors: the store is not there (or went away); retrying later can succeed. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export function describePgError(err: unknown, shownUrl: string): StoreError {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  if (code === '28P01' || code === '28000') return new StoreError('STORE_AUTH_FAILED', `${shownUrl}: the store refused the credentials (${message})`);
  if (code === '3D000') return new StoreError('STORE_FAILED', `${shownUrl}: ${message}`);
  // 08xxx: connection exceptions; 57P0x: the server is shutting down or restarting; 53xxx: out of resources.
  if (UNREACHABLE.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53') || /timeout|terminated|Connection terminated|connect/i.test(message)) {
    return new StoreError('STORE_UNAVAILABLE', `${shownUrl}: the store cannot be reached (${code === '' ? message : `${code}: ${message}`})`);
  }
  return new StoreError('STORE_FAILED', `${shownUrl}: ${code === '' ? message : `${code}: ${message}`}`);
}
