/**
 * The Cloud Tasks v2 calls as protocol-neutral operations: each takes the call's fields (the
 * resource it names, already split into location, queue and task; a request message in its
 * proto3 JSON form, camelCase names) and returns the resource in the same form. The REST API
 * (api.ts) reads them off the path and the JSON body; the gRPC service (grpc/) off a protobuf
 * message. Both answer through these functions, so validation, errors (ApiError, errors.ts) and
 * durability are one code path.
 *
 * Invariants:
 * - A command runs through the WallDriver and returns only after `await log.flush()`: an
 *   acknowledged change is durable.
 * - A refused command changed nothing (the kernel's contract); reads never append to the log.
 * - Queues come from queue.yaml only: create / update / delete are QUEUES_FROM_CONFIG.
 */
import { requireLiveTask, requireQueue } from '../core/decide.js';
import type { EngineState, QueueRuntime } from '../core/state.js';
import type { TaskAdded } from '../core/events.js';
import type { EventLog } from '../log/event-log.js';
import type { WallDriver } from '../engine/wall-driver.js';
import type { AttemptHistory } from '../projections/attempt-history.js';
import type { DispatchCounters } from '../projections/dispatch-counters.js';
import { ApiError } from './errors.js';
import { pageOf, pageOfItems, pageToken, QUEUES_LIST, tasksList, type PageRequest } from './page-token.js';
import { createdTaskResource, createTaskSpec, isLive, queueResource, taskResource, type Location, type TaskView } from './resources.js';
import type { HttpTargetPolicy } from './http-target.js';
import type { IdTokenIssuer } from '../dispatch/id-tokens.js';
import type { ReadSource } from './read-source.js';
import type { TaskStoryCache } from './task-story-view.js';
import { TaskNameReservedError, type TaskTransactions } from './appengine/task-transactions.js';

export interface ReloadOutcome {
  ok: boolean;
  /** Human lines: issues when not ok, a summary when ok. */
  lines: string[];
  /** Not applied because the service (or the node) is stopping, not because the file is invalid. */
  shuttingDown?: true;
}

/** A reload asked for while the service stops (or found it stopping once the file was read): nothing applied. */
export function reloadWhileStopping(): ReloadOutcome {
  return { ok: false, lines: ['pushq is shutting down: no reload'], shuttingDown: true };
}

/**
 * POST /pushq/reload's refusal (one node, a cluster's router): the issues name the file, queue.yaml
 * or queue.xml, with their lines; a reload that met the stop is SHUTTING_DOWN (UNAVAILABLE), as any
 * call then, not an invalid file.
 */
export function reloadRefused(outcome: ReloadOutcome): ApiError {
  if (outcome.shuttingDown === true) return new ApiError('SHUTTING_DOWN', `pushq is shutting down: the queue configuration was not reloaded`);
  return new ApiError('CONFIG_INVALID', `the queue configuration was not applied:\n${outcome.lines.join('\n')}`, 'queue_configuration');
}

export interface ApiContext {
  driver: WallDriver;
  log: EventLog;
  history: AttemptHistory;
  /** Attempts, retries and recent dispatches per queue, for the dashboard. */
  counters: DispatchCounters;
  /** Task stories told from `log`, with their memory. */
  stories: TaskStoryCache;
  /** What the dashboard's read API reads (read-source.ts): this service now, and its log for the past. */
  dashboard: ReadSource;
  /** Which URLs an HTTP target task may name (`--allow-http-target`). */
  httpTargets: HttpTargetPolicy;
  /** The issuer of HTTP target tasks' tokens: its discovery document and keys are served. */
  tokens: IdTokenIssuer;
  /** Whether `POST /pushq/reset` is served (`--allow-reset`). */
  resetAllowed: boolean;
  /** The open transactions of App Engine's transactional tasks (`/rpc_http`, appengine/task-transactions.ts). */
  transactions: TaskTransactions;
  reload(): Promise<ReloadOutcome>;
  /** Set when shutting down: new requests get UNAVAILABLE. */
  stopping: boolean;
}

export function engineState(ctx: ApiContext): EngineState {
  return ctx.driver.kernel.state;
}

/**
 * Runs an engine command at the wall clock's now; answers (returns, or throws its refusal) only
 * once the log is durable up to it. A refusal waits too: it may tell of state not yet on disk
 * (ALREADY_EXISTS for a task whose own create is still being synced), and a crash must not take
 * back what an answer said (found by the crash swarm: docs/testing.md).
 */
export async function durable<T>(ctx: ApiContext, fn: () => T): Promise<T> {
  let result: T;
  try {
    result = ctx.driver.run(fn);
  } catch (err) {
    await ctx.log.flush(); // if the disk fails now, that (UNAVAILABLE) is the answer
    throw err;
  }
  await ctx.log.flush();
  return result;
}

/**
 * A task that has not ended. An ended one whose name is still reserved is TOMBSTONED_TASK, as
 * a delete of it says (the same rule: requireLiveTask); after that, UNKNOWN_TASK.
 */
function liveTaskId(ctx: ApiContext, queue: string, task: string): number {
  return requireLiveTask(engineState(ctx), queue, task, ctx.driver.clock());
}

function queueView(ctx: ApiContext, loc: Location, q: QueueRuntime): Record<string, unknown> {
  return queueResource(loc, q, ctx.history.purgedAt.get(q.name));
}

/**
 * The Cloud Tasks calls pushq does not serve, by their full gRPC name, and why: IAM and the
 * locations mixin are not emulated. UNIMPLEMENTED over gRPC (any method without an operation) and
 * over REST (their paths) alike, so a client never reads a NOT_FOUND as "no such queue".
 */
export const NOT_SERVED: Readonly<Record<string, string>> = {
  'google.cloud.tasks.v2.CloudTasks.GetIamPolicy': 'IAM is not emulated: every caller may do everything',
  'google.cloud.tasks.v2.CloudTasks.SetIamPolicy': 'IAM is not emulated: every caller may do everything',
  'google.cloud.tasks.v2.CloudTasks.TestIamPermissions': 'IAM is not emulated: every caller may do everything',
  'google.cloud.location.Locations.GetLocation': 'locations are not emulated: any project and location is accepted in a name',
  'google.cloud.location.Locations.ListLocations': 'locations are not emulated: any project and location is accepted in a name',
};

/** The refusal of a call pushq does not serve (NOT_SERVED, or another the service does not have). */
export function notServedError(method: string): ApiError {
  const why = Object.hasOwn(NOT_SERVED, method) ? NOT_SERVED[method] : 'not a call pushq emulates';
  return new ApiError('UNSUPPORTED_METHOD', `${method} is not served by pushq (${why})`, undefined, 'UNIMPLEMENTED');
}

/** Throws notServedError(method). */
export function notServed(method: string): never {
  throw notServedError(method);
}

/** CreateQueue, UpdateQueue, DeleteQueue. */
export function queuesAreFromYaml(): never {
  throw new ApiError('QUEUES_FROM_CONFIG', 'queues are defined in queue.yaml: edit it and reload (SIGHUP or POST /pushq/reload); App Engine queues cannot be created, changed or deleted dynamically');
}

export function listQueues(ctx: ApiContext, loc: Location, page: PageRequest): Record<string, unknown> {
  const { items, nextPageToken } = pageOfItems(engineState(ctx).queues, pageOf(page, QUEUES_LIST), QUEUES_LIST);
  const queues = items.map((q) => queueView(ctx, loc, q));
  return nextPageToken === undefined ? { queues } : { queues, nextPageToken };
}

export function getQueue(ctx: ApiContext, loc: Location, queue: string): Record<string, unknown> {
  return queueView(ctx, loc, requireQueue(engineState(ctx), queue));
}

export type QueueVerb = 'pause' | 'resume' | 'purge';

export async function changeQueue(ctx: ApiContext, loc: Location, queue: string, verb: QueueVerb): Promise<Record<string, unknown>> {
  await durable(ctx, () => {
    const k = ctx.driver.kernel;
    if (verb === 'pause') k.pauseQueue(queue);
    else if (verb === 'resume') k.resumeQueue(queue);
    else k.purgeQueue(queue);
  });
  return getQueue(ctx, loc, queue);
}

/**
 * CreateTask: `request` is `{ task, responseView }` (camelCase names). The answer is the task as
 * the add left it, taken in the add's own step (createdTaskResource), and sent after the sync.
 */
export async function createTask(ctx: ApiContext, loc: Location, queue: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { spec, view } = createTaskSpec(loc, queue, request, ctx.httpTargets);
  // A name an open App Engine transaction chose for one of its tasks is taken until it ends.
  const handle = spec.name === undefined ? null : ctx.transactions.reservedBy(queue, spec.name, ctx.driver.clock());
  if (handle !== null) throw new TaskNameReservedError(spec.name as string, queue, handle);
  return durable(ctx, () => {
    const [added] = ctx.driver.kernel.addTasks([spec], 'cloud-tasks');
    return createdTaskResource(loc, engineState(ctx), added as TaskAdded, view);
  });
}

export function listTasks(ctx: ApiContext, loc: Location, queue: string, page: PageRequest, view: TaskView): Record<string, unknown> {
  const s = engineState(ctx);
  const q = requireQueue(s, queue);
  const list = tasksList(queue);
  const { size, from } = pageOf(page, list);
  const tasks: unknown[] = [];
  const t = s.tasks;
  let id = from;
  for (; id < t.count && tasks.length < size; id++) {
    if (t.queue[id] === q.index && isLive(s, id)) tasks.push(taskResource(loc, s, ctx.history, id, view));
  }
  for (let j = id; j < t.count; j++) {
    if (t.queue[j] === q.index && isLive(s, j)) return { tasks, nextPageToken: pageToken(id, list) };
  }
  return { tasks };
}

export function getTask(ctx: ApiContext, loc: Location, queue: string, task: string, view: TaskView): Record<string, unknown> {
  return taskResource(loc, engineState(ctx), ctx.history, liveTaskId(ctx, queue, task), view);
}

export async function deleteTask(ctx: ApiContext, queue: string, task: string): Promise<Record<string, never>> {
  await durable(ctx, () => ctx.driver.kernel.deleteTask(queue, task));
  return {};
}

/**
 * `POST /pushq/reset` (`--allow-reset`, for test suites): every task of every queue is dropped
 * (a purge whose attempts in flight are aborted, logged as orphaned by the reset) and every task
 * name freed, tombstones included;
 * open transactions of App Engine's transactional tasks are dropped with their tasks; every
 * token bucket is full again, as a freshly deployed queue's (decideResetQueue).
 * The queues stay as they are (configuration, paused or not).
 */
export async function resetTasks(ctx: ApiContext): Promise<Record<string, unknown>> {
  if (!ctx.resetAllowed) throw new ApiError('RESET_NOT_ALLOWED', 'POST /pushq/reset drops every task; this server was started without --allow-reset, which serves it (for test suites)');
  const queues = engineState(ctx).queues.map((q) => q.name);
  await durable(ctx, () => {
    ctx.driver.kernel.resetQueues(queues);
    // Only once the reset is taken: one the log refuses (LOG_UNAVAILABLE) changes nothing, and an
    // app's transaction open across it still commits its tasks.
    ctx.transactions.clear();
  });
  return { reset: true, queues };
}

/**
 * RunTask: the answer is the task as the run dispatched it, as Cloud Tasks answers ("the task that
 * is returned contains the status after the task is dispatched but before the task is received by
 * its target"): read in the run's own step, and sent after the sync, during which a fast worker
 * has often answered (responseCount, lastAttempt's response, a retry's scheduleTime), which the
 * answer does not tell.
 */
export async function runTask(ctx: ApiContext, loc: Location, queue: string, task: string, view: TaskView): Promise<Record<string, unknown>> {
  const id = liveTaskId(ctx, queue, task);
  return durable(ctx, () => {
    ctx.driver.kernel.runTask(queue, task);
    return taskResource(loc, engineState(ctx), ctx.history, id, view);
  });
}
