/**
 * `pushq serve --auth-token-file FILE`: the token read from a file, so that it is not on the
 * command line, where every local user reads it (`ps`, /proc/PID/cmdline). The file holds the
 * token alone; the one line end an editor or `echo` adds is not part of it.
 */
import { readFile } from 'node:fs/promises';
import { readFailure } from '../config/load.js';
import { authTokenProblem } from '../server/security.js';
import { ServeStartError } from '../server/start-errors.js';

/** The token in `path`; throws ServeStartError AUTH_TOKEN_FILE_UNREADABLE or AUTH_TOKEN_INVALID, naming the flag and the file. */
export async function readAuthTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ServeStartError('AUTH_TOKEN_FILE_UNREADABLE', `--auth-token-file ${path}: cannot read it: ${readFailure(err)}`);
  }
  const token = text.replace(/\r?\n$/, '');
  const problem = authTokenProblem(token);
  if (problem !== null) throw new ServeStartError('AUTH_TOKEN_INVALID', `--auth-token-file ${path}: the token in it ${problem}; the file holds the token alone, on one line`);
  return token;
}
