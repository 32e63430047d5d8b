/**
 * Effects as data: what a step asks the world to do once its events are applied. The core never
 * performs one; the kernel reads them in order and performs each (docs/architecture.md, "One step").
 *
 *   Dispatch    send this attempt (the AttemptDispatched event says which task, and when)
 *   WakeQueue   look at queue `target` again at `at`: a token or an ETA will allow a dispatch then
 *   EndBackoff  task `target`'s backoff ends at `at`
 *   Abort       end task `target`'s attempt in flight now (a test reset): its event is already
 *               applied, so whatever outcome still comes back for it is dropped
 *
 * A step may produce thousands (a burst of dispatches), and a simulation runs millions of steps,
 * so the list is a reused struct of arrays: recording an effect allocates nothing.
 */
import type { AttemptDispatched } from './events.js';
import type { Micros } from './time.js';

export const enum EffectKind {
  Dispatch = 0,
  WakeQueue = 1,
  EndBackoff = 2,
  Abort = 3,
}

/** One effect as a plain object, for tests and for reading (the kernel reads the arrays). */
export type Effect =
  | { type: 'Dispatch'; attempt: AttemptDispatched }
  | { type: 'WakeQueue'; queue: number; at: Micros }
  | { type: 'EndBackoff'; task: number; at: Micros }
  | { type: 'Abort'; task: number; at: Micros };

export class Effects {
  length = 0;
  readonly kind: EffectKind[] = [];
  /** The attempt of a Dispatch; null for the others. */
  readonly attempt: (AttemptDispatched | null)[] = [];
  /** WakeQueue: the queue's index; EndBackoff, Dispatch, Abort: the task id. */
  readonly target: number[] = [];
  /** When: the attempt's time for a Dispatch. */
  readonly at: Micros[] = [];

  dispatch(e: AttemptDispatched): void {
    this.push(EffectKind.Dispatch, e, e.id, e.t);
  }

  wakeQueue(queueIndex: number, at: Micros): void {
    this.push(EffectKind.WakeQueue, null, queueIndex, at);
  }

  endBackoff(id: number, at: Micros): void {
    this.push(EffectKind.EndBackoff, null, id, at);
  }

  /** Task `id`'s attempt in flight ends at `at` without an answer (its event is applied). */
  abort(id: number, at: Micros): void {
    this.push(EffectKind.Abort, null, id, at);
  }

  clear(): void {
    // The slots stay allocated; only attempts are dropped, so a finished step keeps no events alive.
    for (let i = 0; i < this.length; i++) this.attempt[i] = null;
    this.length = 0;
  }

  toArray(): Effect[] {
    const out: Effect[] = [];
    for (let i = 0; i < this.length; i++) {
      const target = this.target[i] as number;
      const at = this.at[i] as Micros;
      switch (this.kind[i]) {
        case EffectKind.Dispatch:
          out.push({ type: 'Dispatch', attempt: this.attempt[i] as AttemptDispatched });
          break;
        case EffectKind.WakeQueue:
          out.push({ type: 'WakeQueue', queue: target, at });
          break;
        case EffectKind.EndBackoff:
          out.push({ type: 'EndBackoff', task: target, at });
          break;
        default:
          out.push({ type: 'Abort', task: target, at });
      }
    }
    return out;
  }

  private push(kind: EffectKind, attempt: AttemptDispatched | null, target: number, at: Micros): void {
    const i = this.length++;
    this.kind[i] = kind;
    this.attempt[i] = attempt;
    this.target[i] = target;
    this.at[i] = at;
  }
}
