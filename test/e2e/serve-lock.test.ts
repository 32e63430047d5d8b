/**
 * One server per data directory, with the real CLI: a second `pushq serve` on the same --data
 * exits 1 naming the directory and the holder's pid while the first keeps serving; after kill -9
 * of the first, a new start takes the stale lock over and finds the tasks created before; a clean
 * stop removes the lock; --memory takes none.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, ROOT, SERVE_START_BOUND_MS, api, startServe, type ServeProcess } from '../helpers/serve-process.js';

let dir: string | undefined;
const children: ServeProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `pushq serve ...` expecting it to exit by itself; kills it after `timeoutMs` (a failure). */
function serveToExit(args: string[], timeoutMs = SERVE_START_BOUND_MS): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--grpc-port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    }),
  );
}

it('refuses a second server on the same data directory; after kill -9 the next start takes the lock over', async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-lock-e2e-'));
  const data = join(dir, 'data');
  const lockFile = join(data, 'lock');
  const first = await startServe(['--data', data]);
  children.push(first);
  const lock = JSON.parse(await readFile(lockFile, 'utf8'));
  expect(lock.pid).toBe(first.child.pid);
  expect(lock.port).toBe(Number(new URL(first.url).port));

  // A task due tomorrow: it stays put, whatever the targets.
  const taskName = 'projects/p/locations/l/queues/default/tasks/before-the-crash';
  const created = await api('POST', `${first.api}/default/tasks`, { task: { name: taskName, scheduleTime: new Date(Date.now() + 86_400_000).toISOString(), appEngineHttpRequest: { relativeUri: '/x' } } });
  expect(created.status).toBe(200);

  const second = await serveToExit(['--data', data]);
  expect(second.code).toBe(1);
  expect(second.stdout).toBe('');
  expect(second.stderr).toBe(
    `pushq serve: cannot open the data directory ${data}: in use by pushq serve pid ${first.child.pid} (port ${lock.port}), started ${lock.startedAt}; ` +
      `stop that server first (kill ${first.child.pid}), or give another --data directory (DATA_DIR_LOCKED)\n`,
  );
  // The first is untouched: still serving, still the holder.
  expect((await fetch(`${first.url}/pushq/health`)).status).toBe(200);
  expect(JSON.parse(await readFile(lockFile, 'utf8'))).toEqual(lock);

  // --memory takes no lock, so it starts beside the first.
  const memory = await startServe(['--memory']);
  children.push(memory);
  memory.child.kill('SIGTERM');
  expect(await memory.exited).toBe(0);
  expect(JSON.parse(await readFile(lockFile, 'utf8'))).toEqual(lock);

  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(first.child.pid); // left behind

  const third = await startServe(['--data', data]);
  children.push(third);
  expect(third.stderr()).toContain(`pushq serve: took over ${lockFile}: it held the lock of pid ${first.child.pid}`);
  expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(third.child.pid);
  const got = await api('GET', `${third.api}/default/tasks/before-the-crash`);
  expect(got.status).toBe(200);
  expect(got.json.name).toBe(taskName);

  // A clean stop releases the lock.
  third.child.kill('SIGTERM');
  expect(await third.exited).toBe(0);
  expect(await readdir(data)).toEqual(['events.log']);
}, 120_000);
