/**
 * Time travel over a log: the state and every read model the dashboard shows, as they were at any
 * instant, without folding the log from its start each time (a million events take seconds).
 *
 * One pass reads the log (with the reader's checks: a torn tail is dropped and reported, corruption
 * or an event that does not fit is the same error `pushq replay` gives) and folds it through the
 * same EventFold and projections as `pushq replay`. As it goes it keeps
 * - the events, compactly (in MemoryEventLogs of at most KEPT_LOG_EVENTS events, or as the
 *   reader's chunks came), and
 * - every CHECKPOINT_EVENTS events a checkpoint: a copy of the fold (fold-copy.ts; pages that did
 *   not change since the previous checkpoint are shared, so old tasks are held once).
 * The state at instant T is then: restore the last checkpoint taken before any event later than T,
 * and fold the events after it up to T, as `pushq replay --at T` does from the start: the same
 * events through the same code, so the same figures (test/server/time-travel.test.ts compares
 * them at many instants). Cost: one restore plus at most CHECKPOINT_EVENTS events; less for a
 * cursor moved forward, where the last instants shown are folded on instead (VIEWS_KEPT of them).
 *
 * A task's story at T folds only from the checkpoint before the task was added, and stops once the
 * task has ended with no attempt left open.
 *
 * Checkpoints may be deferred (`deferCheckpoints`, for `pushq replay --ui`): the pass that reads the
 * log then only folds and keeps the events, so the world at the log's end can be shown as soon as
 * the log is read (the copies cost more than the fold itself), and `indexInBackground` takes the
 * checkpoints afterwards with a second fold over the kept events, a slice at a time between other
 * work. Any instant is answered meanwhile, from the last checkpoint taken so far: the same events
 * through the same code, only more of them to fold. Once the second fold has caught up, the first is
 * dropped and the second goes on as the only one.
 *
 * A live service extends its index as its log grows (`extendFile`, `extendInSlices`).
 * The instants kept stay valid then: one is kept only when some event kept is later than it
 * (`at` answers any later instant with `end()`), so its fold stopped at that event, and events
 * added after it cannot change what it holds. (Dropping them made every move of a live page's
 * cursor restore a checkpoint into new objects, since its log grows between two moves.)
 */
import { findTaskId, requireQueue } from '../core/decide.js';
import type { EngineEvent } from '../core/events.js';
import { taskName, type EngineState } from '../core/state.js';
import { isFinal, type TaskState } from '../core/task-machine.js';
import type { LogHeader } from '../log/event-log.js';
import type { LogPosition, ReadOptions, Recovered } from '../log/log-reader.js';
import { scanEventLog } from '../log/log-reader.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { readLogInParallel } from '../log/parallel-read.js';
import { EventFold } from '../projections/fold.js';
import { TaskStoryCollector, type TaskStory } from '../projections/task-story.js';
import { FoldCopier, type FoldCopy } from './fold-copy.js';
import { newReadModels, projectionsOf, type FoldView, type ReadModels } from './read-models.js';

/** Events between two checkpoints: bounds the work of a move of the cursor. */
export const CHECKPOINT_EVENTS = 65_536;
/**
 * Events per memory log kept, and per chunk a reading thread sends (readFile). Small: the fold
 * starts as soon as the first chunk is read and ends soon after the last; a reader's small tapes
 * cost less to grow and to move than tapes of a checkpoint's 65,536 events (a read of a
 * 1.07 M-event log ~10% sooner, measured in-process: 1.44 s → 1.28 s); and a fold starting inside
 * a log decodes the events before it there to skip them.
 */
export const KEPT_LOG_EVENTS = 4_096;
/** Restored instants kept, most recent first (a page asks for figures and tasks at the same instant). */
const VIEWS_KEPT = 3;

interface Checkpoint {
  /** Events before it. */
  events: number;
  /** The latest time of those events (−Infinity for none): it serves every instant at or after it. */
  maxTUs: number;
  /** Tasks that existed then. */
  tasks: number;
  copy: FoldCopy;
}

/** A story told at an instant: the task's story, how many tasks had its name, events folded. */
export interface StoryAt {
  story: TaskStory;
  sameName: number;
  eventsRead: number;
}

/** The story's task is not in the log at that instant (the caller's error type says so). */
export class TaskNotFoundError extends Error {
  override name = 'TaskNotFoundError';
}

/** Options of an index: checkpoint spacing, and whether the checkpoints wait for `indexInBackground`. */
export interface IndexOptions {
  checkpointEvery?: number;
  deferCheckpoints?: boolean;
}

/**
 * Work done per slice of `indexInBackground` before other work gets its turn, ms. A checkpoint's
 * copy is not cut: a slice that takes one lasts as long as the copy (a tenth of a second or so on
 * a million-event log).
 */
const SLICE_MS = 8;
/** How often a background index waiting for the page to be served looks again, ms. */
const BUSY_WAIT_MS = 10;

export class LogIndex {
  /** First and last event times (µs in the log's clock); NaN while the log has no event. */
  firstUs = NaN;
  lastUs = NaN;
  /** Where the next read of a growing log file starts. */
  position: LogPosition | null = null;
  /** Bytes of a stored copy not shared with the one before, summed (for the benchmark). */
  checkpointBytes = 0;
  /** The checkpointing fold's read models and fold: every checkpoint is a copy of these. */
  private readonly models = newReadModels();
  private readonly fold: EventFold;
  /**
   * While checkpoints are deferred and not caught up: the fold that reads ahead (every event kept
   * so far), which `end()` shows. Null once the checkpointing fold has caught up.
   */
  private ahead: { models: ReadModels; fold: EventFold } | null = null;
  private readonly checkpoints: Checkpoint[] = [];
  /** The events kept, in order: `logs[i]` holds events `starts[i]` to `starts[i + 1]` − 1. */
  private readonly logs: MemoryEventLog[] = [];
  private readonly starts: number[] = [];
  private readonly copier = new FoldCopier();
  /** Events kept, and the latest time among them. */
  private kept = 0;
  private maxTUs = -Infinity;
  /** The latest time among the events the checkpointing fold applied. */
  private foldedMaxTUs = -Infinity;
  /** The checkpointing fold's way through the kept events (null: start one where it stands). */
  private pending: Iterator<EngineEvent> | null = null;
  private views: { atUs: number; view: FoldView }[] = [];

  constructor(
    readonly header: LogHeader,
    private readonly every = CHECKPOINT_EVENTS,
    deferCheckpoints = false,
  ) {
    this.fold = new EventFold(projectionsOf(this.models), { misfit: 'report' });
    if (deferCheckpoints) {
      const models = newReadModels();
      this.ahead = { models, fold: new EventFold(projectionsOf(models), { misfit: 'report' }) };
    }
    this.logs.push(new MemoryEventLog(header));
    this.starts.push(0);
    this.checkpoint();
  }

  /**
   * Reads a log file: a LogError (not a pushq log, newer format, corruption) or an
   * EventMisfitError as `pushq replay` raises them; `recovered` says what a torn tail dropped.
   */
  static fromFile(path: string, options: ReadOptions & IndexOptions = {}): { index: LogIndex; recovered: Recovered } {
    let index: LogIndex | undefined;
    const scan = scanEventLog(path, options, {
      onHeader: (h) => (index = new LogIndex(h, options.checkpointEvery, options.deferCheckpoints)),
      onEvent: (e) => (index as LogIndex).add(e),
    });
    const built = index as LogIndex;
    built.position = scan.end;
    return { index: built, recovered: scan.recovered };
  }

  /**
   * `fromFile` on two cores (parallel-read.ts): a worker thread reads and checks the log while this
   * thread folds it; the events come as memory logs of KEPT_LOG_EVENTS events, kept as they are:
   * small, so the fold starts soon after the reading does and ends soon after it. The same errors
   * and `recovered` as `fromFile`.
   */
  static async readFile(path: string, options: ReadOptions & IndexOptions = {}): Promise<{ index: LogIndex; recovered: Recovered }> {
    let index: LogIndex | undefined;
    const read = await readLogInParallel(path, { ...(options.repair === undefined ? {} : { repair: options.repair }) }, KEPT_LOG_EVENTS, {
      onHeader: (h) => (index = new LogIndex(h, options.checkpointEvery, options.deferCheckpoints)),
      onChunk: (events) => (index as LogIndex).adopt(events),
    });
    const built = index as LogIndex;
    built.position = read.end;
    return { index: built, recovered: read.recovered };
  }

  /** Events applied. */
  get events(): number {
    return this.kept;
  }

  /** Checkpoints kept (the first, before any event, included). */
  get checkpointCount(): number {
    return this.checkpoints.length;
  }

  /** Instants restored and kept, to be folded on or refilled by the next moves (at most VIEWS_KEPT). */
  get instantsKept(): number {
    return this.views.length;
  }

  /** Whether every checkpoint is taken (always, unless deferred and `indexInBackground` has not caught up). */
  get indexed(): boolean {
    return this.ahead === null;
  }

  /** Keeps `events` (the events that follow those kept) as a memory log of their own, and folds them. */
  private adopt(events: MemoryEventLog): void {
    if (events.length === 0) return;
    if ((this.logs[this.logs.length - 1] as MemoryEventLog).length === 0) {
      this.logs[this.logs.length - 1] = events;
    } else {
      this.logs.push(events);
      this.starts.push(this.kept);
    }
    for (const e of events) this.take(e);
  }

  add(e: EngineEvent): void {
    let last = this.logs[this.logs.length - 1] as MemoryEventLog;
    if (last.length >= KEPT_LOG_EVENTS) {
      last = new MemoryEventLog(this.header);
      this.logs.push(last);
      this.starts.push(this.kept);
    }
    last.append(e);
    this.take(e);
  }

  /** Counts in an event just kept, and folds it: with the checkpoints, or ahead of them (deferred). */
  private take(e: EngineEvent): void {
    this.kept++;
    if (Number.isNaN(this.firstUs)) this.firstUs = e.t;
    this.lastUs = e.t;
    if (e.t > this.maxTUs) this.maxTUs = e.t;
    if (this.ahead === null) this.applyNext(e);
    else this.ahead.fold.apply(e);
  }

  /**
   * Takes the deferred checkpoints, a slice at a time (other work, such as the server's requests,
   * runs between slices); resolves once they are all taken, or at the first slice after `stop` is
   * aborted (the index goes on answering, from the checkpoints taken). `onSlice` hears the progress.
   * While `busy()` says so (a page being served), no slice starts: the work fills idle time.
   */
  async indexInBackground(onSlice?: (folded: number, kept: number) => void, stop?: AbortSignal, busy: () => boolean = () => false): Promise<void> {
    const idle = async (): Promise<void> => {
      while (busy() && stop?.aborted !== true) await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
    };
    while (this.ahead !== null && stop?.aborted !== true) {
      await idle();
      const until = performance.now() + SLICE_MS;
      while (this.fold.events < this.kept && performance.now() < until) {
        for (let i = 0; i < 1024 && this.fold.events < this.kept; i++) this.applyNext(this.nextKept());
      }
      if (this.fold.events === this.kept) {
        // Caught up: the checkpointing fold is now the one that is ahead; the other is dropped.
        this.ahead = null;
        this.pending = null;
      }
      onSlice?.(this.fold.events, this.kept);
      if (this.ahead !== null) await new Promise((resolve) => setImmediate(resolve));
    }
    // The instants kept start empty, so a user's first jumps would each restore into new objects
    // (several times the cost of a refill); restored here, one per turn, spread over the log, they
    // are there to be refilled.
    for (let k = 1; k <= VIEWS_KEPT && this.ahead === null && stop?.aborted !== true && this.checkpoints.length > VIEWS_KEPT; k++) {
      if (this.views.length >= VIEWS_KEPT) break;
      const c = this.checkpoints[Math.floor((k * this.checkpoints.length) / (VIEWS_KEPT + 1))] as Checkpoint;
      await idle();
      this.at(c.maxTUs);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Applies a kept event to the checkpointing fold, and takes a checkpoint at its turn. */
  private applyNext(e: EngineEvent): void {
    this.fold.apply(e);
    if (e.t > this.foldedMaxTUs) this.foldedMaxTUs = e.t;
    if (this.fold.events % this.every === 0) this.checkpoint();
  }

  /** The next kept event the checkpointing fold has not applied (there is one). */
  private nextKept(): EngineEvent {
    let next = this.pending?.next();
    if (next === undefined || next.done === true) {
      // A log read to its end may have grown since (a live log): read on from where the fold stands.
      this.pending = this.keptFrom(this.fold.events);
      next = this.pending.next();
    }
    return next.value as EngineEvent;
  }

  /** Reads what a growing log file gained since the last read (a live service's own log, flushed). */
  extendFile(path: string): void {
    const scan = scanEventLog(path, {}, { ...(this.position === null ? {} : { from: this.position }), onEvent: (e) => this.add(e) });
    this.position = scan.end;
  }

  /** `extendFile` as `readFile` reads: on a thread, folded here a chunk per turn (for a log that gained much). */
  async extendFileInParallel(path: string): Promise<void> {
    const read = await readLogInParallel(path, {}, KEPT_LOG_EVENTS, { onHeader: () => undefined, onChunk: (events) => this.adopt(events) }, this.position ?? undefined);
    this.position = read.end;
  }

  /**
   * Takes `events` (those that follow the events kept: what a memory log or a store's stream
   * gained), a slice at a time: a live service answers between slices (taken in one go, ~180,000
   * events held it 1.8 s). The caller runs one extension at a time.
   */
  async extendInSlices(events: Iterable<EngineEvent>): Promise<void> {
    let until = performance.now() + SLICE_MS;
    let n = 0;
    for (const e of events) {
      this.add(e);
      if ((++n & 1023) === 0 && performance.now() >= until) {
        await new Promise((resolve) => setImmediate(resolve));
        until = performance.now() + SLICE_MS;
      }
    }
  }

  private checkpoint(): void {
    const state = this.fold.state;
    // The configuration and settings the state holds are the kept ConfigApplied events' own
    // objects (as a task's meta is its TaskAdded's options): kept by reference, never copied, so
    // that a view refilled for another instant (fold-copy.ts) cannot write over a kept event.
    const eventOwned = new Set<object>();
    if (state.config !== null) eventOwned.add(state.config);
    eventOwned.add(state.settings);
    for (const q of state.queues) eventOwned.add(q.config);
    const copy = this.copier.copy({ state, ...this.models }, new Set([state.tasks.meta]), eventOwned);
    this.checkpointBytes += copy.ownBytes;
    this.checkpoints.push({ events: this.fold.events, maxTUs: this.foldedMaxTUs, tasks: this.fold.state.tasks.count, copy });
  }

  /** After every event: the fold itself (do not change it; it is not a copy). */
  end(): FoldView {
    const { fold, models } = this.ahead ?? { fold: this.fold, models: this.models };
    return { state: fold.state, ...models, events: fold.events };
  }

  /**
   * The world after every event at or before `atUs` (as `pushq replay --at` folds it). Read it
   * before the next call: that call may fold this view on, or refill its objects, for its instant.
   */
  at(atUs: number): FoldView {
    if (atUs >= this.maxTUs) return this.end();
    const kept = this.views.find((v) => v.atUs === atUs);
    if (kept !== undefined) return kept.view;
    const index = this.lastCheckpoint((c) => c.maxTUs <= atUs);
    const from = (this.checkpoints[index] as Checkpoint).events;
    // A view restored before, not past the instant and not behind the checkpoint, folds on from
    // where it stands: a cursor moved forward (a step, play, a drag) costs the events in between.
    const ahead = this.views.filter((v) => v.atUs < atUs && v.view.events >= from).sort((a, b) => b.view.events - a.view.events)[0];
    let view: FoldView;
    if (ahead === undefined) {
      // A full cache gives up its oldest instant: its objects are refilled (fold-copy.ts), not
      // made anew.
      const oldest = this.views.length < VIEWS_KEPT ? undefined : this.views.pop();
      view = this.foldFrom(index, atUs, oldest === undefined ? newReadModels() : oldest.view);
    } else {
      this.views = this.views.filter((v) => v !== ahead);
      view = this.foldOn(ahead.view, atUs);
    }
    this.views = [{ atUs, view }, ...this.views].slice(0, VIEWS_KEPT);
    return view;
  }

  /**
   * The story of task `name` in `queue` as of `atUs`: the task the state then names (the latest
   * with that name). Throws TaskNotFoundError (no such queue or task then).
   */
  story(queue: string, name: string, atUs: number): StoryAt {
    const then = this.at(atUs);
    let id: number;
    try {
      id = findTaskId(then.state, requireQueue(then.state, queue), name);
    } catch {
      throw new TaskNotFoundError(`no queue "${queue}" in the log at that instant`);
    }
    if (id < 0) throw new TaskNotFoundError(`task "${name}" not found in queue "${queue}" at that instant`);
    // Only the state and the story: the other read models are not needed here.
    const collector = new TaskStoryCollector(name, queue);
    const from = this.checkpoints[this.lastCheckpoint((c) => c.tasks <= id)] as Checkpoint;
    const state = FoldCopier.restoreField(from.copy, 'state') as EngineState;
    const fold = new EventFold([collector], { state, until: atUs, misfit: 'assert' });
    const ended = (): boolean => isFinal(state.tasks.state[id] as TaskState) && state.tasks.attemptOpen[id] === 0 && id < state.tasks.count;
    this.each(from.events, (e) => {
      fold.apply(e);
      return fold.done || ended();
    });
    const story = collector.stories.find((s) => s.id === id);
    if (story === undefined) throw new TaskNotFoundError(`task "${name}" not found in queue "${queue}" at that instant`);
    let sameName = 0;
    const t = then.state.tasks;
    const qi = t.queue[id] as number;
    for (let i = 0; i < t.count; i++) if (t.queue[i] === qi && taskName(then.state, i) === name) sameName++;
    return { story, sameName, eventsRead: from.events + fold.events };
  }

  private lastCheckpoint(fits: (c: Checkpoint) => boolean): number {
    // Checkpoints grow in every field tested: the last that fits, by bisection.
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(this.checkpoints[mid] as Checkpoint)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Each event from the `first`-th on (0-based), until `done` says so. */
  private each(first: number, done: (e: EngineEvent) => boolean): void {
    for (const e of this.keptFrom(first)) if (done(e)) return;
  }

  /** The kept events from the `first`-th on (0-based). */
  private *keptFrom(first: number): Generator<EngineEvent> {
    // The last log starting at or before `first`, by bisection.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= first) lo = mid;
      else hi = mid - 1;
    }
    let skip = first - (this.starts[lo] as number);
    for (let s = lo; s < this.logs.length; s++) {
      for (const e of this.logs[s] as MemoryEventLog) {
        if (skip > 0) skip--;
        else yield e;
      }
    }
  }

  /**
   * Restores checkpoint `index` into `into` (fresh read models, or a view nobody reads any more,
   * refilled in place) and folds on until an event later than `untilUs`.
   */
  private foldFrom(index: number, untilUs: number, into: ReadModels | FoldView): FoldView {
    const c = this.checkpoints[index] as Checkpoint;
    const template = { state: 'state' in into ? into.state : (undefined as unknown as EngineState), stats: into.stats, insight: into.insight, counters: into.counters, history: into.history, waits: into.waits, failures: into.failures, markers: into.markers };
    const restored = FoldCopier.restore(c.copy, template);
    return this.foldOn({ ...restored, events: c.events }, untilUs);
  }

  /** Folds `view` on, in place, from its last event to the last at or before `untilUs`. */
  private foldOn(view: FoldView, untilUs: number): FoldView {
    // Events this index already checked: a misfit here would be a bug of the copy.
    const fold = new EventFold(projectionsOf(view), { state: view.state, until: untilUs, misfit: 'assert' });
    this.each(view.events, (e) => {
      fold.apply(e);
      return fold.done;
    });
    return { ...view, events: view.events + fold.events };
  }
}
