/**
 * node-postgres failures as the store's typed errors (STYLE §4): the caller sees one of our codes
 * and a message that names the store's URL (password hidden) and the problem, never a bare driver
 * error. SQLSTATE classes from the PostgreSQL manual, appendix A.
 */
import { heldUpBy } from './pg-waits.js';
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
 * A lock wait names, when it was looked at while it lasted (pg-waits.ts), the session holding it up.
 */
export function describePgError(err: unknown, shownUrl: string, boundMs?: number): StoreError {
  // What was seen of the session holding the lock up (pg-waits.ts), when a lookup ran during the wait.
  const holder = heldUpBy(err);
  if (err instanceof StoreError) return err; // already ours (pg-password.ts: no password given)
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  const bound = boundMs === undefined ? '' : ` within ${formatBound(boundMs)}`;
  if (code === '55P03') return new StoreError('STORE_TIMEOUT', `${shownUrl}: a lock on pushq's tables, held by another session, did not come free${bound} (${code}: ${message}); nothing of the statement was written${holder === undefined ? '' : `; ${holder}`}`);
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

/** Who the store's sessions run as, and where unqualified tables are made: read at open, for the GRANT a refusal names. */
export interface StoreRole {
  user: string;
  /** current_schema(): where CREATE TABLE puts pushq's tables (null: no schema on the search_path). */
  schema: string | null;
}

/** The statement that reads a StoreRole: one row, `username` and `schema`. */
export const STORE_ROLE_QUERY = 'SELECT current_user AS username, current_schema() AS schema';

/** The tables `statements` create (`CREATE TABLE IF NOT EXISTS name`), in order: the GRANT a refusal names is derived from the schema, not retyped. */
export function tablesCreatedBy(statements: readonly string[]): string[] {
  return statements.flatMap((s) => /CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)/.exec(s)?.[1] ?? []);
}

/** `name` as SQL writes an identifier: bare when it is lower-case letters, digits and _, else quoted. */
function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * A refusal for want of a privilege (SQLSTATE 42501, insufficient_privilege) as STORE_FAILED that
 * says what pushq was doing, as which user, the server's words, and the GRANT that lets it: the
 * server's words alone ("permission denied for schema public") name neither. null for any other
 * failure. `creating`: pushq was making `tables` (an empty database); else it was using them.
 */
export function privilegeError(err: unknown, shownUrl: string, role: StoreRole | null, tables: readonly string[], creating: boolean): StoreError | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== '42501') return null;
  const user = role === null ? 'the store\'s user' : `user ${ident(role.user)}`;
  const to = role === null ? 'TO that user' : `TO ${ident(role.user)}`;
  const list = tables.join(', ');
  const why = `${user} may not (42501: ${String(e.message)})`;
  if (creating) {
    const schema = ident(role?.schema ?? 'public');
    return new StoreError(
      'STORE_FAILED',
      `${shownUrl}: pushq was creating its tables (${list}), which this database does not have yet, and ${why}: GRANT CREATE ON SCHEMA ${schema} ${to}, or start pushq once as a user who may create them and then GRANT SELECT, INSERT, UPDATE, DELETE ON ${list} ${to}`,
    );
  }
  return new StoreError('STORE_FAILED', `${shownUrl}: pushq was using its tables, and ${why}: GRANT SELECT, INSERT, UPDATE, DELETE ON ${list} ${to}`);
}

/**
 * A refusal (42501) to add the columns a table made by an earlier pushq lacks: ALTER TABLE is its
 * owner's alone, whatever is granted, so the way out is the statements themselves (`statements`,
 * idempotent: ADD COLUMN IF NOT EXISTS) run as the owner, or this pushq started once as the owner.
 * null for any other failure.
 */
export function alterRefused(err: unknown, shownUrl: string, role: StoreRole | null, table: string, statements: readonly string[]): StoreError | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== '42501') return null;
  const user = role === null ? 'the store\'s user' : `user ${ident(role.user)}`;
  return new StoreError(
    'STORE_FAILED',
    `${shownUrl}: pushq was adding to its table ${table} the columns this version needs (the table was made by an earlier pushq), which only the table's owner may do, and ${user} is not its owner (42501: ${String(e.message)}): run as the owner ${statements.map((s) => `${s};`).join(' ')} or start this pushq once as the owner`,
  );
}
