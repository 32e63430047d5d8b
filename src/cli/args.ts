/**
 * One argument parser for every command. Each command declares its flags once, in a table (a
 * {@link CommandSpec}); parsing, usage errors and `--help` are all derived from that table.
 *
 * Splitting the words is node:util's parseArgs (`--x=y` and `--x y`, `-h`, `--`). It runs
 * non-strict and the checks are made here, for two reasons: a value may start with one dash
 * (`replay --at -1` is a TIME for the command to judge, not an unknown option `-1`), and every
 * message names the flag in pushq's words, on one line. A value starting with `--` is taken for a
 * forgotten value, not a value (`--log --json`); `--log=--json` says it is meant.
 *
 * Usage errors: an unknown flag, a flag without its value (or with an empty one), a value given to
 * a flag that takes none, a flag given twice that is not repeatable, a value its flag's `parse`
 * refuses, too few or too many operands. Each is a {@link CliUsageError}; the command prints it as
 * `pushq COMMAND: message`, then its usage (not for a refused value: {@link CliValueError}), and
 * exits 2 without running anything.
 */
import { parseArgs } from 'node:util';
import { closestKey } from '../config/suggest.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

/** A usage error: the message names the flag or operand at fault. Exit status 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
  readonly code = 'CLI_USAGE';
}

/**
 * A value its flag's `parse` refuses (`--seed x`, `--resolution fast`): a usage error printed on
 * one line alone, without the usage. The flag is known and the message names it and says what it
 * takes, so the whole help would only bury the one line that matters.
 */
class CliValueError extends CliUsageError {
  override name = 'CliValueError';
}

interface FlagCommon {
  /** One sentence or a few; wrapped to the help's width. */
  help: string;
  /** One letter: `-h` for `--help`. */
  short?: string;
}

interface BooleanFlag extends FlagCommon {
  type: 'boolean';
}

interface ValueFlag<T = string> extends FlagCommon {
  type: 'string';
  /** The value's name in the help: FILE, N, NAME=URL. */
  value: string;
  /** Given more than once, every value is kept in order (otherwise twice is a usage error). */
  multiple?: boolean;
  /** The value from its text (never empty); throws CliUsageError, naming `flag`, when it is bad. */
  parse?: (text: string, flag: string) => T;
}

/** A table holds flags of several value types; each one's own is kept by inference (defineCommand). */
type FlagSpec = BooleanFlag | ValueFlag<unknown>;
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The operands (words that are not flags): how many, and how the help and the errors name them. */
interface OperandSpec {
  /** In the usage line: `FILE...`, `LOG`. */
  usage: string;
  /** In errors: "no NOUN given", "one NOUN at a time". */
  noun: string;
  min: number;
  max: number;
}

export interface CommandSpec<F extends FlagTable> {
  /** `pushq NAME`. */
  name: string;
  /** null: the command takes flags only. */
  operands: OperandSpec | null;
  /** Show the operands before the flags in the usage line (`pushq validate [--json] FILE...` has them after). */
  operandsFirst?: boolean;
  /** Paragraphs between the usage line and the flags. */
  about: string;
  flags: F;
  /** After the flags: exit status, signals. */
  footer: string;
}

/** What a value flag's `parse` returns, or the text itself. */
type ValueOf<S> = S extends { parse: (text: string, flag: string) => infer T } ? T : string;
type FlagValue<S> = S extends { type: 'boolean' } ? boolean : S extends { multiple: true } ? ValueOf<S>[] : ValueOf<S> | undefined;

type ParsedFlags<F extends FlagTable> = { -readonly [K in keyof F]: FlagValue<F[K]> };

export interface ParsedArgs<F extends FlagTable> {
  flags: ParsedFlags<F>;
  operands: string[];
}

/** Every command's `-h, --help`, shown last. */
const HELP_FLAG: BooleanFlag = { type: 'boolean', short: 'h', help: 'show this help' };

/** Declares a command; `const` keeps each flag's literal shape, so parsed values are typed per flag. */
export function defineCommand<const F extends FlagTable>(spec: CommandSpec<F>): CommandSpec<F> {
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (name === 'help' || flag.short === 'h') throw new Error(`pushq ${spec.name}: --help is every command's own`);
  }
  return spec;
}

/** `null`: --help was asked for. Throws CliUsageError. */
export function parseCommandLine<F extends FlagTable>(spec: CommandSpec<F>, args: readonly string[]): ParsedArgs<F> | null {
  const table: Record<string, FlagSpec> = { ...spec.flags, help: HELP_FLAG };
  const options: Record<string, { type: 'boolean' | 'string'; short?: string }> = {};
  for (const [name, flag] of Object.entries(table)) options[name] = flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short };
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });

  // --help anywhere wins over any other problem: who asks for help gets it.
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help' && t.value === undefined)) return null;

  const flags: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec.flags)) flags[name] = flag.type === 'boolean' ? false : flag.multiple === true ? [] : undefined;
  const given = new Set<string>();
  const operands: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') operands.push(token.value);
    if (token.kind !== 'option') continue;
    const flag = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    // parseArgs reports an unknown `-x` under the name `x`: show what was typed.
    if (flag === undefined) {
      const near = token.rawName.startsWith('--') ? closestKey(token.name, Object.keys(table)) : null;
      throw new CliUsageError(`unknown option ${token.rawName}${near === null ? '' : `; did you mean --${near}?`}`);
    }
    const name = `--${token.name}`;
    if (flag.type === 'boolean') {
      if (token.value !== undefined) throw new CliUsageError(`${name} takes no value`);
      flags[token.name] = true;
      continue;
    }
    const text = token.value;
    if (text === undefined || text === '') throw new CliUsageError(`${name} needs a value`);
    if (!token.inlineValue && text.startsWith('--')) {
      throw new CliUsageError(`${name} needs a value (${text} is an option; for a value that starts with --, write ${name}=${text})`);
    }
    const value: unknown = flag.parse === undefined ? text : parseValue(flag.parse, text, name);
    if (flag.multiple === true) (flags[token.name] as unknown[]).push(value);
    else if (given.has(token.name)) throw new CliUsageError(`${name} is given twice`);
    else flags[token.name] = value;
    given.add(token.name);
  }
  checkOperands(spec, operands);
  return { flags: flags as ParsedFlags<F>, operands };
}

/** `parse(text, flag)`, its usage errors made value errors (printed without the usage). */
function parseValue(parse: (text: string, flag: string) => unknown, text: string, flag: string): unknown {
  try {
    return parse(text, flag);
  } catch (err) {
    if (err instanceof CliUsageError && !(err instanceof CliValueError)) throw new CliValueError(err.message, { cause: err });
    throw err;
  }
}

function checkOperands(spec: CommandSpec<FlagTable>, operands: readonly string[]): void {
  const o = spec.operands;
  if (o === null) {
    if (operands.length > 0) throw new CliUsageError(`takes no operands, only options (given: ${operands.join(', ')})`);
    return;
  }
  if (operands.length < o.min) throw new CliUsageError(operands.length === 0 ? `no ${o.noun} given` : `at least ${o.min} ${o.noun}s, got ${operands.length} (${operands.join(', ')})`);
  if (operands.length > o.max) throw new CliUsageError(`${o.max === 1 ? `one ${o.noun}` : `at most ${o.max} ${o.noun}s`} at a time (given: ${operands.join(', ')})`);
}

/**
 * Parses `args`; on --help prints the help to stdout and returns EXIT_OK, on a usage error prints
 * it to stderr and returns EXIT_USAGE. The command runs only when it gets the parsed arguments.
 */
export function parseOrExit<F extends FlagTable>(spec: CommandSpec<F>, args: readonly string[], io: CliIo): ParsedArgs<F> | number {
  try {
    const parsed = parseCommandLine(spec, args);
    if (parsed !== null) return parsed;
    io.stdout(helpText(spec));
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CliUsageError) return reportUsageError(spec, err, io);
    throw err;
  }
}

/** `pushq NAME: message`, then (unless a flag's value was refused) a blank line and the help; EXIT_USAGE. */
export function reportUsageError(spec: CommandSpec<FlagTable>, err: CliUsageError, io: CliIo): number {
  const line = `pushq${spec.name === '' ? '' : ` ${spec.name}`}: ${err.message}\n`;
  io.stderr(err instanceof CliValueError ? line : `${line}\n${helpText(spec)}`);
  return EXIT_USAGE;
}

/** Help lines are wrapped to this width. */
const WIDTH = 80;

/** The whole `--help` text. */
export function helpText(spec: CommandSpec<FlagTable>): string {
  return `${usageLine(spec)}\n\n${spec.about.trimEnd()}\n\noptions:\n${flagLines(spec.flags)}\n\n${spec.footer.trimEnd()}\n`;
}

/** `usage: pushq NAME [--flag VALUE] [--flag ...] OPERANDS`, wrapped under itself. */
function usageLine(spec: CommandSpec<FlagTable>): string {
  const flags = Object.entries(spec.flags).map(([name, f]) => `[--${name}${f.type === 'string' ? ` ${f.value}` : ''}${f.type === 'string' && f.multiple === true ? ' ...' : ''}]`);
  const operands = spec.operands === null ? [] : [spec.operands.usage];
  const head = `usage: pushq${spec.name === '' ? '' : ` ${spec.name}`}`;
  const words = spec.operandsFirst === true ? [...operands, ...flags] : [...flags, ...operands];
  return wrap(words, head.length + 1, WIDTH).replace(/^ */, `${head} `);
}

/** The flags (and `-h, --help`), one per entry: names and value on the left, the help wrapped on the right. */
export function flagLines(table: FlagTable): string {
  const rows = [...Object.entries(table), ['help', HELP_FLAG] as const].map(([name, f]) => ({
    left: `${f.short === undefined ? '' : `-${f.short}, `}--${name}${f.type === 'string' ? ` ${f.value}` : ''}`,
    help: f.help,
  }));
  const column = 2 + Math.max(...rows.map((r) => r.left.length)) + 2;
  return rows
    .map((r) => {
      const text = wrap(r.help.split(/\s+/), column, WIDTH);
      return `  ${r.left.padEnd(column - 2)}${text.slice(column)}`;
    })
    .join('\n');
}

/** The words in lines of at most `width` (a longer word gets a line of its own), each indented by `indent`. */
function wrap(words: readonly string[], indent: number, width: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (word === '') continue;
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(pad + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(pad + line);
  return lines.join('\n');
}

/** A `parse` for a whole number from `min` to `max` (digits only: no sign, exponent or hex). */
export function wholeNumber(min: number, max: number): (text: string, flag: string) => number {
  return (text, flag) => {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw new CliUsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
    return n;
  };
}

/** A `parse` for a decimal number of seconds, 0 or more (`0.5`, `10`). */
export function seconds(text: string, flag: string): number {
  const s = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(s)) throw new CliUsageError(`${flag} must be a number of seconds, 0 or more (got "${text}")`);
  return s;
}
