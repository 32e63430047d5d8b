/**
 * What the invariant checkers (src/testing/invariants.ts) judge each event against: per task its
 * queue, ETA, own retry options, attempts and first dispatch; per queue its configuration, whether
 * it is paused, and its attempts in flight. Read from the events alone, written from the reference
 * (docs/reference.md), independently of the engine's own code: the projection ignores the engine
 * state it is shown, and imports no rule from src/core (retry policy, token bucket), so a bug there
 * cannot hide itself from the checkers.
 *
 * A checker looks at the facts as they were before an event, then observes it. Unlike the other
 * projections it is fed event lists that may not fit `evolve` (runs tampered with on purpose), so
 * it tolerates what the engine would refuse: an event naming an unknown task changes nothing.
 *
 * The queue configuration in force is read from the ConfigApplied events (a reload starts a new
 * epoch), unless a fixed configuration is given, which then applies throughout.
 */
import { assertNever } from '../core/assert.js';
import type { EngineEvent } from '../core/events.js';
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../core/queue-config.js';
import type { Projection } from './projection.js';

export interface TaskFacts {
  queue: string;
  eta: number;
  retry: RetryParameters | undefined;
  attempts: number;
  firstDispatchAt: number | null;
}

export class ReferenceFacts implements Projection {
  readonly tasks = new Map<number, TaskFacts>();
  readonly queues = new Map<string, QueueConfig>();
  /** Paused by a command, at rate 0, or disabled: what holds a queue under production's rules. */
  readonly paused = new Map<string, boolean>();
  /** Left out of queue.yaml by a reload (reference §1.4) and not resumed since: what still holds a queue in dev-server mode. */
  readonly disabled = new Map<string, boolean>();
  /** Whether the settings in force say dev-server mode (S39): dispatches are then judged by its rules, not production's. */
  devServer = false;
  readonly inFlight = new Map<string, number>();
  /** Increments on each ConfigApplied: the rate law is checked per epoch. */
  epoch = 0;

  constructor(private readonly fixed: QueueFileConfig | undefined) {
    if (fixed) this.configure(fixed, true);
  }

  private configure(config: QueueFileConfig, first: boolean): void {
    const listed = new Set(config.queues.map((q) => q.name));
    for (const q of config.queues) {
      this.queues.set(q.name, q);
      this.paused.set(q.name, q.state === 'paused');
      // Re-declaring enables, unless the file keeps paused and disabled queues as they are.
      if (first || config.resume_paused_queues !== false || !this.disabled.has(q.name)) this.disabled.set(q.name, false);
      if (first || !this.inFlight.has(q.name)) this.inFlight.set(q.name, this.inFlight.get(q.name) ?? 0);
    }
    // A queue left out of a reload is disabled (reference §1.4), except `default`.
    for (const name of this.paused.keys()) {
      if (listed.has(name) || name === 'default') continue;
      this.paused.set(name, true);
      this.disabled.set(name, true);
    }
  }

  queueOf(id: number): TaskFacts | undefined {
    return this.tasks.get(id);
  }

  /** Takes `e` into the facts; a checker calls it after looking at the facts before `e`. */
  readonly observe = (e: EngineEvent): void => {
    switch (e.type) {
      case 'ConfigApplied':
        this.devServer = e.settings.devServer === true;
        if (e.settingsOnly === true) return; // queues and buckets go on as they were
        this.epoch++;
        if (!this.fixed) this.configure(e.config, this.epoch === 1);
        return;
      case 'TaskAdded':
        this.tasks.set(e.id, { queue: e.queue, eta: e.eta, retry: e.options?.retry, attempts: 0, firstDispatchAt: null });
        return;
      case 'AttemptDispatched': {
        const t = this.tasks.get(e.id);
        if (!t) return;
        t.attempts++;
        t.firstDispatchAt ??= e.t;
        this.inFlight.set(t.queue, (this.inFlight.get(t.queue) ?? 0) + 1);
        return;
      }
      case 'AttemptFailed': {
        const t = this.tasks.get(e.id);
        if (!t) return;
        t.eta = e.retryAt;
        this.inFlight.set(t.queue, (this.inFlight.get(t.queue) ?? 0) - 1);
        return;
      }
      case 'AttemptSucceeded':
      case 'TaskGaveUp':
      case 'AttemptOrphaned': {
        const t = this.tasks.get(e.id);
        if (t) this.inFlight.set(t.queue, (this.inFlight.get(t.queue) ?? 0) - 1);
        return;
      }
      case 'QueuePaused':
        this.paused.set(e.queue, true);
        return;
      case 'QueueResumed':
        this.paused.set(e.queue, false);
        this.disabled.set(e.queue, false);
        return;
      case 'BackoffElapsed':
      case 'TaskDeleted':
      case 'QueuePurged':
      case 'ServiceStarted': // the buckets refilled by time meanwhile: the rate law's windows go on
        return;
      default:
        assertNever(e, 'event');
    }
  };

  retryParameters(t: TaskFacts): RetryParameters | undefined {
    return t.retry ?? this.queues.get(t.queue)?.retry_parameters;
  }
}
