/**
 * A worker thread of the run pool (pool.ts): runs one job at a time and posts its outcome back.
 * A run that stops with an error is answered as an error (the pool names its seed); anything
 * that kills the thread is seen by the pool as a crash of the job it was running.
 */
import { parentPort } from 'node:worker_threads';
import { runJob, type RunJob } from './run-job.js';

export interface JobMessage {
  id: number;
  job: RunJob;
}

export type ResultMessage =
  | { id: number; ok: true; outcome: ReturnType<typeof runJob> }
  | { id: number; ok: false; error: { name: string; message: string; code: string | null } };

const port = parentPort;
if (port === null) throw new Error('seed-worker.js runs as a worker thread of the experiments pool');
port.on('message', (message: JobMessage) => {
  let reply: ResultMessage;
  try {
    reply = { id: message.id, ok: true, outcome: runJob(message.job) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = (e as { code?: unknown }).code;
    reply = { id: message.id, ok: false, error: { name: e.name, message: e.message, code: typeof code === 'string' ? code : null } };
  }
  // A run's series is moved, not copied: its buffer belongs to the main thread from here.
  const series = reply.ok ? reply.outcome.series : null;
  port.postMessage(reply, series === null ? [] : [series.data.buffer]);
});
