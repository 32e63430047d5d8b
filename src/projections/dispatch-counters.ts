/**
 * The dashboard's counters per queue: attempts, retries, and the dispatches of the last seconds
 * (`GET /pushq/dashboard.json`, src/server/dashboard-figures.ts).
 *
 * A projection, fed the replayed events of a restart too, so attempts and retries carry on across
 * restarts. It keeps O(1) memory per queue (dispatches counted per whole second in a small ring),
 * not a list of dispatch times.
 */
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import { US_PER_SECOND, type Micros } from '../core/time.js';
import type { Projection } from './projection.js';

/** The recent dispatch rate is counted over this many whole seconds (the current one included). */
export const RECENT_WINDOW_SECONDS = 10;
const RING_SECONDS = 16;

export class QueueCounters {
  attempts = 0;
  retries = 0;
  /** ring[i] counts the dispatches of the second ringSecond[i]. */
  readonly ring = new Float64Array(RING_SECONDS);
  readonly ringSecond = new Float64Array(RING_SECONDS).fill(-1);

  dispatched(t: Micros): void {
    const second = Math.floor(t / US_PER_SECOND);
    const slot = second % RING_SECONDS;
    if (this.ringSecond[slot] !== second) {
      this.ringSecond[slot] = second;
      this.ring[slot] = 0;
    }
    this.ring[slot] = (this.ring[slot] as number) + 1;
  }

  /** Dispatches in the RECENT_WINDOW_SECONDS whole seconds up to and including now's. */
  recent(now: Micros): number {
    const current = Math.floor(now / US_PER_SECOND);
    let n = 0;
    for (let i = 0; i < RING_SECONDS; i++) {
      const s = this.ringSecond[i] as number;
      if (s > current - RECENT_WINDOW_SECONDS && s <= current) n += this.ring[i] as number;
    }
    return n;
  }
}

export class DispatchCounters implements Projection {
  private readonly queues: QueueCounters[] = [];

  readonly observe = (e: EngineEvent, state: EngineState): void => {
    if (e.type !== 'AttemptDispatched') return;
    const r = state.tasks.row(e.id);
    const index = state.tasks.queue[r] as number;
    const c = this.of(index);
    c.attempts++;
    // Projections run after evolve: dispatchCount already counts this attempt.
    if ((state.tasks.dispatchCount[r] as number) > 1) c.retries++;
    c.dispatched(e.t);
  };

  of(queueIndex: number): QueueCounters {
    while (this.queues.length <= queueIndex) this.queues.push(new QueueCounters());
    return this.queues[queueIndex] as QueueCounters;
  }
}
