/**
 * Runs the real CLI, `node bin/pushq.js replay LOG --ui ...`, as a child process and finds the
 * dashboard's URL in its startup line; and records a log as a user would, with `pushq serve --data`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushq } from './cli.js';
import { CLI, ORPHAN_GUARD, ROOT, api, guardEnv, startServe, tracked } from './serve-process.js';
import type { Worker } from './worker.js';
import { EVENT_BOUND_MS } from './event-bound.js';

export interface ReplayUiProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
}

/**
 * Starts `pushq replay LOG --ui ARGS` (`env`: more environment, a test hook such as
 * PUSHQ_HEADERS_TIMEOUT_MS); rejects with its output when it exits before printing its URL.
 */
export async function startReplayUi(log: string, args: string[] = [], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<ReplayUiProcess> {
  const child = tracked(spawn(process.execPath, [...ORPHAN_GUARD, CLI, 'replay', log, '--ui', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...guardEnv(), ...env } }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // the caller never gets it, so could never stop it
      reject(new Error(`replay --ui did not start in ${timeoutMs} ms (killed)\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /dashboard (http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`replay --ui exited (${code}) before starting\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}

export const RECORDED_QUEUE_YAML = `
queue:
- name: orders
  rate: 20/s
  retry_parameters:
    task_retry_limit: 2
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.1
- name: mail
  rate: 10/s
`;

/** A task as the Cloud Tasks API takes it, its payload given as bytes. */
export function task(queue: string, id: string, uri: string, payload?: string | Buffer, scheduleTime?: string): Record<string, unknown> {
  const body = payload === undefined ? undefined : Buffer.from(payload).toString('base64');
  return {
    name: `projects/p/locations/l/queues/${queue}/tasks/${id}`,
    ...(scheduleTime === undefined ? {} : { scheduleTime }),
    appEngineHttpRequest: { relativeUri: uri, ...(body === undefined ? {} : { body }) },
  };
}

/**
 * Records a log with `pushq serve --data DIR`: orders (JSON payloads; three tasks that always get
 * 500 and give up after 3 attempts; one whose payload holds `needle-7731`), mail (text and binary
 * payloads), mail paused and resumed, a purge of later mail, one more task. Returns the log's path.
 */
export async function recordLog(dir: string, worker: Worker, configPath: string): Promise<string> {
  const data = join(dir, 'data');
  const serve = await startServe(['--config', configPath, '--data', data, '--target', `default=${worker.url}`], 60_000);
  try {
    const base = `${serve.api}`;
    const create = async (queue: string, t: Record<string, unknown>): Promise<void> => {
      const r = await api('POST', `${base}/${queue}/tasks`, { task: t });
      if (r.status !== 200) throw new Error(`create ${JSON.stringify(t)}: ${JSON.stringify(r.json)}`);
    };
    for (let i = 0; i < 12; i++) await create('orders', task('orders', `order-${i}`, `/orders/${i}`, JSON.stringify({ order: i, customer: i % 2 === 0 ? 'alice' : 'bob', note: i === 7 ? 'needle-7731 inside' : 'plain' })));
    for (let i = 0; i < 3; i++) await create('orders', task('orders', `doomed-${i}`, `/fail/${i}`, JSON.stringify({ order: 100 + i, customer: 'carol' })));
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/fail/')).length === 9 && rs.filter((r) => r.url.startsWith('/orders/')).length === 12, 15_000, 'orders done');
    expectOk(await api('POST', `${base}/mail:pause`, {}));
    for (let i = 0; i < 4; i++) await create('mail', task('mail', `note-${i}`, `/mail/${i}`, `Hello <b>friend</b> number ${i}`));
    await create('mail', task('mail', 'blob', '/mail/blob', Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x41, 0x42])));
    await new Promise((r) => setTimeout(r, 300));
    expectOk(await api('POST', `${base}/mail:resume`, {}));
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/mail/')).length === 5, EVENT_BOUND_MS, 'mail sent');
    // Sent is not done: the purge below must find the five succeeded, not in flight (it would
    // delete them too), however slow the machine. The service says when it has them.
    await until(async () => (await api('GET', `${serve.url}/pushq/dashboard.json`)).json.summary.mail.tasks.succeeded === 5, EVENT_BOUND_MS, 'the five mail tasks succeeded');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    for (let i = 0; i < 3; i++) await create('mail', task('mail', `later-${i}`, `/mail/later/${i}`, 'later', later));
    expectOk(await api('POST', `${base}/mail:purge`, {}));
    // One more after the purge, so the log goes on past it; then what is in flight settles.
    await create('mail', task('mail', 'after-purge', '/mail/after', 'after'));
    await worker.waitFor((rs) => rs.some((r) => r.url === '/mail/after' && r.answered === 200), EVENT_BOUND_MS, 'the task after the purge');
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  return join(data, 'events.log');
}

async function until(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function expectOk(r: { status: number; json: unknown }): void {
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${JSON.stringify(r.json)}`);
}

/** The retries example (examples/retries/flaky-worker.yaml) simulated to a log and served by `pushq replay --ui`. */
export interface FlakyReplay {
  dir: string;
  log: string;
  ui: ReplayUiProcess;
  /** The first task that gave up (`pushq replay --tasks gave-up --json`'s first). */
  doomed: { task: string; attempts: number };
  /** Stops the UI and removes the directory. */
  stop(): Promise<void>;
}

/** Simulates the retries example into a new temp directory named from `prefix`, and serves its log with `replay --ui`. */
export async function startFlakyReplay(prefix: string): Promise<FlakyReplay> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const log = join(dir, 'flaky.log');
  const r = await pushq(['simulate', join(ROOT, 'examples', 'retries', 'flaky-worker.yaml'), '--log', log]);
  if (r.code !== 0) throw new Error(`pushq simulate exited ${r.code}: ${r.stderr}`);
  const doomed = JSON.parse((await pushq(['replay', log, '--tasks', 'gave-up', '--json'])).stdout).tasks[0];
  const ui = await startReplayUi(log, ['--port', '0']);
  return {
    dir,
    log,
    ui,
    doomed,
    async stop() {
      ui.child.kill('SIGINT');
      await ui.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
