/**
 * A modelled worker service (simulation): how long handlers take, how often they answer with an
 * error or not at all, when the service is down, and per-route or per-target differences.
 * Every draw comes from the simulation's seeded streams (src/engine/streams.ts), keyed by the
 * task and the attempt number, in fixed slots (no answer, error, latency): attempt n of task i
 * draws the same whatever happened before it, so a run is repeatable and two configurations of
 * the same scenario meet the same outcomes (common random numbers).
 */
import { US_PER_MS, type Micros } from '../core/time.js';
import { copyAttemptRequest, NO_ANSWER, type AttemptRequest, type ModelledOutcome } from '../core/attempt.js';
import type { Prng } from '../engine/prng.js';
import { AttemptDraws, ATTEMPT_SLOT, SequenceStream, STREAM_PURPOSE } from '../engine/streams.js';
import type { ModelledWorker } from '../engine/virtual-driver.js';

export type LatencyModel =
  | { distribution: 'constant'; valueUs: Micros }
  | { distribution: 'uniform'; minUs: Micros; maxUs: Micros }
  | { distribution: 'exponential'; meanUs: Micros }
  | { distribution: 'lognormal'; p50Us: Micros; p99Us: Micros };

export interface WorkerBehaviour {
  latency: LatencyModel;
  /** Fraction of answered attempts that get `errorStatus`. */
  errorRate: number;
  errorStatus: number;
  /** Fraction of attempts that never answer: the deadline fails them. */
  timeoutRate: number;
}

export interface Outage {
  fromUs: Micros;
  toUs: Micros;
  /** Answered at once with this status; null = no answer (deadline). */
  status: number | null;
}

/** Overrides for requests whose URL starts with `prefix` and/or that go to `target`. */
export interface WorkerRoute extends Partial<WorkerBehaviour> {
  prefix?: string;
  target?: string;
}

export interface WorkerModel extends WorkerBehaviour {
  outages: Outage[];
  routes: WorkerRoute[];
}

export const DEFAULT_WORKER: WorkerModel = Object.freeze({
  latency: { distribution: 'constant', valueUs: 100 * US_PER_MS },
  errorRate: 0,
  errorStatus: 500,
  timeoutRate: 0,
  outages: [],
  routes: [],
}) as WorkerModel;

/** z such that P(N(0,1) ≤ z) = 0.99 */
const Z99 = 2.3263478740408408;

export function sampleLatency(model: LatencyModel, prng: Prng): Micros {
  switch (model.distribution) {
    case 'constant':
      return model.valueUs;
    case 'uniform':
      return Math.round(model.minUs + (model.maxUs - model.minUs) * prng.next());
    case 'exponential':
      return Math.round(-model.meanUs * Math.log(1 - prng.next()));
    case 'lognormal': {
      const mu = Math.log(model.p50Us);
      return lognormal(mu, (Math.log(model.p99Us) - mu) / Z99, prng);
    }
  }
}

/** One lognormal draw, µs: Box–Muller; 1 - u keeps log() away from 0. */
function lognormal(mu: number, sigma: number, prng: Prng): Micros {
  const u1 = 1 - prng.next();
  const u2 = prng.next();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.round(Math.exp(mu + sigma * z));
}

/**
 * `sampleLatency` for one model, with its constants worked out once (a lognormal's μ and σ cost
 * two logarithms per attempt otherwise). Same operations in the same order: the same values.
 */
export function latencySampler(model: LatencyModel): (prng: Prng) => Micros {
  if (model.distribution !== 'lognormal') return (prng) => sampleLatency(model, prng);
  const mu = Math.log(model.p50Us);
  const sigma = (Math.log(model.p99Us) - mu) / Z99;
  return (prng) => lognormal(mu, sigma, prng);
}

function behaviourFor(model: WorkerModel, request: AttemptRequest): WorkerBehaviour {
  if (model.routes.length === 0) return model;
  let best: WorkerRoute | undefined;
  let bestLength = -1;
  for (const route of model.routes) {
    if (route.target !== undefined && route.target !== request.target) continue;
    if (route.prefix !== undefined && !request.url.startsWith(route.prefix)) continue;
    const length = route.prefix?.length ?? 0;
    if (length > bestLength) {
      best = route;
      bestLength = length;
    }
  }
  return best ? { ...model, ...definedOnly(best) } : model;
}

function definedOnly(route: WorkerRoute): Partial<WorkerBehaviour> {
  const out: Partial<WorkerBehaviour> = {};
  if (route.latency !== undefined) out.latency = route.latency;
  if (route.errorRate !== undefined) out.errorRate = route.errorRate;
  if (route.errorStatus !== undefined) out.errorStatus = route.errorStatus;
  if (route.timeoutRate !== undefined) out.timeoutRate = route.timeoutRate;
  return out;
}

/** The modelled worker, drawing attempt n of task i from the streams of `seed` (slot by slot). */
export function modelledDispatcher(model: WorkerModel, seed: number): ModelledWorker {
  const sampleDefault = latencySampler(model.latency);
  const draws = new AttemptDraws(seed);
  return {
    answer(request: AttemptRequest, out: ModelledOutcome): void {
      const b = behaviourFor(model, request);
      const d = draws.reset(request.id, request.retryCount + 1);
      // A rate of 0 reads no slot (never true anyway): the draws the run needs are the only ones made.
      const noAnswer = b.timeoutRate > 0 && d.slot(ATTEMPT_SLOT.NO_ANSWER) < b.timeoutRate;
      const error = b.errorRate > 0 && d.slot(ATTEMPT_SLOT.ERROR) < b.errorRate;
      d.seek(ATTEMPT_SLOT.LATENCY);
      out.latencyUs = b.latency === model.latency ? sampleDefault(d) : sampleLatency(b.latency, d);
      for (const outage of model.outages) {
        if (request.dispatchedAt >= outage.fromUs && request.dispatchedAt < outage.toUs) {
          // A service that is down answers its error status at once (a front end's 503), not
          // after the handler's latency; with no status the deadline fails the attempt anyway.
          out.status = outage.status ?? NO_ANSWER;
          if (out.status !== NO_ANSWER) out.latencyUs = 0;
          return;
        }
      }
      out.status = noAnswer ? NO_ANSWER : error ? b.errorStatus : 200;
    },
  };
}

/** What a user-supplied worker function sees about the attempt. */
export interface WorkerCall {
  request: AttemptRequest;
  /** Seconds since the simulation started (virtual clock). */
  nowSeconds: number;
  /**
   * Uniforms in [0, 1) from this attempt's own stream (seed, task, attempt number): the same
   * draws for the same attempt in any run of the seed, whatever the configuration.
   */
  random: () => number;
}

/** A user's worker: `status: null` means no answer (the deadline fails the attempt). */
export type WorkerFunction = (call: WorkerCall) => { status: number | null; latencyMs: number };

/**
 * A worker function (the library's `worker`) threw, or returned something that is not an answer
 * (a latency that is not a finite number of ms ≥ 0, a status that is not null or an HTTP status).
 * Why an error and not a guess: a NaN latency would schedule the attempt's end at no time at all,
 * and the run would stall with the attempt in flight, silently. The attempt was dispatched and has
 * no outcome, so the simulation cannot go on: make a new one after fixing the function.
 */
export class WorkerFunctionError extends Error {
  readonly code = 'WORKER_FUNCTION_FAILED';
  constructor(
    readonly queue: string,
    readonly task: string,
    /** The attempt's number, 1 for the first. */
    readonly attempt: number,
    problem: string,
    options?: { cause: unknown },
  ) {
    super(`the worker function, on attempt ${attempt} of task ${task} in queue ${queue}: ${problem}`, options);
    this.name = 'WorkerFunctionError';
  }
}

/** What is wrong with a worker function's answer, or null for a good one. */
export function workerAnswerProblem(answer: unknown): string | null {
  if (typeof answer !== 'object' || answer === null) return `it returned ${String(answer)}, not { status, latencyMs }`;
  const { status, latencyMs } = answer as { status?: unknown; latencyMs?: unknown };
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) return `latencyMs must be a finite number of milliseconds, 0 or more; got ${typeof latencyMs === 'number' ? String(latencyMs) : JSON.stringify(latencyMs) ?? 'undefined'}`;
  if (status !== null && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) return `status must be an HTTP status (a whole number from 100 to 599), or null for no answer; got ${JSON.stringify(status) ?? 'undefined'}`;
  return null;
}

/** The error for `request`'s attempt (made only on failure: nothing per attempt on the way). */
function functionFailed(request: AttemptRequest, problem: string, cause?: unknown): WorkerFunctionError {
  return new WorkerFunctionError(request.queue, request.name, request.retryCount + 1, problem, cause === undefined ? undefined : { cause });
}

export function functionDispatcher(fn: WorkerFunction, seed: number, usPerSecond: number): ModelledWorker {
  const stream = new SequenceStream(seed, STREAM_PURPOSE.WORKER_FUNCTION);
  const random = () => stream.next();
  return {
    answer(reused: AttemptRequest, out: ModelledOutcome): void {
      // The kernel reuses its request object; a user's function may keep what it is given.
      const request = copyAttemptRequest(reused);
      stream.reset(request.id, request.retryCount + 1);
      let r: ReturnType<WorkerFunction>;
      try {
        r = fn({ request, nowSeconds: request.dispatchedAt / usPerSecond, random });
      } catch (error) {
        throw functionFailed(request, `it threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, error);
      }
      const problem = workerAnswerProblem(r);
      if (problem !== null) throw functionFailed(request, problem);
      out.latencyUs = Math.round(r.latencyMs * US_PER_MS);
      out.status = r.status ?? NO_ANSWER;
    },
  };
}
