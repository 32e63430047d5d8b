/**
 * `pushq serve --auth-token-file FILE`: the token read from a file, so that it is not on the
 * command line, where every local user reads it (`ps`, /proc/PID/cmdline). The file holds the
 * token alone; the one line end an editor or `echo` adds is not part of it.
 *
 * A file that group or others may read hands the token to the same users the flag keeps it from:
 * the start says so, naming the file and the chmod that fixes it. It warns rather than refuses
 * (as ssh does for a private key): secrets mounted by Kubernetes (defaultMode 0644) or Docker
 * (0444) are made so by the platform, where the file is no one else's to read, and a refusal
 * would stop every such deployment for what is, there, no exposure.
 */
import { open } from 'node:fs/promises';
import { readFailure } from '../core/read-failure.js';
import { authTokenProblem } from '../server/security.js';
import { ServeStartError } from '../server/start-errors.js';

/** The bits of a mode that let group or others read (or write) the file. */
const SHARED_MODE_BITS = 0o077;

/**
 * The token in `path`; throws ServeStartError AUTH_TOKEN_FILE_UNREADABLE or AUTH_TOKEN_INVALID,
 * naming the flag and the file. `warn` is given one line (no line end) when group or others may
 * read the file.
 */
export async function readAuthTokenFile(path: string, warn: (line: string) => void): Promise<string> {
  let text: string;
  let mode: number;
  try {
    // One open for the mode and the content: the mode said is the file's that was read.
    const file = await open(path, 'r');
    try {
      mode = (await file.stat()).mode;
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new ServeStartError('AUTH_TOKEN_FILE_UNREADABLE', `--auth-token-file ${path}: cannot read it: ${readFailure(err)}`);
  }
  const token = text.replace(/\r?\n$/, '');
  const problem = authTokenProblem(token);
  if (problem !== null) throw new ServeStartError('AUTH_TOKEN_INVALID', `--auth-token-file ${path}: the token in it ${problem}; the file holds the token alone, on one line`);
  // Windows has no such bits: fs.stat makes them up from the read-only attribute.
  if (process.platform !== 'win32' && (mode & SHARED_MODE_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    const can = (mode & 0o044) !== 0 ? 'read the token in it and call the API with it' : 'replace the token in it with one of their own';
    warn(`warning: --auth-token-file ${path} is open to group or others (mode ${octal}), who can ${can}: chmod 600 ${path}`);
  }
  return token;
}
