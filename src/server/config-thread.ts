/**
 * A running service's reload reads its queue file on a worker thread (config-worker.ts), so the
 * event loop goes on answering requests and dispatching while the file is parsed and validated:
 * the `yaml` parser alone takes about a second on a 5 MiB file (bench/scenario.bench.mjs,
 * `large`), and for that long a service that parsed on its own thread answered nothing — not even
 * /pushq/health — and a kept-alive connection could be reset when the loop came back (its idle
 * timer, overdue, fired before its request was read).
 *
 * The result is the same ConfigResult, issues and positions included, as loadQueueConfigFile's on
 * the calling thread: only plain data crosses. One thread per read, ended when it has answered;
 * reloads are rare, and a thread kept for them would hold its memory for the service's life.
 * The thread does not keep the process alive: a service that stops mid-read need not wait for it.
 *
 * A start reads its file on the main thread (loadQueueConfigFile): there is nothing to answer yet.
 */
import { Worker } from 'node:worker_threads';
import type { ConfigResult } from '../config/types.js';
import { bundledWorkerScript } from '../log/worker-script.js';
import type { ConfigJob, ConfigMessage } from './config-worker.js';

/** loadQueueConfigFile(path), on a worker thread. Rejects only when the thread fails (it never does for a bad file: that is an invalid result). */
export function loadQueueConfigFileOffThread(path: string): Promise<ConfigResult> {
  const job: ConfigJob = { path };
  const worker = new Worker(bundledWorkerScript(import.meta.url, 'server', 'config-worker.js'), { workerData: job });
  worker.unref();
  return new Promise<ConfigResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      outcome();
    };
    worker.on('message', (m: ConfigMessage) =>
      settle(() => {
        if (m.ok) resolve(m.result);
        else reject(Object.assign(new Error(`reading ${path}: ${m.error.message}`), { name: m.error.name }));
      }),
    );
    worker.on('error', (err) => settle(() => reject(new Error(`reading ${path}: the queue file reader's thread failed: ${err.message}`))));
    worker.on('exit', (code) => settle(() => reject(new Error(`reading ${path}: the queue file reader's thread stopped (exit ${code}) before answering`))));
  });
}
