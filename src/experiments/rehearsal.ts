/**
 * A worker thread's rehearsal: a short run it makes once, before its first job, so that V8
 * optimizes the engine's hot functions with complete type feedback.
 *
 * Why: each worker thread is an isolate of its own and warms up its own JIT. Without a
 * rehearsal, its first job optimizes functions before the run has reached its rarer paths (a
 * bucket running dry, the concurrency cap, a retry after backoff, a give-up, an outage), then
 * deoptimizes and recompiles them when it does; the objects' hidden classes also settle during
 * that first job (a time field first holding a small integer, then a fraction), which throws
 * away the code compiled against them at the start of the second. Measured on a 100k-task
 * scenario, one isolate (bench/experiments.bench.mjs's scenario, pinned to one core):
 * first job 0.91–0.95 s and second 0.42–0.47 s without it; 0.70–0.76 s and 0.28–0.30 s after a
 * rehearsal of ~50 ms (TurboFan compiles in the first two jobs 211 → 110, deoptimizations
 * 51 → 12). Two threads each pay the warm-up at the same time, so it weighs on their speed-up.
 *
 * The rehearsal is 200 tasks on four queues made to take those paths within half a second of
 * virtual time, too short for V8 to optimize during it. It shares nothing with the jobs: its
 * simulation and log are its own and are dropped, so no job's result depends on it.
 */
import { parseScenario } from '../scenario/parse.js';
import type { Scenario } from '../scenario/types.js';
import type { RunJob } from './run-job.js';

const REHEARSAL_YAML = `
queue:
  - { name: open, rate: 200/s, bucket_size: 100, max_concurrent_requests: 200, retry_parameters: { task_retry_limit: 5 } }
  - { name: dry, rate: 20/s, bucket_size: 5, max_concurrent_requests: 3, retry_parameters: { task_retry_limit: 2, min_backoff_seconds: 0.01, max_backoff_seconds: 0.1 } }
  - { name: capped, rate: 500/s, bucket_size: 500, max_concurrent_requests: 2, retry_parameters: { task_retry_limit: 1 } }
  - { name: single, rate: 50/s, bucket_size: 1, retry_parameters: { task_retry_limit: 3, min_backoff_seconds: 0.05 } }
workload:
  - { queue: open, count: 50, rate: 400/s, arrivals: poisson }
  - { queue: dry, count: 50, rate: 400/s, arrivals: poisson }
  - { queue: capped, count: 50, rate: 400/s, arrivals: poisson }
  - { queue: single, count: 50, rate: 400/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 50ms, p99: 800ms }
  error_rate: 0.3
  timeout_rate: 0.02
  outages: [ { from: 0.2s, to: 0.4s, status: 503 } ]
`;

/** The rehearsal's scenario (its file name: "(rehearsal)"). */
async function rehearsalScenario(): Promise<Scenario> {
  const { scenario, issues } = await parseScenario(REHEARSAL_YAML, { file: '(rehearsal)' });
  if (scenario === null) throw new Error(`the rehearsal scenario is invalid: ${issues.map((i) => i.message).join('; ')}`);
  return scenario;
}

let parsed: Promise<RunJob> | undefined;

/**
 * The rehearsal as a job, parsed once per process. The pool posts it to each thread first, so it
 * reaches the thread as every job does (a structured clone) and meets the shapes the jobs have.
 */
export function rehearsalJob(): Promise<RunJob> {
  parsed ??= rehearsalScenario().then((scenario) => ({ scenario, seed: 1, file: '(rehearsal)' }));
  return parsed;
}
