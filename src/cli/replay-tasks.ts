/**
 * `pushq replay LOG --tasks gave-up|most-attempts|longest-wait [--limit N] [--queue Q] [--at T]
 * [--json]`: the tasks worth a look, each with its counts, so no one greps a log for an id. The
 * lists are task-waits.ts's (the dashboard shows the same ones); the next step is
 * `pushq replay LOG --task NAME` (or the dashboard's story) for one of them.
 */
import { taskName, type EngineState } from '../core/state.js';
import { TASK_STATES, type TaskState } from '../core/task-machine.js';
import { US_PER_SECOND } from '../core/time.js';
import { AttemptHistory } from '../projections/attempt-history.js';
import type { TimeFormat } from '../projections/queue-summary.js';
import { TaskWaits, tasksWorthALook, type WorthALook } from '../projections/task-waits.js';
import { counted } from './counted.js';

interface WorthALookRow {
  task: string;
  queue: string;
  state: string;
  attempts: number;
  retries: number;
  /** Attempts that got a response (X-AppEngine-TaskExecutionCount after them). */
  responses: number;
  waited_seconds: number;
  longest_wait_seconds: number;
  /** The last attempt's HTTP status; null when it got none (see last_failure) or there was none. */
  last_status: number | null;
  /** Why the last attempt got no response (deadline, connection, ...); null when it got one. */
  last_failure: string | null;
  added_at: number | string;
  ended_at: number | string | null;
}

export interface WorthALookReport {
  list: WorthALook;
  /** Tasks on the list before --limit. */
  total: number;
  tasks: WorthALookRow[];
}

/** The projections the list reads, to fold with the log. */
export function worthALookProjections(): { waits: TaskWaits; history: AttemptHistory } {
  return { waits: new TaskWaits(), history: new AttemptHistory() };
}

export function worthALook(state: EngineState, p: { waits: TaskWaits; history: AttemptHistory }, list: WorthALook, queue: number | null, limit: number, time: TimeFormat): WorthALookReport {
  const found = tasksWorthALook(state, p.waits, list, queue, limit);
  const t = state.tasks;
  const tasks = found.ids.map((id): WorthALookRow => {
    const last = p.history.lastAttempt(id);
    const answered = last !== null && !Number.isNaN(last.responseTimeUs);
    const ended = t.endedAt[id] as number;
    const attempts = t.dispatchCount[id] as number;
    return {
      task: taskName(state, id),
      queue: state.queues[t.queue[id] as number]?.name ?? '',
      state: TASK_STATES[t.state[id] as TaskState] as string,
      attempts,
      retries: Math.max(0, attempts - 1),
      responses: t.executionCount[id] as number,
      waited_seconds: p.waits.waitedUs(id) / US_PER_SECOND,
      longest_wait_seconds: p.waits.longestWaitUs(id) / US_PER_SECOND,
      last_status: answered ? last.status : null,
      last_failure: answered && last.status === null ? (last.error ?? last.reason ?? 'no response') : null,
      added_at: time.json(t.addedAt[id] as number),
      ended_at: Number.isNaN(ended) ? null : time.json(ended),
    };
  });
  return { list, total: found.total, tasks };
}

const TITLES: Readonly<Record<WorthALook, string>> = {
  'gave-up': 'gave up (in the order they gave up)',
  'most-attempts': 'with the most attempts',
  'longest-wait': 'that waited longest before their attempts (summed)',
};

/** What an empty list says, plainly: not "0 tasks that waited longest", which reads as if some had. */
const NONE: Readonly<Record<WorthALook, string>> = {
  'gave-up': 'no task gave up',
  'most-attempts': 'no task was attempted',
  'longest-wait': 'no task waited before its attempts',
};

/** A table, one task a line, with a line before it saying what it lists (and, `atNote`, as of which --at: replay-at.ts). */
export function worthALookText(log: string, r: WorthALookReport, atNote = ''): string {
  if (r.total === 0) return `${log}: ${NONE[r.list]}${atNote}\n`;
  const head = `${log}: ${counted(r.total, 'task')} ${TITLES[r.list]}${r.tasks.length < r.total ? `; the first ${r.tasks.length} (--limit)` : ''}${atNote}`;
  const at = (v: number | string | null): string => (v === null ? '-' : typeof v === 'number' ? `${v}s` : v);
  const rows = [
    ['task', 'queue', 'state', 'attempts', 'responses', 'waited', 'longest wait', 'last', 'added', 'ended'],
    ...r.tasks.map((x) => [x.task, x.queue, x.state, String(x.attempts), String(x.responses), `${x.waited_seconds}s`, `${x.longest_wait_seconds}s`, x.last_status === null ? (x.last_failure ?? '-') : String(x.last_status), at(x.added_at), at(x.ended_at)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] as number))).join('  '));
  return `${head}\n${lines.join('\n')}\n`;
}
