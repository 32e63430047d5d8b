/**
 * A task's story for the dashboard (`GET /pushq/queues/Q/tasks/T/story`): the facts
 * `pushq replay LOG --task T` prints, as JSON, told from the service's own log.
 *
 * Invariants:
 * - Read-only: the log is flushed (committed batches written, so the story includes the latest
 *   of them) and then read from its start; nothing is appended, the live state is not touched.
 *   The API commits the open batch of real settles first (kernel.commitSettled), so the story
 *   has every event the state shows; a read that still saw fewer is not cached.
 *   The events are folded into a fresh state with the same EventFold and TaskStoryCollector as
 *   `pushq replay`, so the two tell the same story.
 * - The live state names the task: its id is looked up there (live or ended, as long as the
 *   queue keeps the name), and the story with that id is the one told; a name reused after its
 *   tombstone therefore shows the task it names now.
 * - Cost: one pass over the whole log per request (about a second per million events on a file
 *   log, docs/replay.md), synchronous: the service does nothing else meanwhile.
 */
import { findTaskId, requireQueue } from '../core/decide.js';
import type { EngineState } from '../core/state.js';
import { US_PER_SECOND } from '../core/time.js';
import type { EventLog } from '../log/event-log.js';
import { FileEventLog } from '../log/file-log.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { StoreEventLog } from '../store/store-log.js';
import { foldLogFile } from '../log/replay.js';
import { fold, type EventFold } from '../projections/fold.js';
import { TaskStoryCollector, heldByParts, type AttemptStory, type BackoffStory, type EndReasonName, type GiveUpStory, type TaskStory } from '../projections/task-story.js';
import type { TaskMeta } from '../core/task-table.js';
import { ApiError } from './errors.js';
import { payloadView, requestView, type PayloadView, type RequestView } from './payload-view.js';
import { formatTimestamp } from './timestamps.js';

interface BackoffView {
  /** The formula's n: the retry being scheduled (1 = first retry). */
  retry: number;
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  maxDoublings: number;
  /** min(n − 1, max_doublings). */
  doublings: number;
  /** n − doublings: 1 while doubling, then growing linearly. */
  linear: number;
  /** min(max_backoff, min_backoff · 2^doublings · linear). */
  delaySeconds: number;
  delayUs: number;
  nextEta: string;
  nextEtaUs: number;
}

type AttemptOutcome = 'in_flight' | 'succeeded' | 'failed' | 'orphaned';

interface AttemptView {
  /** 1-based. */
  number: number;
  dispatchedAt: string;
  dispatchedAtUs: number;
  /** Dispatched by a run command (`:run`), ignoring ETA, rate and pause. */
  forced: boolean;
  /** X-AppEngine-TaskRetryCount the worker saw. */
  retryCount: number;
  /** X-AppEngine-TaskExecutionCount the worker saw. */
  executionCount: number;
  /** X-AppEngine-TaskPreviousResponse the worker saw; null when it had none. */
  previousStatus: number | null;
  outcome: AttemptOutcome;
  /** HTTP status; null while in flight or when no response came (see reason, error). */
  status: number | null;
  /** Why a failed attempt failed: `status`, `deadline` or `connection`; null otherwise. */
  reason: string | null;
  error: string | null;
  timedOut: boolean;
  endedAt: string | null;
  endedAtUs: number | null;
  latencySeconds: number | null;
  latencyUs: number | null;
  /** The backoff that followed a failure, with the formula's inputs; null after the last attempt. */
  backoff: BackoffView | null;
  /** From when the task could go (its ETA or its backoff's end) to this dispatch, seconds. */
  waitedSeconds: number;
  /** What held its queue meanwhile, seconds per cause (tokens, concurrency, paused, disabled, transport, not_running). */
  heldBySeconds: Record<string, number>;
  /** The same, as the story says it (task-story.ts heldByParts): `concurrency` dev-server mode held reads as the app's one task at a time. */
  heldBy: { cause: string; text: string; seconds: number }[];
}

interface GiveUpView {
  /** Attempts made, and the retries among them (attempts − 1). */
  attempts: number;
  retries: number;
  /** task_retry_limit; null = unlimited. */
  taskRetryLimit: number | null;
  ageSeconds: number;
  ageUs: number;
  /** task_age_limit; null = unlimited. */
  taskAgeLimitSeconds: number | null;
  taskAgeLimitUs: number | null;
}

export interface TaskStoryView {
  queue: string;
  task: string;
  id: number;
  /** The task's state after the last logged event: pending, dispatching, backoff, succeeded, failed, deleted. */
  state: string;
  addedAt: string;
  addedAtUs: number;
  /** The ETA it was added with. */
  eta: string;
  etaUs: number;
  /** The task carries its own retry options (else its queue's apply). */
  ownRetryOptions: boolean;
  attempts: AttemptView[];
  /** null while the task has not ended. */
  ended: { reason: EndReasonName; at: string; atUs: number; giveUp: GiveUpView | null } | null;
  /** Tasks with this name in the log (more than 1 when a name was reused after its tombstone). */
  sameName: number;
  /** Events read to tell the story. */
  eventsRead: number;
  /** Its request as the task defines it (its own headers, not those the queue adds to each attempt), and its payload decoded (payload-view.ts). */
  request: RequestView;
  payload: PayloadView;
}

/** The story of task `id` (`name` in `queue`, as the live state names it), read from `log`. */
async function readStory(log: EventLog, id: number, queue: string, name: string): Promise<TaskStoryView> {
  const collector = new TaskStoryCollector(name, queue);
  let folded: EventFold;
  if (log instanceof FileEventLog) {
    await log.flush();
    folded = foldLogFile(log.path, [collector]).fold;
  } else if (log instanceof MemoryEventLog) {
    folded = fold(log, [collector]);
  } else if (log instanceof StoreEventLog) {
    folded = fold(await log.readAll(), [collector]);
  } else {
    throw new ApiError('STORY_UNAVAILABLE', 'task stories are read from a file or memory event log; this service has another kind');
  }
  const story = collector.stories.find((s) => s.id === id);
  // A task the state knows but this log does not: a service restarted onto a fresh memory log.
  if (story === undefined) throw new ApiError('UNKNOWN_TASK', `task "${name}" in queue "${queue}" is not in this service's log`);
  return storyView(story, collector.stories.length, folded.events, folded.state.tasks.meta[id]);
}

/**
 * Stories with a memory: a story is read again only when events were applied since the last
 * read of that task (each read is a pass over the whole log, and stalls the service meanwhile),
 * and requests for a task while its story is being read share that read.
 */
export class TaskStoryCache {
  private readonly entries = new Map<number, { version: number; view: Promise<TaskStoryView> }>();

  constructor(
    private readonly log: EventLog,
    private readonly capacity = 64,
  ) {}

  read(state: EngineState, queue: string, name: string): Promise<TaskStoryView> {
    const q = requireQueue(state, queue);
    const id = findTaskId(state, q, name);
    if (id < 0) return Promise.reject(new ApiError('UNKNOWN_TASK', `task "${name}" not found in queue "${queue}"`));
    const version = state.eventsApplied;
    const hit = this.entries.get(id);
    if (hit !== undefined && hit.version === version) return hit.view;
    const entry = { version, view: readStory(this.log, id, queue, name) };
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as number);
    // A read that saw fewer events than the state had applied (a batch not yet committed) is
    // not kept: kept under this version, it would hide the task's latest events until the next one.
    entry.view.then(
      (view) => {
        if (view.eventsRead < version && this.entries.get(id) === entry) this.entries.delete(id);
      },
      () => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
    return entry.view;
  }
}

const seconds = (us: number): number => us / US_PER_SECOND;

/** The story as the API gives it; `meta` is the task's TaskAdded options (its request and payload). */
export function storyView(s: TaskStory, sameName: number, eventsRead: number, meta: TaskMeta | undefined): TaskStoryView {
  const e = s.ended;
  return {
    queue: s.queue,
    task: s.name,
    id: s.id,
    state: s.state,
    addedAt: formatTimestamp(s.addedAtUs),
    addedAtUs: s.addedAtUs,
    eta: formatTimestamp(s.etaUs),
    etaUs: s.etaUs,
    ownRetryOptions: s.ownRetry,
    attempts: s.attempts.map(attemptView),
    ended: e === null ? null : { reason: e.reason, at: formatTimestamp(e.atUs), atUs: e.atUs, giveUp: e.giveUp === null ? null : giveUpView(e.giveUp) },
    sameName,
    eventsRead,
    request: requestView(meta, s.queue),
    payload: payloadView(meta),
  };
}

function attemptView(a: AttemptStory, i: number): AttemptView {
  let outcome: AttemptOutcome;
  if (a.endedAtUs === null) outcome = 'in_flight';
  else if (a.orphaned) outcome = 'orphaned';
  else if (a.reason === null) outcome = 'succeeded';
  else outcome = 'failed';
  return {
    number: i + 1,
    dispatchedAt: formatTimestamp(a.dispatchedAtUs),
    dispatchedAtUs: a.dispatchedAtUs,
    forced: a.forced,
    retryCount: a.retryCount,
    executionCount: a.executionCount,
    previousStatus: a.previousStatus,
    outcome,
    status: a.status,
    reason: a.reason,
    error: a.error,
    timedOut: a.timedOut,
    endedAt: a.endedAtUs === null ? null : formatTimestamp(a.endedAtUs),
    endedAtUs: a.endedAtUs,
    latencySeconds: a.latencyUs === null ? null : seconds(a.latencyUs),
    latencyUs: a.latencyUs,
    backoff: a.backoff === null ? null : backoffView(a.backoff),
    waitedSeconds: seconds(a.waitedUs),
    heldBySeconds: Object.fromEntries(Object.entries(a.heldByUs).map(([cause, us]) => [cause, seconds(us)])),
    heldBy: heldByParts(a).map((p) => ({ cause: p.cause, text: p.text, seconds: seconds(p.us) })),
  };
}

function backoffView(b: BackoffStory): BackoffView {
  return {
    retry: b.retry,
    minBackoffSeconds: seconds(b.minBackoffUs),
    maxBackoffSeconds: seconds(b.maxBackoffUs),
    maxDoublings: b.maxDoublings,
    doublings: b.doublings,
    linear: b.retry - b.doublings,
    delaySeconds: seconds(b.delayUs),
    delayUs: b.delayUs,
    nextEta: formatTimestamp(b.nextEtaUs),
    nextEtaUs: b.nextEtaUs,
  };
}

function giveUpView(g: GiveUpStory): GiveUpView {
  return {
    attempts: g.attemptsMade,
    retries: g.attemptsMade - 1,
    taskRetryLimit: g.retryLimit,
    ageSeconds: seconds(g.ageUs),
    ageUs: g.ageUs,
    taskAgeLimitSeconds: g.ageLimitUs === null ? null : seconds(g.ageLimitUs),
    taskAgeLimitUs: g.ageLimitUs,
  };
}
