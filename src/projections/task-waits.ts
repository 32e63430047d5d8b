/**
 * Per task, how long it waited before its attempts: summed over its attempts and the longest one,
 * with a wait defined as in insight.ts (from when it could go, its ETA or the end of its backoff,
 * never before it was added, to its dispatch; forced runs are not waits). And the lists of tasks
 * worth a look that `pushq replay --tasks` prints and the dashboard shows: the tasks that gave up,
 * the ones with the most attempts, the ones that waited longest.
 *
 * Two Float64Arrays indexed by task id: 16 bytes per task.
 */
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import { TaskState } from '../core/task-machine.js';
import type { TaskTable } from '../core/task-table.js';
import type { Micros } from '../core/time.js';
import type { Projection } from './projection.js';

/**
 * When task `id` could go for the attempt being dispatched: its ETA (in backoff, the ETA is the
 * backoff's end), never before it was added. Read from the state after its AttemptDispatched,
 * which keeps the ETA the attempt was due at.
 */
export function readyAtUs(tasks: TaskTable, id: number): Micros {
  const r = tasks.row(id);
  const eta = tasks.eta[r] as number;
  const added = tasks.addedAt[r] as number;
  return eta > added ? eta : added;
}

export class TaskWaits implements Projection {
  private total = new Float64Array(1024);
  private longest = new Float64Array(1024);

  readonly observe = (e: EngineEvent, state: EngineState): void => {
    if (e.type === 'TaskAdded') {
      if (e.id >= this.total.length) this.grow(e.id);
      return;
    }
    if (e.type !== 'AttemptDispatched' || e.forced === true) return;
    const readyAt = readyAtUs(state.tasks, e.id);
    const wait = e.t > readyAt ? e.t - readyAt : 0;
    this.total[e.id] = (this.total[e.id] as number) + wait;
    if (wait > (this.longest[e.id] as number)) this.longest[e.id] = wait;
  };

  private grow(id: number): void {
    let n = this.total.length;
    while (n <= id) n *= 2;
    const total = new Float64Array(n);
    const longest = new Float64Array(n);
    total.set(this.total);
    longest.set(this.longest);
    this.total = total;
    this.longest = longest;
  }

  /** The waits of task `id` before its attempts so far, µs, summed. */
  waitedUs(id: number): number {
    return this.total[id] ?? 0;
  }

  /** The longest of them, µs. */
  longestWaitUs(id: number): number {
    return this.longest[id] ?? 0;
  }
}

/** What `pushq replay --tasks KIND` lists, in this order. */
export const WORTH_A_LOOK = ['gave-up', 'most-attempts', 'longest-wait'] as const;
export type WorthALook = (typeof WORTH_A_LOOK)[number];

export interface WorthALookList {
  /** Tasks that qualify (gave up; made an attempt; waited), before the limit. */
  total: number;
  /** The first `limit` of them, by task id: gave up in the order they gave up; the others most first, ties by id. */
  ids: number[];
}

/**
 * The tasks worth a look, of queue index `queue` or of every queue (null), at most `limit`:
 * `gave-up` (in the order they gave up), `most-attempts` (attempts made, most first),
 * `longest-wait` (waited before their attempts, summed, longest first).
 */
export function tasksWorthALook(state: EngineState, waits: TaskWaits, kind: WorthALook, queue: number | null, limit: number): WorthALookList {
  const t = state.tasks;
  const ids: number[] = [];
  for (let id = 0; id < t.count; id++) {
    if (queue !== null && t.queue[id] !== queue) continue;
    if (kind === 'gave-up' ? t.state[id] === TaskState.Failed : kind === 'most-attempts' ? (t.dispatchCount[id] as number) > 0 : waits.waitedUs(id) > 0) ids.push(id);
  }
  const key = (id: number): number => (kind === 'gave-up' ? (t.endedAt[id] as number) : kind === 'most-attempts' ? -(t.dispatchCount[id] as number) : -waits.waitedUs(id));
  ids.sort((a, b) => key(a) - key(b) || a - b);
  return { total: ids.length, ids: ids.slice(0, limit) };
}
