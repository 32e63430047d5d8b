/**
 * The dashboard's task lists (`GET /pushq/queues/Q/tasks`, Q = `*` for every queue): the tasks of
 * a queue in a state (the live ones by default; ended ones too: succeeded, gave up, deleted),
 * found by name or name prefix and by payload text, ordered by creation, attempts or wait.
 *
 * Read-only, over any state (the live one, or one restored at an instant: time-travel.ts). A
 * search looks at every task of the queue: its name, then its payload (decoded from base64; text
 * is compared without regard to case, a payload that is not UTF-8 byte for byte).
 */
import { isUtf8 } from 'node:buffer';
import { defaultTaskUrl } from '../core/task-spec.js';
import { taskName, type EngineState, type QueueRuntime } from '../core/state.js';
import { TASK_STATES, TaskState } from '../core/task-machine.js';
import { US_PER_SECOND } from '../core/time.js';
import type { AttemptHistory } from '../projections/attempt-history.js';
import type { TaskWaits } from '../projections/task-waits.js';
import { ApiError } from './errors.js';
import { formatTimestamp } from './timestamps.js';

export const TASK_LIST_LIMIT_MAX = 1000;
export const TASK_LIST_LIMIT_DEFAULT = 200;
/** Longest search text. */
export const TASK_SEARCH_LENGTH_MAX = 200;

/** `state=`: one state (TASK_STATES; `gave_up` is `failed`), or a group. */
const STATE_FILTERS: Readonly<Record<string, readonly TaskState[]>> = {
  live: [TaskState.Pending, TaskState.Dispatching, TaskState.Backoff],
  ended: [TaskState.Succeeded, TaskState.Failed, TaskState.Deleted],
  all: [TaskState.Pending, TaskState.Dispatching, TaskState.Backoff, TaskState.Succeeded, TaskState.Failed, TaskState.Deleted],
  gave_up: [TaskState.Failed],
  ...Object.fromEntries(TASK_STATES.map((name, i) => [name, [i as TaskState]])),
};
export const TASK_STATE_FILTERS = Object.keys(STATE_FILTERS);

export const TASK_SORTS = ['id', 'attempts', 'wait'] as const;
type TaskSort = (typeof TASK_SORTS)[number];

export interface TaskQuery {
  state: string;
  /** Name prefix or payload text; '' finds every task. */
  search: string;
  sort: TaskSort;
  limit: number;
}

/** The query of `GET /pushq/queues/Q/tasks?state=&q=&sort=&limit=`; a bad parameter is a 400 naming it. */
export function parseTaskQuery(query: URLSearchParams): TaskQuery {
  const state = query.get('state') || 'live';
  if (!Object.hasOwn(STATE_FILTERS, state)) throw new ApiError('INVALID_FIELD', `state: "${state.slice(0, 40)}" is not one of ${TASK_STATE_FILTERS.join(', ')}`, 'state');
  const search = query.get('q') ?? '';
  if (search.length > TASK_SEARCH_LENGTH_MAX) throw new ApiError('INVALID_FIELD', `q: a search text of at most ${TASK_SEARCH_LENGTH_MAX} characters`, 'q');
  const sort = query.get('sort') || 'id';
  if (!(TASK_SORTS as readonly string[]).includes(sort)) throw new ApiError('INVALID_FIELD', `sort: "${sort.slice(0, 40)}" is not one of ${TASK_SORTS.join(', ')}`, 'sort');
  const raw = query.get('limit');
  const limit = raw === null || raw === '' ? TASK_LIST_LIMIT_DEFAULT : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > TASK_LIST_LIMIT_MAX) throw new ApiError('INVALID_FIELD', `limit: "${(raw ?? '').slice(0, 40)}" is not a whole number from 1 to ${TASK_LIST_LIMIT_MAX}`, 'limit');
  return { state, search, sort: sort as TaskSort, limit };
}

export interface TaskFigures {
  name: string;
  queue: string;
  state: string;
  method: string;
  url: string;
  scheduleTime: string;
  dispatchCount: number;
  responseCount: number;
  /** HTTP status of the last response; null if none came (see lastError) or none yet. */
  lastStatus: number | null;
  /** Why the last attempt got no response (deadline, connection ...), if it did not. */
  lastError: string | null;
  addedAt: string;
  /** When it ended (succeeded, gave up, deleted); null while it lives. */
  endedAt: string | null;
  /** Waited before its attempts, summed (from when it could go to each dispatch). */
  waitedSeconds: number;
  /** What the search matched: the name (or its prefix), the payload; null without a search. */
  matched: 'name' | 'payload' | null;
}

export interface TaskList {
  /** The queue's name, or `*`. */
  queue: string;
  state: string;
  search: string;
  /** Tasks that match; `tasks` holds the first `limit`. */
  total: number;
  tasks: TaskFigures[];
}

/** Whether a payload (base64) holds `needle`: as text regardless of case when it is UTF-8, else as bytes. */
function payloadHolds(base64: string, needle: string, needleLower: string): boolean {
  const bytes = Buffer.from(base64, 'base64');
  if (isUtf8(bytes)) return bytes.toString('utf8').toLowerCase().includes(needleLower);
  return bytes.includes(Buffer.from(needle, 'utf8'));
}

/** The tasks of `queues` (one, or every queue) that match `query`, in its order. */
export function searchTasks(state: EngineState, history: AttemptHistory, waits: TaskWaits, queues: readonly QueueRuntime[], query: TaskQuery, queueLabel: string): TaskList {
  const t = state.tasks;
  const wanted = new Uint8Array(TASK_STATES.length);
  for (const s of STATE_FILTERS[query.state] as readonly TaskState[]) wanted[s] = 1;
  const inQueue = new Uint8Array(state.queues.length);
  for (const q of queues) inQueue[q.index] = 1;
  const search = query.search;
  const lower = search.toLowerCase();
  const ids: number[] = [];
  const matched = new Map<number, 'name' | 'payload'>();
  for (let id = 0; id < t.count; id++) {
    if (inQueue[t.queue[id] as number] !== 1 || wanted[t.state[id] as number] !== 1) continue;
    if (search !== '') {
      if (taskName(state, id).startsWith(search)) matched.set(id, 'name');
      else {
        const body = t.meta[id]?.body;
        if (body === undefined || !payloadHolds(body, search, lower)) continue;
        matched.set(id, 'payload');
      }
    }
    ids.push(id);
  }
  if (query.sort !== 'id') {
    const key = (id: number): number => (query.sort === 'attempts' ? (t.dispatchCount[id] as number) : waits.waitedUs(id));
    ids.sort((a, b) => key(b) - key(a) || a - b);
  }
  return { queue: queueLabel, state: query.state, search, total: ids.length, tasks: ids.slice(0, query.limit).map((id) => taskFigures(state, history, waits, id, matched.get(id) ?? null)) };
}

function taskFigures(state: EngineState, history: AttemptHistory, waits: TaskWaits, id: number, matched: 'name' | 'payload' | null): TaskFigures {
  const t = state.tasks;
  const q = state.queues[t.queue[id] as number] as QueueRuntime;
  const meta = t.meta[id];
  const last = history.lastAttempt(id);
  const inFlight = last !== null && Number.isNaN(last.responseTimeUs);
  const ended = t.endedAt[id] as number;
  return {
    name: taskName(state, id),
    queue: q.name,
    state: TASK_STATES[t.state[id] as TaskState] as string,
    method: meta?.method ?? 'POST',
    url: meta?.httpUrl ?? meta?.url ?? defaultTaskUrl(q.name), // an HTTP target's absolute URL
    scheduleTime: formatTimestamp(t.eta[id] as number),
    dispatchCount: t.dispatchCount[id] as number,
    responseCount: t.executionCount[id] as number,
    lastStatus: last === null || inFlight ? null : last.status,
    lastError: last === null || inFlight || last.status !== null ? null : (last.error ?? last.reason ?? 'no response'),
    addedAt: formatTimestamp(t.addedAt[id] as number),
    endedAt: Number.isNaN(ended) ? null : formatTimestamp(ended),
    waitedSeconds: waits.waitedUs(id) / US_PER_SECOND,
    matched,
  };
}
