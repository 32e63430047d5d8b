/**
 * A queue as `pushq replay --json` prints it (`queues.NAME`): its state, its tasks by state, its
 * oldest ETA and its figures (figures.ts). One definition, read by the CLI and by the dashboard's
 * read API (`GET /pushq/dashboard.json?at=S` carries the same object per queue), so the two agree.
 *
 * Times are shown in the log's clock: seconds since the start for a virtual-clock log, ISO 8601
 * for a wall-clock one.
 */
import type { EngineState } from '../core/state.js';
import { TASK_STATES, TaskState } from '../core/task-machine.js';
import { US_PER_SECOND } from '../core/time.js';
import type { QueueFigures } from './figures.js';

/** A log's clock (LogHeader.clock). */
export type LogClock = 'virtual' | 'wall';

export interface TimeFormat {
  json: (us: number) => number | string;
  text: (us: number) => string;
}

export function timeFormatter(clock: LogClock): TimeFormat {
  if (clock === 'virtual') {
    const sec = (us: number) => us / US_PER_SECOND;
    return { json: sec, text: (us) => `${sec(us)}s` };
  }
  const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();
  return { json: iso, text: iso };
}

export interface QueueSummary {
  state: string;
  tasks_total: number;
  tasks: Record<string, number>;
  oldest_eta: number | string | null;
  /** null when the figures cannot be told (a replay from a snapshot has no history). */
  stats: QueueFigures | null;
}

/** Every queue (or only `only`), by name, in the state's order. */
export function queueSummaries(state: EngineState, figures: Record<string, QueueFigures> | null, only: string | undefined, time: TimeFormat): Record<string, QueueSummary> {
  const oldest = new Float64Array(state.queues.length).fill(Infinity);
  const t = state.tasks;
  for (let id = 0; id < t.count; id++) {
    const s = t.state[id] as TaskState;
    if (s === TaskState.Pending || s === TaskState.Backoff) {
      const q = t.queue[id] as number;
      if ((t.eta[id] as number) < (oldest[q] as number)) oldest[q] = t.eta[id] as number;
    }
  }
  const out: Record<string, QueueSummary> = {};
  for (const q of state.queues) {
    if (only !== undefined && q.name !== only) continue;
    const tasks: Record<string, number> = {};
    let total = 0;
    TASK_STATES.forEach((s, i) => {
      tasks[s] = q.countByState[i] as number;
      total += q.countByState[i] as number;
    });
    const o = oldest[q.index] as number;
    out[q.name] = {
      state: q.disabled ? 'disabled' : q.paused ? 'paused' : 'running',
      tasks_total: total,
      tasks,
      oldest_eta: o === Infinity ? null : time.json(o),
      stats: figures === null ? null : (figures[q.name] ?? null),
    };
  }
  return out;
}
