/**
 * The `taskqueue` service of the App Engine remote API, on pushq's engine: what an app's own
 * `taskqueue.Add` (Go), `taskqueue.add` (Python), `Queue.add` (Java) calls reach through
 * `POST /rpc_http`. Tasks go through the same WallDriver as the Cloud Tasks API (same log, rules,
 * dashboard, stories) with the Task Queue API's rules (flavour `taskqueue`).
 *
 * Invariants:
 * - A call that changes anything answers only after `log.flush()` (durable, as the REST API).
 * - A refused call changed nothing. A batch (BulkAdd, the dev server's rules and S22) is all or
 *   nothing except for names: a task that breaks a rule, or a name repeated in the batch, refuses
 *   the whole batch (that slot gets its code, every other slot SKIPPED); a name that already
 *   exists (TASK_ALREADY_EXISTS, TOMBSTONED_TASK) fails only its own slot, and the rest are added.
 * - A transactional call adds nothing now: its tasks wait in their transaction for its commit
 *   (transactional-add.ts, datastore-service.ts).
 * - Methods App Engine has but pushq does not serve are refused by name, never half-done.
 */
import type protobuf from 'protobufjs';
import { PushqError, UnknownQueueError } from '../../core/errors.js';
import { taskName, type QueueRuntime } from '../../core/state.js';
import { TASK_LIMITS, checkTaskSpec, specQueue, tooManyTasksMessage, type TaskSpec } from '../../core/task-spec.js';
import { TaskState } from '../../core/task-machine.js';
import { US_PER_SECOND } from '../../core/time.js';
import type { ApiContext } from '../api.js';
import { durable as durableCommand, engineState as state } from '../operations.js';
import { addRequestToSpec } from './add-request.js';
import { isTransactional, stageTransactional } from './transactional-add.js';
import { TaskNameReservedError } from './task-transactions.js';
import { decodeRequest, encodeMessage } from './call-codec.js';
import { MESSAGES, QUEUE_MODE, TASK_QUEUE_ERROR, utf8, type AddRequestMessage, type TaskQueueErrorName } from './messages.js';
import { TaskQueueError, fromEngineError, taskQueueCode } from './rpc-errors.js';

/** A method: the request's bytes in, the response's bytes out (or an RpcCallError / TaskQueueError). */
export type TaskQueueMethod = (ctx: ApiContext, request: Uint8Array) => Promise<Uint8Array>;

function decode<T>(type: protobuf.Type, bytes: Uint8Array, method: string): T {
  return decodeRequest<T>(type, bytes, `taskqueue.${method}`);
}

const encode = encodeMessage;

/** Runs an engine command as every API does (operations.ts: answered once durable, a refusal too); a refusal becomes this API's error. */
async function durable<T>(ctx: ApiContext, fn: () => T): Promise<T> {
  try {
    return await durableCommand(ctx, fn);
  } catch (err) {
    throw err instanceof PushqError ? fromEngineError(err) : err;
  }
}

function requiredQueue(name: string, method: string): string {
  if (name === '') throw new TaskQueueError('UNKNOWN_QUEUE', `taskqueue.${method} names no queue (queue_name is empty)`);
  return name;
}

// ---- adding tasks -------------------------------------------------------------------------------

interface SlotResult {
  code: TaskQueueErrorName;
  detail?: string;
  /** The name pushq chose, for a task added without one. */
  chosen?: string;
}

/** Every slot's rule check, before the engine sees any: a refusal here refuses the whole batch. */
function checkSlots(ctx: ApiContext, requests: readonly AddRequestMessage[]): { specs: TaskSpec[]; results: SlotResult[]; refused: boolean } {
  const s = state(ctx);
  const now = ctx.driver.clock();
  const batch = requests.length > 1;
  const services: ReadonlySet<string> = new Set(Object.keys(s.settings.targets));
  const specs: TaskSpec[] = [];
  const results: SlotResult[] = requests.map(() => ({ code: 'SKIPPED' }));
  const firstByName = new Map<string, number>();
  let refused = false;
  const fail = (i: number, code: TaskQueueErrorName, detail: string): void => {
    results[i] = { code, detail };
    refused = true;
  };
  requests.forEach((m, i) => {
    const index = batch ? i : undefined;
    try {
      const spec = addRequestToSpec(m, services, index);
      specs[i] = spec;
      checkTaskSpec(spec, now, 'taskqueue', index);
      const q = s.queueByName.get(spec.queue as string);
      if (q === undefined) return fail(i, 'UNKNOWN_QUEUE', new UnknownQueueError(spec.queue as string).message);
      if (!q.isPush) return fail(i, 'INVALID_QUEUE_MODE', `queue "${q.name}" is a pull queue; push tasks cannot be added to it`);
      if (spec.name !== undefined) {
        const key = `${q.index}/${spec.name}`;
        const first = firstByName.get(key);
        if (first === undefined) firstByName.set(key, i);
        else {
          const text = `task name "${spec.name}" appears twice in one batch (tasks ${first} and ${i}): the batch is refused`;
          fail(first, 'DUPLICATE_TASK_NAME', text);
          fail(i, 'DUPLICATE_TASK_NAME', text);
        }
      }
    } catch (err) {
      if (err instanceof TaskQueueError) return fail(i, err.code, err.message);
      if (err instanceof PushqError) return fail(i, taskQueueCode(err) ?? 'INVALID_REQUEST', err.message);
      throw err;
    }
  });
  return { specs, results, refused };
}

/**
 * Adds a batch with App Engine's rules (see the module's invariants). `requests` is the whole
 * call (`requestBytes` its size); a call the whole of which is refused throws. A transactional
 * call's tasks are staged in their transaction, to be added at its commit (transactional-add.ts).
 */
async function addBatch(ctx: ApiContext, requests: readonly AddRequestMessage[], requestBytes: number): Promise<SlotResult[]> {
  if (requests.length > TASK_LIMITS.batch_tasks_max) {
    throw new TaskQueueError('TOO_MANY_TASKS', tooManyTasksMessage(requests.length));
  }
  const { specs, results, refused } = checkSlots(ctx, requests);
  if (refused || requests.length === 0) return results;
  if (isTransactional(requests)) {
    return stageTransactional(ctx, requests, specs, requestBytes).map((chosen) => ({ code: 'OK', chosen }));
  }
  // A name already held fails only its slot: add the rest again without it (each refused
  // addTasks changed nothing, so only the last, successful one adds). A name an open
  // transaction chose for one of its tasks is held too, outside the engine.
  let slots = specs.map((_, i) => i).filter((i) => {
    const spec = specs[i] as TaskSpec;
    const handle = spec.name === undefined ? null : ctx.transactions.reservedBy(specQueue(spec), spec.name, ctx.driver.clock());
    if (handle === null) return true;
    const e = fromEngineError(new TaskNameReservedError(spec.name as string, specQueue(spec), handle, requests.length > 1 ? i : undefined));
    results[i] = { code: 'TASK_ALREADY_EXISTS', detail: e.message };
    return false;
  });
  const added = await durable(ctx, () => {
    const k = ctx.driver.kernel;
    for (;;) {
      if (slots.length === 0) return [];
      try {
        return k.addTasks(
          slots.map((i) => specs[i] as TaskSpec),
          'taskqueue',
        );
      } catch (err) {
        if (!(err instanceof PushqError) || (err.code !== 'TASK_ALREADY_EXISTS' && err.code !== 'TOMBSTONED_TASK')) throw err;
        const at = slots.length === 1 ? 0 : (err.details.index ?? -1);
        const slot = slots[at];
        if (slot === undefined) throw err;
        const e = fromEngineError(err);
        results[slot] = { code: err.code, detail: e.message };
        slots = slots.filter((i) => i !== slot);
      }
    }
  });
  const s = state(ctx);
  added.forEach((e, j) => {
    const slot = slots[j] as number;
    results[slot] = specs[slot]?.name === undefined ? { code: 'OK', chosen: taskName(s, e.id) } : { code: 'OK' };
  });
  return results;
}

const add: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<AddRequestMessage>(MESSAGES.AddRequest, bytes, 'Add');
  const [r] = await addBatch(ctx, [m], bytes.byteLength);
  const result = r as SlotResult;
  if (result.code !== 'OK') throw new TaskQueueError(result.code, stripCode(result.detail ?? result.code, result.code));
  return encode(MESSAGES.AddResponse, result.chosen === undefined ? {} : { chosen_task_name: Buffer.from(result.chosen) });
};

/**
 * The answer to a BulkAdd of no task (Go's `AddMulti` of an empty slice sends one): nothing to check
 * or add, no results. It names no queue, so a cluster node gives it itself (cluster/rpc-route.ts).
 */
export function emptyBulkAddAnswer(): Uint8Array {
  return encode(MESSAGES.BulkAddResponse, { taskResult: [] });
}

const bulkAdd: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ add_request?: AddRequestMessage[] }>(MESSAGES.BulkAddRequest, bytes, 'BulkAdd');
  if ((m.add_request ?? []).length === 0) return emptyBulkAddAnswer();
  const results = await addBatch(ctx, m.add_request ?? [], bytes.byteLength);
  return encode(MESSAGES.BulkAddResponse, {
    taskResult: results.map((r) => (r.chosen === undefined ? { result: TASK_QUEUE_ERROR[r.code] } : { result: TASK_QUEUE_ERROR[r.code], chosen_task_name: Buffer.from(r.chosen) })),
  });
};

/** A detail that already ends in ` (CODE)` (a TaskQueueError's message) without it: the error adds it again. */
function stripCode(detail: string, code: string): string {
  const suffix = ` (${code})`;
  return detail.endsWith(suffix) ? detail.slice(0, -suffix.length) : detail;
}

// ---- deleting, purging, pausing, running ---------------------------------------------------------

/** Each name on its own (the dev server's rule): OK, UNKNOWN_TASK or TOMBSTONED_TASK per name. */
const del: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ queue_name: Uint8Array; task_name?: Uint8Array[] }>(MESSAGES.DeleteRequest, bytes, 'Delete');
  const queue = utf8(m.queue_name);
  const names = (m.task_name ?? []).map(utf8);
  let codes: TaskQueueErrorName[];
  if (!state(ctx).queueByName.has(queue)) codes = names.map(() => 'UNKNOWN_QUEUE');
  else {
    codes = ctx.driver.run((k) =>
      names.map((name): TaskQueueErrorName => {
        try {
          k.deleteTask(queue, name);
          return 'OK';
        } catch (err) {
          if (err instanceof PushqError) return taskQueueCode(err) ?? 'INTERNAL_ERROR';
          throw err;
        }
      }),
    );
    await ctx.log.flush(); // also for refusals alone: they may tell of state not yet durable
  }
  return encode(MESSAGES.DeleteResponse, { result: codes.map((c) => TASK_QUEUE_ERROR[c]) });
};

const purgeQueue: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ queue_name: Uint8Array }>(MESSAGES.PurgeQueueRequest, bytes, 'PurgeQueue');
  const queue = requiredQueue(utf8(m.queue_name), 'PurgeQueue');
  await durable(ctx, () => ctx.driver.kernel.purgeQueue(queue));
  return encode(MESSAGES.Void, {});
};

/** The dev server's admin call (no SDK has it): pause = true pauses, false resumes. */
const pauseQueue: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ queue_name: Uint8Array; pause: boolean }>(MESSAGES.PauseQueueRequest, bytes, 'PauseQueue');
  const queue = requiredQueue(utf8(m.queue_name), 'PauseQueue');
  await durable(ctx, () => (m.pause === true ? ctx.driver.kernel.pauseQueue(queue) : ctx.driver.kernel.resumeQueue(queue)));
  return encode(MESSAGES.Void, {});
};

/** The dev server's "Run now": dispatch at once, ignoring ETA, rate and pause. */
const forceRun: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ queue_name: Uint8Array; task_name: Uint8Array }>(MESSAGES.ForceRunRequest, bytes, 'ForceRun');
  const queue = requiredQueue(utf8(m.queue_name), 'ForceRun');
  if (!state(ctx).queueByName.has(queue)) throw fromEngineError(new UnknownQueueError(queue));
  let code: TaskQueueErrorName = 'OK';
  try {
    await durable(ctx, () => ctx.driver.kernel.runTask(queue, utf8(m.task_name)));
  } catch (err) {
    if (!(err instanceof TaskQueueError)) throw err;
    code = err.code;
  }
  return encode(MESSAGES.ForceRunResponse, { result: TASK_QUEUE_ERROR[code] });
};

// ---- reading queues ------------------------------------------------------------------------------

const RATE_UNITS: readonly [string, number][] = [
  ['s', US_PER_SECOND],
  ['m', 60 * US_PER_SECOND],
  ['h', 3600 * US_PER_SECOND],
  ['d', 86_400 * US_PER_SECOND],
];

/** The rate as queue.yaml writes one (`5/s`, `10/m`): the smallest unit that makes it whole. */
function rateText(q: QueueRuntime): string {
  const exact = q.config.rate_exact;
  if (exact === null) return '0';
  for (const [unit, us] of RATE_UNITS) {
    const n = (exact.tokens * us) / exact.period_us;
    if (Number.isInteger(n)) return `${n}/${unit}`;
  }
  return `${q.config.rate_per_second ?? 0}/s`;
}

function retryParameters(q: QueueRuntime): Record<string, number> {
  const r = q.config.retry_parameters;
  const out: Record<string, number> = { min_backoff_sec: r.min_backoff_seconds, max_backoff_sec: r.max_backoff_seconds, max_doublings: r.max_doublings };
  if (r.task_retry_limit !== null) out['retry_limit'] = r.task_retry_limit;
  if (r.task_age_limit_seconds !== null) out['age_limit_sec'] = r.task_age_limit_seconds;
  return out;
}

/** The queues of queue.yaml, by name (as the dev server lists them); `max_rows` (required) 0: all. */
const fetchQueues: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ max_rows: number }>(MESSAGES.FetchQueuesRequest, bytes, 'FetchQueues');
  const queues = [...state(ctx).queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = m.max_rows > 0 ? queues.slice(0, m.max_rows) : queues;
  return encode(MESSAGES.FetchQueuesResponse, {
    queue: rows.map((q) => ({
      queue_name: Buffer.from(q.name),
      bucket_refill_per_second: q.config.rate_per_second ?? 0,
      bucket_capacity: q.config.bucket_size ?? 0,
      user_specified_rate: rateText(q),
      paused: q.paused || q.disabled,
      retry_parameters: retryParameters(q),
      max_concurrent_requests: q.maxConcurrent,
      mode: q.isPush ? QUEUE_MODE.PUSH : QUEUE_MODE.PULL,
    })),
  });
};

interface QueueTally {
  oldestEta: number;
  executedMinute: number;
  executedHour: number;
  /** The queue's last test reset, µs (-Infinity: none): tasks that ended before it are not counted. */
  resetAt: number;
}

/**
 * FetchQueueStats' row for a queue the configuration does not hold: no tasks (the dev server's
 * answer), not an error. A cluster node gives it itself, whatever owner is reachable (rpc-front.ts).
 */
export const UNKNOWN_QUEUE_STATS: Readonly<{ num_tasks: number; oldest_eta_usec: number }> = { num_tasks: 0, oldest_eta_usec: -1 };

/**
 * Per queue: its tasks not yet ended, the earliest ETA among them (-1 when none) and the tasks that
 * succeeded in the last minute and hour, since its last test reset if any (a reset reads as a fresh
 * deploy: docs/serve.md, Test hooks). One pass over the task table (a read, for a rare call).
 */
const fetchQueueStats: TaskQueueMethod = async (ctx, bytes) => {
  const m = decode<{ queue_name?: Uint8Array[] }>(MESSAGES.FetchQueueStatsRequest, bytes, 'FetchQueueStats');
  const s = state(ctx);
  const now = ctx.driver.clock();
  const asked = (m.queue_name ?? []).map((n) => s.queueByName.get(utf8(n)));
  const tally = new Map<number, QueueTally>();
  for (const q of asked) if (q !== undefined) tally.set(q.index, { oldestEta: -1, executedMinute: 0, executedHour: 0, resetAt: ctx.history.resetAt.get(q.name) ?? -Infinity });
  const t = s.tasks;
  for (let id = 0; id < t.count && tally.size > 0; id++) {
    const c = tally.get(t.queue[id] as number);
    if (c === undefined) continue;
    const st = t.state[id] as TaskState;
    if (st === TaskState.Pending || st === TaskState.Dispatching || st === TaskState.Backoff) {
      const eta = t.eta[id] as number;
      if (c.oldestEta < 0 || eta < c.oldestEta) c.oldestEta = eta;
    } else if (st === TaskState.Succeeded && (t.endedAt[id] as number) > c.resetAt) {
      const ago = now - (t.endedAt[id] as number);
      if (ago <= 3600 * US_PER_SECOND) c.executedHour++;
      if (ago <= 60 * US_PER_SECOND) c.executedMinute++;
    }
  }
  return encode(MESSAGES.FetchQueueStatsResponse, {
    queueStats: asked.map((q) => {
      if (q === undefined) return UNKNOWN_QUEUE_STATS;
      const c = tally.get(q.index) as QueueTally;
      const live = (q.countByState[TaskState.Pending] as number) + (q.countByState[TaskState.Dispatching] as number) + (q.countByState[TaskState.Backoff] as number);
      const running = q.isPush && !q.paused && !q.disabled;
      return {
        num_tasks: live,
        oldest_eta_usec: Math.round(c.oldestEta),
        scanner_info: {
          executed_last_minute: c.executedMinute,
          executed_last_hour: c.executedHour,
          sampling_duration_seconds: 3600,
          requests_in_flight: q.inFlight,
          enforced_rate: running ? (q.config.rate_per_second ?? 0) : 0,
        },
      };
    }),
  });
};

// ---- what pushq does not serve -------------------------------------------------------------------

const queuesFromYaml = (method: string) => (): TaskQueueError => new TaskQueueError('PERMISSION_DENIED', `taskqueue.${method}: queues are defined in queue.yaml; edit it and reload pushq (SIGHUP or POST /pushq/reload)`);

const noLeasing = (method: string) => (): TaskQueueError => new TaskQueueError('INVALID_QUEUE_MODE', `taskqueue.${method}: pushq runs push queues only; pull queues and leasing are not served`);

/** The methods pushq serves, by the name the libraries send. */
export const TASKQUEUE_METHODS: Readonly<Record<string, TaskQueueMethod>> = {
  Add: add,
  BulkAdd: bulkAdd,
  Delete: del,
  PurgeQueue: purgeQueue,
  FetchQueueStats: fetchQueueStats,
  FetchQueues: fetchQueues,
  PauseQueue: pauseQueue,
  ForceRun: forceRun,
};

/**
 * App Engine's methods that pushq refuses by name, saying why: the refusal, whatever the call's
 * message or the queues hold, so every node gives it itself (rpc-http.ts answerWithoutQueues).
 */
export const REFUSED_TASKQUEUE_METHODS: Readonly<Record<string, () => TaskQueueError>> = {
  UpdateQueue: queuesFromYaml('UpdateQueue'),
  DeleteQueue: queuesFromYaml('DeleteQueue'),
  QueryAndOwnTasks: noLeasing('QueryAndOwnTasks'),
  ModifyTaskLease: noLeasing('ModifyTaskLease'),
};

/** The names of the methods that do something (for the CALL_NOT_FOUND detail). */
export const SERVED_METHODS: readonly string[] = Object.keys(TASKQUEUE_METHODS);
