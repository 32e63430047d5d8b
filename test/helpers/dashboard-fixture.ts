/**
 * What a dashboard test stands on, set up once for its file and torn down after it however its
 * tests ended (passed, failed, timed out, or a set-up that failed half way): a scratch directory
 * with the file's queue.yaml, a worker (worker.ts), `pushq serve` on them (serve-process.ts), a
 * log recorded by `pushq serve --data` (replay-ui-process.ts recordLog) for the replay tests, and
 * Chromium (chromium.ts). A file asks for the parts it uses; each is made at most once.
 *
 * The teardown closes the browser, stops the service (SIGTERM; SIGKILL if it has not exited within
 * STOP_GRACE_MS) and the worker, then kills every process the file started and still running (a
 * service or replay UI a failed test left, one still starting), and removes the directory. Every
 * step runs even when one before it failed; the first failure is thrown once all have run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromiumDuring } from './chromium.js';
import { recordLog } from './replay-ui-process.js';
import { killEveryStarted, startServe, type ServeProcess } from './serve-process.js';
import { startWorker, type Respond, type Worker } from './worker.js';

/** How long a service is given to end on SIGTERM at teardown before it is killed. */
const STOP_GRACE_MS = 10_000;

export interface DashboardFixture {
  /** The scratch directory (removed at teardown). */
  readonly dir: string;
  /** Its queue.yaml's path. */
  readonly queueYaml: string;
  readonly worker: Worker;
  /** `pushq serve`; a test that starts it again (same port, same data) puts the new one here, and that one is stopped. */
  serve: ServeProcess;
  /** The log recorded by `pushq serve --data` (recordLog), when asked for. */
  readonly log: string;
  readonly browser: Browser;
}

export interface DashboardParts {
  /** The text of queue.yaml, written in the directory. */
  queueYaml: string;
  /** How the worker answers (worker.ts Respond): every request 200 unless given; 'none': no worker. */
  worker?: Respond | 'none';
  /** `pushq serve`'s arguments, made from the fixture (serveInMemory unless given); 'none': no service. */
  serve?: ((fx: DashboardFixture) => string[]) | 'none';
  /** How long `pushq serve` may take to print its URL. */
  serveStartMs?: number;
  /** Record a log with `pushq serve --data` on the worker (replay-ui-process.ts recordLog), as fx.log. */
  recordLog?: boolean;
  /** Chromium, launched while the rest is set up; 'none': no browser. */
  browser?: 'chromium' | 'none';
}

/** `pushq serve` on the fixture's queue.yaml, in memory, every task sent to its worker; `flags` more. */
export function serveInMemory(...flags: string[]): (fx: DashboardFixture) => string[] {
  return (fx) => ['--config', fx.queueYaml, '--memory', '--target', `default=${fx.worker.url}`, ...flags];
}

/**
 * Registers the file's beforeAll and afterAll for the parts asked for; the directory is named from
 * `prefix` (mkdtemp). The fields are set once beforeAll has run (a part not asked for is unset).
 */
export function dashboardFixture(prefix: string, parts: DashboardParts): DashboardFixture {
  const fx = {} as { -readonly [K in keyof DashboardFixture]: DashboardFixture[K] };
  beforeAll(async () => {
    const setUp = async (): Promise<void> => {
      fx.dir = await mkdtemp(join(tmpdir(), prefix));
      fx.queueYaml = join(fx.dir, 'queue.yaml');
      await writeFile(fx.queueYaml, parts.queueYaml);
      if (parts.worker !== 'none') fx.worker = await startWorker(parts.worker);
      // The log is recorded and the service started side by side: neither needs the other.
      const started = await Promise.allSettled([
        parts.recordLog === true ? recordLog(fx.dir, fx.worker, fx.queueYaml).then((log) => (fx.log = log)) : undefined,
        parts.serve === 'none' ? undefined : startServe((parts.serve ?? serveInMemory())(fx), parts.serveStartMs).then((serve) => (fx.serve = serve)),
      ]);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
    };
    if (parts.browser === 'none') await setUp();
    else fx.browser = await launchChromiumDuring('the dashboard test', setUp);
  }, 120_000);
  afterAll(async () => {
    const failures: unknown[] = [];
    const step = async (what: () => Promise<unknown> | undefined): Promise<void> => {
      try {
        await what();
      } catch (error) {
        failures.push(error);
      }
    };
    await step(() => fx.browser?.close());
    await step(() => (fx.serve === undefined ? undefined : stopServe(fx.serve)));
    await step(() => fx.worker?.close());
    await step(() => killEveryStarted());
    await step(() => (fx.dir === undefined ? undefined : rm(fx.dir, { recursive: true, force: true })));
    if (failures.length > 0) throw failures[0];
  }, 60_000);
  return fx;
}

/** SIGTERM, and SIGKILL once STOP_GRACE_MS have passed without an exit; resolves when it has exited. */
async function stopServe(serve: ServeProcess): Promise<void> {
  serve.child.kill('SIGTERM');
  const killer = setTimeout(() => serve.child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await serve.exited;
  } finally {
    clearTimeout(killer);
  }
}
