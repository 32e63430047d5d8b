/**
 * The worker thread of config-thread.ts: reads and validates one queue file (loadQueueConfigFile,
 * every check and every issue as the calling thread would have them) and posts the result, which
 * is plain data, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadQueueConfigFile } from '../config/load.js';
import type { ConfigResult } from '../config/types.js';

export interface ConfigJob {
  path: string;
}

export type ConfigMessage = { ok: true; result: ConfigResult } | { ok: false; error: { name: string; message: string } };

const port = parentPort;
if (port === null) throw new Error('config-worker.js runs as a worker thread of config-thread.ts');
const job = workerData as ConfigJob;

let message: ConfigMessage;
try {
  message = { ok: true, result: await loadQueueConfigFile(job.path) };
} catch (err) {
  // loadQueueConfigFile answers a bad file with issues; what lands here is a bug, said as it is.
  const e = err instanceof Error ? err : new Error(String(err));
  message = { ok: false, error: { name: e.name, message: e.message } };
}
port.postMessage(message);
