/**
 * `pushq COMMAND ...`: looks the command up in one table and runs it. Flags before the command
 * (`--version`, `--help`) are pushq's own, parsed by the same parser as every command's.
 */
import { closestKey } from '../config/suggest.js';
import { PUSHQ_VERSION } from '../version.js';
import { CliUsageError, defineCommand, flagLines, parseCommandLine, type ParsedArgs } from './args.js';
import { EXIT_OK, EXIT_USAGE, processIo, type CliCommand, type CliIo } from './io.js';
interface CommandEntry {
  /**
   * The command, loaded when it runs: `pushq simulate` never loads the server's HTTP, gRPC and
   * protobuf stacks (loading every command cost a whole-process run hundreds of milliseconds).
   */
  load: () => Promise<CliCommand>;
  /** One line for `pushq --help`. */
  summary: string;
}

/** Every command, one line each. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { load: async () => (await import('./serve.js')).serveCommand, summary: 'run push queues locally: real HTTP dispatch, Cloud Tasks v2 API over REST and gRPC, durable log' },
  replay: { load: async () => (await import('./replay.js')).replayCommand, summary: 'rebuild the state an event log describes: per-queue summary, state at a time, a task\'s story' },
  validate: { load: async () => (await import('./validate.js')).validateCommand, summary: "check queue.yaml / queue.xml files against App Engine's rules" },
  simulate: { load: async () => (await import('./simulate.js')).simulateCommand, summary: 'run a scenario file (queues, workloads, a modelled worker) in virtual time; --seeds N for many' },
  compare: { load: async () => (await import('./compare.js')).compareCommand, summary: 'run scenario files on the same seeds and compare every figure, with 95% intervals' },
  tune: { load: async () => (await import('./tune.js')).tuneCommand, summary: 'find the least setting of queue directives that meets goals on every seed' },
};

/** pushq's own flags, given before any command. */
const PUSHQ = defineCommand({
  name: '',
  operands: null,
  about: '',
  flags: {
    version: { type: 'boolean', short: 'V', help: "print pushq's version and exit" },
  },
  footer: '',
});

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return (
    `usage: pushq COMMAND [ARGS...]\n       pushq --version\n\ncommands:\n${lines.join('\n')}\n\n` +
    `options:\n${flagLines(PUSHQ.flags)}\n\nRun \`pushq COMMAND --help\` for a command's options.\n`
  );
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  // The command is the first word that is not a flag; what comes before it is pushq's.
  const at = argv.findIndex((a) => !a.startsWith('-') || a === '-');
  let own: ParsedArgs<typeof PUSHQ.flags> | null;
  try {
    own = parseCommandLine(PUSHQ, at === -1 ? argv : argv.slice(0, at));
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr(`pushq: ${err.message}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (own === null) {
    io.stdout(usage());
    return EXIT_OK;
  }
  if (own.flags.version) {
    io.stdout(`pushq ${PUSHQ_VERSION}\n`);
    return EXIT_OK;
  }
  const name = argv[at];
  if (name === undefined) {
    io.stderr(`pushq: no command given\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (name === 'help') {
    io.stdout(usage());
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const near = closestKey(name, Object.keys(COMMANDS));
    io.stderr(`pushq: unknown command ${name}${near === null ? '' : `; did you mean ${near}?`}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  return (await command.load())(argv.slice(at + 1), io);
}
