/**
 * A pool of worker threads running an experiment's runs (node:worker_threads; a queue of jobs,
 * at most `jobs` threads, each running one job at a time). The runs are independent and CPU
 * bound: one thread per core runs them about `cores` times as fast as one.
 *
 * Invariants:
 * - A thread holds one run at a time and keeps nothing between runs (the run keeps no event log:
 *   run-job.ts), so memory is bounded per thread by one run's state. `memoryLimitMb` caps it.
 * - A job whose thread dies (an uncaught error, its memory limit, an exit) is rejected with
 *   SeedRunError `WORKER_CRASHED` naming its seed; a run that stops with an error is rejected
 *   with `RUN_FAILED`. The thread is replaced for the jobs after it.
 * - `close()` terminates every thread; the owner calls it when done (the library does, always).
 * - Each thread runs the rehearsal (rehearsal.ts) before its first job; its outcome is dropped.
 *   Threads start at once; jobs wait until the rehearsal's scenario is parsed, so every thread
 *   gets it first.
 * - A thread runs the bundled worker (dist/bundle/seed-worker.js, one file) when the build has it.
 */
import { availableParallelism } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { bundledWorkerScript } from '../log/worker-script.js';
import { SeedRunError } from './errors.js';
import { rehearsalJob } from './rehearsal.js';
import type { RunJob, RunOutcome } from './run-job.js';
import type { JobMessage, ResultMessage } from './seed-worker.js';

export interface PoolOptions {
  /** Threads at most; default one per core (`os.availableParallelism()`). */
  jobs?: number;
  /** Each thread's heap limit (V8's old generation), MiB; default Node's. */
  memoryLimitMb?: number;
}

/**
 * Each thread's young generation, MiB (V8 sizes it as three semi-spaces: 2 MiB each here, against
 * Node's 16). A run's garbage is short-lived, so a small nursery collects as much per scavenge,
 * and two threads streaming a small nursery each through the cores' shared caches slow each other
 * less: 30 seeds on two threads took 4.61–4.80 s against 4.79–5.11 s with the default (alternated
 * runs), while one thread alone was unchanged (bench/experiments.bench.mjs, 2026-12-06).
 */
const YOUNG_GENERATION_MB = 6;

/** The id of a thread's rehearsal message; jobs count from 0. */
const REHEARSAL_ID = -1;

/** The cores the pool may use: its default thread count, and the most `jobs` may be. */
export function coreCount(): number {
  return availableParallelism();
}


interface Pending {
  id: number;
  job: RunJob;
  resolve: (outcome: RunOutcome) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  current: Pending | null;
}

export class RunPool {
  readonly jobs: number;
  private readonly memoryLimitMb: number | undefined;
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;
  /** The rehearsal job, once parsed; until then nothing is dispatched. */
  private rehearsal: RunJob | undefined;
  private broken: Error | undefined;

  constructor(options: PoolOptions = {}) {
    this.jobs = options.jobs ?? coreCount();
    if (!(Number.isInteger(this.jobs) && this.jobs >= 1)) throw new RangeError(`jobs must be a whole number ≥ 1, got ${this.jobs}`);
    this.memoryLimitMb = options.memoryLimitMb;
    void rehearsalJob().then(
      (job) => {
        this.rehearsal = job;
        for (const thread of this.threads) thread.worker.postMessage({ id: REHEARSAL_ID, job } satisfies JobMessage);
        this.dispatch();
      },
      (error: unknown) => {
        // Cannot happen with the fixed scenario (a test runs it); if it does, every job says so.
        this.broken = error instanceof Error ? error : new Error(String(error));
        for (const p of this.queue.splice(0)) p.reject(this.broken);
      },
    );
  }

  /** Runs `job` on the first free thread. */
  run(job: RunJob): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new Error('the run pool is closed'));
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates every thread; jobs not yet run are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('the run pool was closed'));
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    if (this.rehearsal === undefined) {
      // Start the threads while the rehearsal is parsed: a thread takes longer to start.
      while (this.threads.length < Math.min(this.jobs, this.queue.length)) this.spawn();
      return;
    }
    while (this.queue.length > 0) {
      let thread = this.threads.find((t) => t.current === null);
      if (thread === undefined) {
        if (this.threads.length >= this.jobs) return;
        thread = this.spawn();
      }
      const pending = this.queue.shift() as Pending;
      thread.current = pending;
      thread.worker.postMessage({ id: pending.id, job: pending.job } satisfies JobMessage);
    }
  }

  /** A new thread; it gets the rehearsal first (now, or when it is parsed: see the constructor). */
  private spawn(): Thread {
    const resourceLimits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    if (this.memoryLimitMb !== undefined) resourceLimits.maxOldGenerationSizeMb = this.memoryLimitMb;
    const options = { resourceLimits };
    const worker = new Worker(bundledWorkerScript(import.meta.url, 'experiments', 'seed-worker.js'), options);
    const thread: Thread = { worker, current: null };
    if (this.rehearsal !== undefined) worker.postMessage({ id: REHEARSAL_ID, job: this.rehearsal } satisfies JobMessage);
    worker.on('message', (message: ResultMessage) => {
      if (message.id === REHEARSAL_ID) return;
      const pending = thread.current;
      if (pending === null || pending.id !== message.id) return;
      thread.current = null;
      if (message.ok) pending.resolve(message.outcome);
      else pending.reject(new SeedRunError('RUN_FAILED', pending.job.seed, pending.job.file, pending.job.setting ?? null, `${message.error.message}${message.error.code === null ? '' : ` (${message.error.code})`}`, message.error.code));
      this.dispatch();
    });
    const died = (reason: string): void => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      const pending = thread.current;
      thread.current = null;
      if (pending !== null) pending.reject(new SeedRunError('WORKER_CRASHED', pending.job.seed, pending.job.file, pending.job.setting ?? null, reason));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (error) => died(error instanceof Error ? error.message : String(error)));
    worker.on('exit', (code) => died(`the thread exited with code ${code}`));
    this.threads.push(thread);
    return thread;
  }
}
