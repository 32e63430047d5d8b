/**
 * Where the store's password comes from, as psql (libpq) takes it: the URL (`user:password@` or
 * `?password=`), else `PGPASSWORD`, else the password file (`PGPASSFILE`, default `~/.pgpass`;
 * a file that group or others may read is ignored, with a warning). The URL is the one place
 * other users of the machine can read it (a command line is in `ps`): docs/cluster.md says to use
 * the other two.
 *
 * Why pushq asks the file itself instead of leaving it to node-postgres: when the server asks
 * for a password and none is found, node-postgres fails the connection but leaves its socket open
 * (a SCRAM exchange started without a password), so a refused `pushq serve` or `pushq replay`
 * printed its error and then hung until the server's authentication_timeout (60 s); and its own
 * reading of ~/.pgpass prints a deprecation warning on every start. Here the client, given a
 * password function (node-postgres calls it only when the server asks for a password), ends the
 * connection and fails with STORE_AUTH_FAILED, naming the ways to give one.
 */
import pg from 'pg';
import pgpass from 'pgpass';
import { StoreError } from './store.js';

/** What node-postgres gives a password function: the connection's resolved parameters. */
interface ConnectionInfo {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
}

/** The password file's entry for `info`, or undefined (no file, no match, a file others may read). */
function passwordFileEntry(info: ConnectionInfo): Promise<string | undefined> {
  return new Promise((resolve) => pgpass(info, resolve));
}

/**
 * pg's Client, for a pool on the store at `shownUrl` (password hidden): when neither the URL nor
 * PGPASSWORD gives a password, the password file is asked once the server wants one, and without
 * an entry there the connection is ended and STORE_AUTH_FAILED thrown.
 */
export function storeClient(shownUrl: string): typeof pg.Client {
  return class StoreClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      // node-postgres has read the URL's password, else PGPASSWORD, into `password` (hidden from
      // enumeration); '' or null: neither gave one.
      const self = this as unknown as { password: unknown; connection: { end(): void } };
      if (typeof self.password === 'string' && self.password !== '') return;
      self.password = async (info: ConnectionInfo): Promise<string> => {
        const found = await passwordFileEntry(info);
        if (found !== undefined && found !== '') return found;
        self.connection.end();
        throw new StoreError(
          'STORE_AUTH_FAILED',
          `${shownUrl}: the store asks for a password for user ${JSON.stringify(info.user ?? '')} and none was given: set PGPASSWORD, or put it in ~/.pgpass (PGPASSFILE names another file, mode 0600), rather than in the URL, where other users of the machine can read it (ps)`,
        );
      };
    }
  };
}
