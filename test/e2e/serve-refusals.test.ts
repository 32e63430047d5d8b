/**
 * What users hit, through the real CLI (`node bin/pushq.js`): `pushq serve` on a busy port (HTTP
 * or gRPC) or on a public address without a token fails with one message that says what to do and
 * leaves the data directory as it was; `pushq simulate queue.yaml` says it was given a queue file; and the curl
 * examples of README.md, docs/serve.md and examples/serve/README.md, run as written with curl,
 * work against a real server (they send JSON, which the API requires).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { ROOT, startServe, type ServeProcess } from '../helpers/serve-process.js';

let dir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-refusals-'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => busy?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pushq serve refuses to start, and leaves the data directory as it was', () => {
  it('on a busy port: exit 1, a message suggesting --port 0, no data directory left behind', async () => {
    const data = join(dir, 'fresh', 'nested');
    const r = await pushq(['serve', '--port', String(busyPort), '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pushq serve: cannot start: port ${busyPort} on 127.0.0.1 is in use by another process`);
    expect(r.stderr).toContain('--port 0 picks a free one');
    expect(r.stderr.trim()).toMatch(/\(PORT_IN_USE\)$/);
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
  });

  it('on a busy port, HTTP or gRPC: pushq\'s PORT_IN_USE line naming the flag, and nothing else on stderr (no line of grpc-js\'s own)', async () => {
    for (const [flag, args] of [
      ['--port', ['--port', String(busyPort), '--grpc-port', '0']],
      ['--grpc-port', ['--port', '0', '--grpc-port', String(busyPort)]],
    ] as const) {
      const r = await pushq(['serve', ...args, '--memory']);
      expect(r.code, flag).toBe(1);
      expect(r.stdout, flag).toBe('');
      expect(r.stderr, flag).toBe(`pushq serve: cannot start: port ${busyPort} on 127.0.0.1 is in use by another process: stop it, or choose another port with ${flag} N (${flag} 0 picks a free one) (PORT_IN_USE)\n`);
    }
  });

  it('on a busy port with an empty data directory that exists: it stays empty', async () => {
    const data = join(dir, 'empty');
    await mkdir(data);
    const r = await pushq(['serve', '--port', String(busyPort), '--data', data]);
    expect(r.code).toBe(1);
    expect(readdirSync(data)).toEqual([]);
  });

  it('on a busy port with a data directory that holds a log: the log is kept, unchanged', async () => {
    const data = join(dir, 'used');
    const first = await startServe(['--data', data]);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const log = readFileSync(join(data, 'events.log'));
    const r = await pushq(['serve', '--port', String(busyPort), '--data', data]);
    expect(r.code).toBe(1);
    expect(readdirSync(data)).toEqual(['events.log']);
    expect(readFileSync(join(data, 'events.log'))).toEqual(log);
  });

  it('on a public address without --auth-token: exit 1, the reason and the two ways out, nothing bound or written', async () => {
    const data = join(dir, 'public');
    const r = await pushq(['serve', '--host', '0.0.0.0', '--port', String(busyPort), '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--host 0.0.0.0 is not a loopback address');
    expect(r.stderr).toContain('--auth-token TOKEN');
    expect(r.stderr).toContain('--insecure-public');
    expect(r.stderr.trim()).toMatch(/\(UNPROTECTED_PUBLIC_BIND\)$/);
    expect(r.stderr).not.toContain('PORT_IN_USE'); // refused before binding
    expect(existsSync(data)).toBe(false);
  });
});

describe('the security flags reach the service', () => {
  const TOKEN = 'e2e-token-0123456789abcdef';

  it('--host 0.0.0.0 --auth-token: starts; requests need the token; --allow-host and --allow-origin are honoured', async () => {
    const serve = await startServe(['--memory', '--host', '0.0.0.0', '--auth-token', TOKEN, '--allow-host', 'pushq.test', '--allow-origin', 'http://localhost:3000']);
    try {
      const port = new URL(serve.url).port;
      const api = `http://127.0.0.1:${port}/v2/projects/-/locations/-/queues`;
      expect((await fetch(api)).status).toBe(401);
      const auth = { authorization: `Bearer ${TOKEN}` };
      expect((await fetch(api, { headers: auth })).status).toBe(200);
      const status = (headers: Record<string, string>) => rawStatus(Number(port), headers);
      expect(await status({ host: `pushq.test:${port}`, ...auth })).toBe(200);
      expect(await status({ host: `evil.example:${port}`, ...auth })).toBe(403);
      const create = (origin: string) =>
        fetch(`${api}/default:pause`, { method: 'POST', headers: { ...auth, origin, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status);
      expect(await create('http://localhost:3000')).toBe(200);
      expect(await create('http://evil.example')).toBe(403);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });

  it('--auth-token-file: the token read from a file (its line end not part of it), off the command line; requests need it', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const serve = await startServe(['--memory', '--host', '0.0.0.0', '--auth-token-file', file]);
    try {
      const api = `http://127.0.0.1:${new URL(serve.url).port}/v2/projects/-/locations/-/queues`;
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(api, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(api, { headers: { authorization: `Bearer ${TOKEN.slice(1)}` } })).status).toBe(401);
      // Not on the command line, where `ps` shows it to every local user.
      expect(readFileSync(`/proc/${serve.child.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });

  it('--auth-token-file that group or others may read: starts, and says so once, naming the file and the chmod; a 0600 file: not a word', async () => {
    const file = join(dir, 'token-shared');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o644);
    // A target, so that stderr holds only the token file's warning (with none, serve warns that every App Engine attempt fails).
    const serve = await startServe(['--memory', '--auth-token-file', file, '--target', 'default=http://127.0.0.1:9/']);
    try {
      const api = `${serve.url}/v2/projects/-/locations/-/queues`;
      expect((await fetch(api, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      const warning = `pushq serve: warning: --auth-token-file ${file} is open to group or others (mode 0644), who can read the token in it and call the API with it: chmod 600 ${file}\n`;
      expect(serve.stderr()).toBe(warning);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    chmodSync(file, 0o600);
    const quiet = await startServe(['--memory', '--auth-token-file', file, '--target', 'default=http://127.0.0.1:9/']);
    try {
      expect((await fetch(`${quiet.url}/pushq/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect(quiet.stderr()).toBe('');
    } finally {
      quiet.child.kill('SIGTERM');
      await quiet.exited;
    }
  });

  it('--auth-token-file that cannot be read, or holds no good token: exit 1 naming the flag and the file, nothing written; with --auth-token: a usage error', async () => {
    const data = join(dir, 'token-refused');
    const missing = join(dir, 'no-such-token');
    const r = await pushq(['serve', '--port', '0', '--data', data, '--auth-token-file', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`pushq serve: cannot start: --auth-token-file ${missing}: cannot read it: no such file (AUTH_TOKEN_FILE_UNREADABLE)\n`);
    const short = join(dir, 'short-token');
    writeFileSync(short, 'abc def\n');
    const bad = await pushq(['serve', '--port', '0', '--data', data, '--auth-token-file', short]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`--auth-token-file ${short}: the token in it must be at least 16 characters`);
    expect(bad.stderr.trim()).toMatch(/\(AUTH_TOKEN_INVALID\)$/);
    expect(existsSync(data)).toBe(false);
    const both = await pushq(['serve', '--memory', '--auth-token', TOKEN, '--auth-token-file', short]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--auth-token and --auth-token-file cannot be combined');
  });

  it('--host 0.0.0.0 --insecure-public: starts with no token', async () => {
    const serve = await startServe(['--memory', '--host', '0.0.0.0', '--insecure-public']);
    try {
      const port = new URL(serve.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/pushq/health`)).status).toBe(200);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });
});

/** A GET with exactly these headers (fetch cannot set Host). */
function rawStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/pushq/health', headers, setHost: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pushq simulate', () => {
  it('given a queue file where a scenario is expected, says so (exit 1, nothing run)', async () => {
    const r = await pushq(['simulate', 'examples/serve/queue.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('examples/serve/queue.yaml is a queue file (queue.yaml), not a scenario: a scenario adds tasks with workload:');
    expect(r.stderr).toContain('pushq serve --config examples/serve/queue.yaml (queue-file-not-scenario)');
    expect(r.stdout).toBe('');
  });
});

describe('the curl examples, run as written', () => {
  let serve: ServeProcess;
  beforeAll(async () => {
    serve = await startServe(['--memory', '--config', 'examples/serve/queue.yaml']);
  });
  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
  });

  /** The curl lines of a document's sh blocks, with their API= line. */
  function curlBlocks(file: string): string[] {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => block.includes('curl '));
  }

  it.each(['README.md', 'docs/serve.md', 'examples/serve/README.md'])('%s', async (file) => {
    const blocks = curlBlocks(file);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      // Every request with a body says it is JSON.
      for (const line of block.split('\n').filter((l) => /\bcurl\b.* -d /.test(l))) expect(line, file).toContain("-H 'Content-Type: application/json'");
      // Against this server: its port instead of 8123; each curl fails on an HTTP error (-f) and prints the status.
      const script = `set -e\n${block.replaceAll('http://127.0.0.1:8123', serve.url).replaceAll('curl -s ', 'curl -sS -f -o /dev/null -w "%{http_code}\\n" ')}`;
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { cwd: ROOT });
      const statuses = stdout.trim().split('\n');
      expect(statuses.length).toBeGreaterThan(1);
      for (const s of statuses) expect(s, `${file}: ${stdout}`).toBe('200');
    }
  });
});
