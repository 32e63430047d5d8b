/** The password file reader node-postgres depends on (pgpass 1.0.5, no types of its own): src/store/pg-password.ts. */
declare module 'pgpass' {
  /** Calls back with the password of the first entry matching `connInfo`, or undefined (no file, no match, a file group or others may read). */
  function pgpass(connInfo: { host?: string; port?: number; database?: string; user?: string }, cb: (password: string | undefined) => void): void;
  export default pgpass;
}
