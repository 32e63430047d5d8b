/**
 * The one argument parser (src/cli/args.ts): every command's flags from its table, `--x=y` the
 * same as `--x y`, usage errors that name the flag and exit 2 with nothing run, --help generated
 * from the table. In-process for the parser's rules; real child processes (node bin/pushq.js)
 * for what a user sees of each command.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliUsageError, defineCommand, helpText, parseCommandLine, type CommandSpec, type FlagTable } from '../../src/cli/args.js';
import { REPLAY } from '../../src/cli/replay.js';
import { SERVE, parseServeArgs } from '../../src/cli/serve.js';
import { SIMULATE } from '../../src/cli/simulate.js';
import { VALIDATE } from '../../src/cli/validate.js';
import { PUSHQ_VERSION } from '../../src/version.js';
import { pushq as runPushq, ROOT, type CliRun } from '../helpers/cli.js';

function pushq(...args: string[]): Promise<CliRun> {
  return runPushq(args);
}

const dir = mkdtempSync(join(tmpdir(), 'pushq-args-'));
const SCENARIO = join(dir, 'small.yaml');
writeFileSync(SCENARIO, 'seed: 3\nqueue:\n  - { name: q, rate: 20/s }\nworkload:\n  - { queue: q, count: 30, name_prefix: t- }\nworker:\n  latency: 50ms\n  error_rate: 0.3\n');
const QUEUE_YAML = join(dir, 'queue.yaml');
writeFileSync(QUEUE_YAML, 'queue:\n- name: q\n  rate: 5/s\n');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The usage error `args` gives, or null when they parse. */
function usageError(spec: CommandSpec<FlagTable>, args: string[]): string | null {
  try {
    parseCommandLine(spec, args);
    return null;
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    return err.message;
  }
}

const TOY = defineCommand({
  name: 'toy',
  operands: { usage: 'FILE', noun: 'file', min: 1, max: 1 },
  about: 'A command for the tests.',
  flags: {
    name: { type: 'string', value: 'NAME', help: 'a name' },
    tag: { type: 'string', value: 'TAG', multiple: true, help: 'a tag (repeatable)' },
    quiet: { type: 'boolean', short: 'q', help: 'say less' },
  },
  footer: 'exit status: 0.',
});

describe('the parser', () => {
  it('reads --x=y as --x y, keeps repeatable values in order, ends options at --', () => {
    const spaced = parseCommandLine(REPLAY, ['log.jsonl', '--at', '12.5', '--task', 't-1', '--json']);
    const joined = parseCommandLine(REPLAY, ['--at=12.5', 'log.jsonl', '--task=t-1', '--json']);
    expect(joined).toEqual(spaced);
    expect(spaced).toEqual({ operands: ['log.jsonl'], flags: { at: '12.5', queue: undefined, task: 't-1', tasks: undefined, limit: undefined, json: true, repair: false, snapshot: undefined, ui: false, port: undefined, host: undefined, 'allow-host': [] } });
    expect(parseCommandLine(TOY, ['f', '--tag', 'a', '--tag=b', '--tag', 'c'])?.flags).toMatchObject({ tag: ['a', 'b', 'c'] });
    expect(parseCommandLine(VALIDATE, ['--', '--json', '-h'])).toEqual({ operands: ['--json', '-h'], flags: { json: false } });
  });

  it('gives a value that starts with one dash to its flag (replay --at -1 is a TIME to judge), and one with two only when written --x=--y', () => {
    expect(parseCommandLine(REPLAY, ['log', '--at', '-1'])?.flags.at).toBe('-1');
    expect(usageError(SIMULATE, ['s.yaml', '--log', '--json'])).toBe('--log needs a value (--json is an option; for a value that starts with --, write --log=--json)');
    expect(parseCommandLine(SIMULATE, ['s.yaml', '--log=--json'])?.flags.log).toBe('--json');
  });

  it.each([
    ['an unknown flag', SIMULATE, ['s.yaml', '--frobnicate'], 'unknown option --frobnicate'],
    ['an unknown flag with a value', SIMULATE, ['s.yaml', '--frobnicate=1'], 'unknown option --frobnicate'],
    ['an unknown short flag', VALIDATE, ['f', '-x'], 'unknown option -x'],
    ['a missing value', SIMULATE, ['s.yaml', '--seed'], '--seed needs a value'],
    ['an empty value', SIMULATE, ['s.yaml', '--log='], '--log needs a value'],
    ['a value for a flag that takes none', SIMULATE, ['s.yaml', '--json=yes'], '--json takes no value'],
    ['a flag given twice', REPLAY, ['log', '--task', 'a', '--task=b'], '--task is given twice'],
    ['a bad number', SIMULATE, ['s.yaml', '--seed=x'], '--seed must be a whole number from 0 to 4294967295 (got "x")'],
    ['a negative number', SIMULATE, ['s.yaml', '--seed', '-1'], '--seed must be a whole number from 0 to 4294967295 (got "-1")'],
    ['a number out of range', SERVE, ['--port', '70000'], '--port must be a whole number from 0 to 65535 (got "70000")'],
    ['a number in another notation', SERVE, ['--connections=1e3'], '--connections must be a whole number from 1 to 4096 (got "1e3")'],
    ['a bad number of seconds', SERVE, ['--drain-seconds', 'Infinity'], '--drain-seconds must be a number of seconds, 0 or more (got "Infinity")'],
    ['no operand', VALIDATE, ['--json'], 'no file given'],
    ['too many operands', SIMULATE, ['a.yaml', 'b.yaml'], 'one scenario file at a time (given: a.yaml, b.yaml)'],
    ['an operand to a command that takes none', SERVE, ['queue.yaml'], 'takes no operands, only options (given: queue.yaml)'],
  ])('refuses %s', (_, spec, args, message) => {
    expect(usageError(spec as CommandSpec<FlagTable>, args)).toBe(message);
  });

  it('answers --help (or -h) anywhere, over any other problem', () => {
    expect(parseCommandLine(SIMULATE, ['--frobnicate', '--help'])).toBeNull();
    expect(parseCommandLine(SERVE, ['-h', '--port'])).toBeNull();
    expect(parseCommandLine(TOY, ['-qh'])).toBeNull();
    // A --help that is the value of a flag is that value.
    expect(parseCommandLine(TOY, ['f', '--name', '-h'])?.flags).toMatchObject({ name: '-h' });
  });

  it("generates each command's help from its table: every flag once in the usage line and once in the list", () => {
    for (const spec of [VALIDATE, SIMULATE, REPLAY, SERVE] as CommandSpec<FlagTable>[]) {
      const help = helpText(spec);
      const [usage, rest] = [help.slice(0, help.indexOf('\n\n')), help.slice(help.indexOf('\noptions:\n'))];
      expect(usage).toMatch(new RegExp(`^usage: pushq ${spec.name} `));
      for (const [name, flag] of Object.entries(spec.flags)) {
        const shown = `--${name}${flag.type === 'string' ? ` ${flag.value}` : ''}`;
        expect(usage.split(`[${shown}`), `${spec.name} usage ${shown}`).toHaveLength(2);
        expect(rest.match(new RegExp(`^ {2}${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'gm')), `${spec.name} ${shown}`).toHaveLength(1);
      }
      expect(rest).toMatch(/^ {2}-h, --help +show this help$/m);
      // The generated parts are wrapped to 80 columns.
      const options = rest.slice(0, rest.indexOf('\n\n', 1));
      for (const line of [...usage.split('\n'), ...options.split('\n')]) expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });

  it('serve: --store-timeout-seconds is for --store (one node or --cluster), at least 0.1 s; absent, the store keeps its default', () => {
    const usage = (args: string[]): string => {
      try {
        parseServeArgs(args);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(parseServeArgs(['--store', 'postgres://h/db', '--store-timeout-seconds', '2.5'])?.storeTimeoutSeconds).toBe(2.5);
    expect(parseServeArgs(['--store', 'postgres://h/db'])).not.toHaveProperty('storeTimeoutSeconds');
    expect(usage(['--store-timeout-seconds', '2'])).toBe('--store-timeout-seconds is for --store');
    expect(parseServeArgs(['--store', 'postgres://h/db', '--cluster', '--store-timeout-seconds', '2'])?.storeTimeoutSeconds).toBe(2);
    expect(usage(['--store', 'postgres://h/db', '--store-timeout-seconds', '0'])).toBe('--store-timeout-seconds must be at least 0.1 (got 0)');
  });

  it('serve: --target and --scaling in either order make one target; defaults apply', () => {
    const a = parseServeArgs(['--scaling=api=manual', '--target', 'api=http://127.0.0.1:9/app', '--target=default=http://127.0.0.1:8']);
    const b = parseServeArgs(['--target=api=http://127.0.0.1:9/app', '--target', 'default=http://127.0.0.1:8', '--scaling', 'api=manual']);
    expect(a).toEqual(b);
    expect(a).toEqual({
      targets: { api: { scaling: 'manual', url: 'http://127.0.0.1:9/app' }, default: { scaling: 'automatic', url: 'http://127.0.0.1:8' } },
      data: '.pushq',
      memory: false,
      repair: false,
      durable: true,
      host: '127.0.0.1',
      port: 8123,
      grpcPort: 8124,
      drainSeconds: 10,
      connections: 128,
      allowHosts: [],
      allowOrigins: [],
      allowHttpTargets: [],
      allowReset: false,
      devServer: false,
      insecurePublic: false,
    });
    expect(usageError(SERVE, ['--target', 'nourl'])).toBe('--target wants NAME=URL, got "nourl"');
    expect(usageError(SERVE, ['--target=x=ftp://h/'])).toBe('--target x: only http and https URLs');
    expect(usageError(SERVE, ['--scaling', 'x=huge'])).toBe('--scaling wants NAME=automatic|basic|manual, got "x=huge"');
  });

  it('serve: a --target or --scaling NAME that no queue target or task routing can name is a usage error, not a setting never used', () => {
    // Before, `--target Worker=URL` was taken and shown in the startup line, while tasks for
    // service `worker` went to `default` (and `target: Worker` is refused in queue.yaml).
    const why = 'is not `service` or `version.service` in lower-case letters, digits and hyphens: no queue target or task routing can name it';
    expect(usageError(SERVE, ['--target', 'Worker=http://127.0.0.1:9'])).toBe(`--target Worker ${why}`);
    expect(usageError(SERVE, ['--target=my_svc=http://127.0.0.1:9'])).toBe(`--target my_svc ${why}`);
    expect(usageError(SERVE, ['--scaling', 'a.b.c=basic'])).toBe(`--scaling a.b.c ${why}`);
    expect(usageError(SERVE, ['--scaling', '-api=basic'])).toBe(`--scaling -api ${why}`);
    const ok = parseServeArgs(['--target', 'v2.api=http://127.0.0.1:9', '--scaling', 'batch-1=manual']);
    expect(ok?.targets).toEqual({ 'v2.api': { scaling: 'automatic', url: 'http://127.0.0.1:9' }, 'batch-1': { scaling: 'manual' } });
  });
});

describe('pushq --version', () => {
  it('prints the version of src/version.ts, which is package.json\'s, and exits 0; -V too', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(PUSHQ_VERSION).toBe(pkg.version);
    const [long, short] = await Promise.all([pushq('--version'), pushq('-V')]);
    expect(long).toEqual({ code: 0, stdout: `pushq ${PUSHQ_VERSION}\n`, stderr: '' });
    expect(short).toEqual(long);
  });

  it("is one of pushq's own flags, in its help; a value to it, or an unknown flag before the command, is a usage error", async () => {
    const [help, valued, unknown, none, typo] = await Promise.all([pushq('--help'), pushq('--version=yes'), pushq('--verbose', 'validate', QUEUE_YAML), pushq(), pushq('simulat', 'x.yaml')]);
    expect(help.stdout).toMatch(/^usage: pushq COMMAND \[ARGS\.\.\.\]\n {7}pushq --version\n/);
    expect(help.stdout).toMatch(/^ {2}-V, --version +print pushq's version and exit$/m);
    expect(valued).toMatchObject({ code: 2, stdout: '' });
    expect(valued.stderr).toMatch(/^pushq: --version takes no value\n\nusage: pushq COMMAND/);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^pushq: unknown option --verbose\n\nusage: pushq COMMAND/);
    expect([typo.code, typo.stderr.split('\n')[0]]).toEqual([2, 'pushq: unknown command simulat; did you mean simulate?']);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^pushq: no command given\n\nusage: pushq COMMAND/);
  });
});

describe('a reader that goes away', () => {
  /** Runs pushq with its stdout's reading end closed before it writes: its writes meet EPIPE. */
  async function closedStdout(...args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'pushq.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stderr };
  }

  it('leaves the exit status to the command (pushq ... | head -c 10): no EPIPE stack trace, 0 for a success, 1 or 3 for a failure', async () => {
    const BAD = join(dir, 'bad-queue.yaml');
    writeFileSync(BAD, 'queue:\n- name: q\n  rate: 5000/s\n');
    const [ok, invalid, assertion] = await Promise.all([
      closedStdout('simulate', SCENARIO, '--seeds', '2', '--json'),
      // validate writes between files: the reader is gone before the second, which fails.
      closedStdout('validate', QUEUE_YAML, BAD),
      closedStdout('simulate', SCENARIO, '--json', '--assert', 'q.retries == 0'),
    ]);
    expect(ok).toEqual({ code: 0, stderr: '' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(assertion.code).toBe(3);
    expect(assertion.stderr).toMatch(/^pushq simulate: assertion failed: q\.retries == 0/);
    expect(assertion.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});

describe('serve: the security flags', () => {
  const TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw';

  it('--allow-host and --allow-origin repeat, --auth-token and --insecure-public are single; --x=y is --x y', () => {
    const joined = parseServeArgs(['--allow-host=a.test', '--allow-origin=http://localhost:3000', '--allow-host=b.test', `--auth-token=${TOKEN}`, '--insecure-public', '--host=0.0.0.0']);
    const spaced = parseServeArgs(['--allow-host', 'a.test', '--allow-origin', 'http://localhost:3000', '--allow-host', 'b.test', '--auth-token', TOKEN, '--insecure-public', '--host', '0.0.0.0']);
    expect(joined).toEqual(spaced);
    expect(joined).toMatchObject({ host: '0.0.0.0', allowHosts: ['a.test', 'b.test'], allowOrigins: ['http://localhost:3000'], authToken: TOKEN, insecurePublic: true });
    expect(parseServeArgs([])).toMatchObject({ allowHosts: [], allowOrigins: [], insecurePublic: false });
    expect(parseServeArgs([])).not.toHaveProperty('authToken');
  });

  it.each([
    [['--auth-token', TOKEN, '--auth-token=other'], '--auth-token is given twice'],
    [['--auth-token'], '--auth-token needs a value'],
    [['--auth-token='], '--auth-token needs a value'],
    [['--allow-host'], '--allow-host needs a value'],
    [['--allow-origin', '--memory'], '--allow-origin needs a value (--memory is an option; for a value that starts with --, write --allow-origin=--memory)'],
    [['--insecure-public=yes'], '--insecure-public takes no value'],
  ])('refuses %j', (args, message) => {
    expect(usageError(SERVE, args)).toBe(message);
  });
});

describe('docs/serve.md', () => {
  it('serve --help gives --store as docs/serve.md does: a URL without a password, the password from PGPASSWORD or ~/.pgpass (ps shows a command line)', () => {
    const help = helpText(SERVE).replace(/\s+/g, ' ');
    expect(help).not.toContain('user:password@');
    expect(help).toContain('--store URL keep the log in PostgreSQL (postgres://user@host:port/db) instead of --data (docs/cluster.md); the password from PGPASSWORD or ~/.pgpass, not the URL');
  });

  it('its flags table lists every serve flag, with its value, in the table\'s order, and no other', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'serve.md'), 'utf8');
    const table = doc.slice(doc.indexOf('| option | meaning |'));
    const rows = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `(--[^`]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(Object.entries(SERVE.flags).map(([name, f]) => `--${name}${f.type === 'string' ? ` ${f.value}` : ''}`));
  });
});

/** Child processes: what a user sees. */
describe('each command, run', () => {
  const withoutWall = (s: string) => s.replace(/"wall_seconds":[\d.e-]+/, '');

  it('validate: --json in any place; an unknown flag and a value to --json are usage errors', async () => {
    const [before, after] = await Promise.all([pushq('validate', '--json', QUEUE_YAML), pushq('validate', QUEUE_YAML, '--json')]);
    expect(before).toEqual(after);
    expect(before.code).toBe(0);
    const [unknown, valued] = await Promise.all([pushq('validate', '--strict=yes', QUEUE_YAML), pushq('validate', `--json=${QUEUE_YAML}`)]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^pushq validate: unknown option --strict\n\nusage: pushq validate/);
    expect(valued).toMatchObject({ code: 2, stdout: '' });
    expect(valued.stderr).toMatch(/^pushq validate: --json takes no value\n\nusage: pushq validate/);
  });

  it('simulate: --seed=N --log=FILE is --seed N --log FILE; an unknown flag and a missing value are usage errors, nothing runs', async () => {
    const [l1, l2] = [join(dir, 'eq1.jsonl'), join(dir, 'eq2.jsonl')];
    const [joined, spaced] = await Promise.all([pushq('simulate', SCENARIO, '--seed=8', `--log=${l1}`, '--json'), pushq('simulate', SCENARIO, '--seed', '8', '--log', l2, '--json')]);
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.stdout).seed).toBe(8);
    expect(withoutWall(joined.stdout)).toBe(withoutWall(spaced.stdout));
    expect(readFileSync(l1).equals(readFileSync(l2))).toBe(true);
    const never = join(dir, 'never.jsonl');
    const [unknown, missing] = await Promise.all([pushq('simulate', SCENARIO, `--log=${never}`, '--sed', '8'), pushq('simulate', SCENARIO, `--log=${never}`, '--seed')]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^pushq simulate: unknown option --sed; did you mean --seed\?\n\nusage: pushq simulate/);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^pushq simulate: --seed needs a value\n\nusage: pushq simulate/);
    expect(existsSync(never)).toBe(false);
  });

  it('replay: --task=NAME --at=T is --task NAME --at T (it refused --x=y before); an unknown flag and a missing value are usage errors', async () => {
    const log = join(dir, 'replay.jsonl');
    expect((await pushq('simulate', SCENARIO, '--log', log)).code).toBe(0);
    const runs = await Promise.all([
      pushq('replay', log, '--task=t-3', '--json'),
      pushq('replay', log, '--task', 't-3', '--json'),
      pushq('replay', `--at=0.5`, log, '--queue=q'),
      pushq('replay', '--at', '0.5', log, '--queue', 'q'),
    ]);
    const [storyJoined, storySpaced, atJoined, atSpaced] = runs;
    expect(storyJoined!.code).toBe(0);
    expect(JSON.parse(storyJoined!.stdout)).toMatchObject({ task: 't-3', queue: 'q' });
    expect(storyJoined).toEqual(storySpaced);
    expect(atJoined!.code).toBe(0);
    expect(atJoined!.stdout).toContain('(state at 0.5s: --at 0.5 read as seconds since the first event)');
    expect(atJoined).toEqual(atSpaced);
    const [unknown, missing] = await Promise.all([pushq('replay', log, '--tsak=t-3'), pushq('replay', log, '--queue')]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^pushq replay: unknown option --tsak; did you mean --task\?\n\nusage: pushq replay/);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^pushq replay: --queue needs a value\n\nusage: pushq replay/);
  });

  it('serve: --port=0 --target=NAME=URL --scaling=NAME=KIND start the server the spaced form does; an unknown flag and a missing value exit 2 without starting', async () => {
    const target = 'default=http://127.0.0.1:9/app';
    const forms = [
      ['--memory', '--port=0', '--grpc-port=0', `--target=${target}`, '--scaling=default=basic', `--config=${QUEUE_YAML}`],
      ['--memory', '--port', '0', '--grpc-port', '0', '--target', target, '--scaling', 'default=basic', '--config', QUEUE_YAML],
    ];
    const data = join(dir, 'data-never');
    // Independent processes (each serve on ports of its own): started side by side.
    const [lines, unknown, missing] = await Promise.all([
      Promise.all(forms.map((args) => serveStartupLine(args))),
      pushq('serve', '--data', data, '--prot=0'),
      pushq('serve', '--data', data, '--port'),
    ]);
    forms.forEach((args, i) => expect(lines[i], args.join(' ')).toMatch(/ · targets default=http:\/\/127\.0\.0\.1:9\/app \(basic\) · queues default, q$/));
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^pushq serve: unknown option --prot; did you mean --port\?\n\nusage: pushq serve/);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^pushq serve: --port needs a value\n\nusage: pushq serve/);
    expect(existsSync(data)).toBe(false);
  });
});

/** Starts `pushq serve ARGS`, returns its startup line, stops it with SIGTERM and waits for exit 0. */
function serveStartupLine(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'pushq.js'), 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start\nstdout: ${out}\nstderr: ${err}`));
    }, 15_000);
    let line: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (line === undefined && out.includes('\n')) {
        line = out.slice(0, out.indexOf('\n'));
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (line !== undefined && code === 0) resolve(line);
      else reject(new Error(`serve exited ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}
