/**
 * The crash swarm's worker: a modelled worker (the virtual driver's transport asks it for each
 * attempt's outcome) with faults, that records every delivery it gets, across restarts, so the
 * swarm can say exactly what was delivered more than once and why.
 *
 * Faults: answers 5xx or 429 at random, never answers (the attempt runs into its handler
 * deadline), and outages: windows of virtual time in which every attempt is answered 503 or not
 * at all. `healthy()` switches the faults off (the liveness phase).
 */
import { NO_ANSWER, type AttemptRequest, type ModelledOutcome } from '../../core/attempt.js';
import type { Micros } from '../../core/time.js';
import type { ModelledWorker } from '../../engine/virtual-driver.js';
import type { SwarmRng } from './rng.js';

export interface Delivery {
  /** Which incarnation of pushq sent it (0 before the first crash). */
  incarnation: number;
  /** Dispatch time (the AttemptDispatched's `t`). */
  t: Micros;
  /** The task's id in that incarnation (ids of lost tasks are reused after a restart: compare names). */
  id: number;
  queue: string;
  name: string;
  retryCount: number;
  executionCount: number;
  /** The status answered, or NO_ANSWER. */
  status: number;
}

export type Outage = 'none' | 'errors' | 'silent';

export class SwarmWorker implements ModelledWorker {
  readonly deliveries: Delivery[] = [];
  incarnation = 0;
  outage: Outage = 'none';
  /** Per attempt: the share answered 5xx/429, and the share never answered. */
  errorRate: number;
  silentRate: number;

  constructor(private readonly rng: SwarmRng) {
    this.errorRate = rng.pick([0, 0.1, 0.3, 0.6]);
    this.silentRate = rng.pick([0, 0, 0.05, 0.2]);
  }

  healthy(): void {
    this.outage = 'none';
    this.errorRate = 0;
    this.silentRate = 0;
  }

  answer(request: AttemptRequest, out: ModelledOutcome): void {
    const r = this.rng;
    let status: number;
    if (this.outage === 'silent') status = NO_ANSWER;
    else if (this.outage === 'errors') status = 503;
    else if (r.chance(this.silentRate)) status = NO_ANSWER;
    else if (r.chance(this.errorRate)) status = r.pick([500, 503, 429, 404]);
    else status = r.pick([200, 200, 200, 204]);
    out.status = status;
    out.latencyUs = r.pick([1_000, 20_000, 300_000, 2_000_000]) + r.int(1000);
    this.deliveries.push({
      incarnation: this.incarnation,
      t: request.dispatchedAt,
      id: request.id,
      queue: request.queue,
      name: request.name,
      retryCount: request.retryCount,
      executionCount: request.executionCount,
      status,
    });
  }
}
