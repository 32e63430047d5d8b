/**
 * Runs the real CLI, `node bin/pushq.js serve ...`, as a child process on port 0 and finds its API
 * URL in the startup line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'pushq.js');

/** `node` options for every long-running pushq process a test starts: it ends itself once the test's process is gone (orphan-guard.mjs). */
export const ORPHAN_GUARD = ['--import', join(import.meta.dirname, 'orphan-guard.mjs')];

/** The environment of a process started with ORPHAN_GUARD: it names this process as its parent. */
export function guardEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PUSHQ_TEST_PARENT_PID: String(process.pid) };
}

/** The processes started by startServe (and startReplayUi) that have not exited yet. */
const running = new Set<ChildProcess>();

/** Counts a child among the running ones until it exits. */
export function tracked(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** How many started processes are still running. */
export function runningProcesses(): number {
  return running.size;
}

/**
 * Kills (SIGKILL, after SIGCONT for one left stopped) every process started here that still runs,
 * whatever the test that started it did, and waits until each has exited: a teardown's last word.
 */
export async function killEveryStarted(): Promise<void> {
  const left = [...running];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGCONT');
          child.kill('SIGKILL');
        }),
    ),
  );
}

export interface ServeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The gRPC API's port (from the startup line). */
  grpcPort: number;
  /** Base of the queues API, with project p and location l. */
  api: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/**
 * How long a start (or a refused start's exit) is waited for by default. The wait ends at the event
 * (the startup line, or the exit), so the bound only says when to give up: a start takes 1-3 s,
 * but on CI's loaded 2-core machine (two test files side by side, PostgreSQL, load 13-20) one
 * process gets a tenth of a core, and 15 s was met (test/e2e/serve-repair: 'serve did not start
 * in 15000 ms'). The cluster's nodes were already given 60 s (cluster-harness.ts startNode).
 */
export const SERVE_START_BOUND_MS = 60_000;

/** `cwd`: the directory serve runs in (the repository's root unless given); `node`: more options of `node` itself (e.g. `--import`), `env` more variables. */
export async function startServe(args: string[], timeoutMs = SERVE_START_BOUND_MS, cwd = ROOT, extra: { node?: string[]; env?: Record<string, string> } = {}): Promise<ServeProcess> {
  // Port 0 unless the test picks one (a flag given twice is a usage error).
  const port = args.some((a) => a === '--port' || a.startsWith('--port=')) ? [] : ['--port', '0'];
  // The gRPC port too: tests run side by side, and its default (8124) would be shared.
  if (!args.some((a) => a === '--grpc-port' || a.startsWith('--grpc-port='))) port.push('--grpc-port', '0');
  const child = tracked(spawn(process.execPath, [...ORPHAN_GUARD, ...(extra.node ?? []), CLI, 'serve', ...port, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...guardEnv(), ...extra.env } }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not started in time: the caller never gets the process, so it could never stop it.
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms (killed)\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /API (http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before starting\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  const grpcPort = Number(/ · gRPC \S+:(\d+) · /.exec(out)?.[1] ?? NaN);
  return { child, url, grpcPort, api: `${url}/v2/projects/p/locations/l/queues`, stdout: () => out, stderr: () => err, exited };
}

/** JSON request to the API; returns status and parsed body. */
export async function api(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) };
}
