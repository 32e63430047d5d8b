/** `pushq COMMAND ...`: looks the command up in one table and runs it. */
import { EXIT_OK, EXIT_USAGE, processIo, type CliCommand, type CliIo } from './io.js';
import { simulateCommand } from './simulate.js';
import { serveCommand } from './serve.js';
import { replayCommand } from './replay.js';
import { validateCommand } from './validate.js';

interface CommandEntry {
  run: CliCommand;
  /** One line for `pushq --help`. */
  summary: string;
}

/** Every command, one line each. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { run: serveCommand, summary: 'run push queues locally: real HTTP dispatch, Cloud Tasks v2 REST API, durable log' },
  replay: { run: replayCommand, summary: 'rebuild the state an event log describes: per-queue summary, state at a time, a task\'s story' },
  validate: { run: validateCommand, summary: "check queue.yaml / queue.xml files against App Engine's rules" },
  simulate: { run: simulateCommand, summary: 'run a scenario file (queues, workloads, a modelled worker) in virtual time' },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `usage: pushq COMMAND [ARGS...]\n\ncommands:\n${lines.join('\n')}\n\nRun \`pushq COMMAND --help\` for a command's options.\n`;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return EXIT_OK;
  }
  if (name === undefined) {
    io.stderr(usage());
    return EXIT_USAGE;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr(`pushq: unknown command ${name}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  return command.run(args, io);
}
