/** Runs the real CLI as a user does: `node bin/pushq.js ...` on the built dist/ (test/global-setup.ts builds it). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pushq.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves with the exit code and output (a non-zero exit is a result, not a rejection). */
export function pushq(args: readonly string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // timeoutMs: a command that should end (a refused start) is sent SIGTERM after it, not waited for forever.
    // env: the whole environment of the command (this process's when not given).
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 0, ...(options.env === undefined ? {} : { env: options.env }) }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      if (code === null) reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}
