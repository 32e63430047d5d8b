/** Where a command writes. Each call writes the string as given (commands add their own newlines). */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** stderr is a terminal (a live progress line may be drawn there). */
  stderrIsTerminal?: boolean;
}

/** A CLI command: arguments after its name → exit status (0 ok, 1 failure found, 2 usage error). */
export type CliCommand = (args: string[], io: CliIo) => Promise<number>;

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const processIo: CliIo = {
  // Once a reader has gone (EPIPE: bin/pushq.js), stdout is destroyed and what follows is dropped.
  stdout: (s) => { if (!process.stdout.destroyed) process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
  stderrIsTerminal: process.stderr.isTTY === true,
};
