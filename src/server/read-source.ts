/**
 * Where the dashboard's read API reads from: a live service (`pushq serve`) or a recorded log
 * (`pushq replay LOG --ui`). Both answer the same questions, so one page and one API serve both:
 * the world now or at an instant (`?at=SECONDS`, seconds since the log's first event), and a
 * task's story then.
 *
 * - Recorded: a LogIndex built before the server starts (time-travel.ts); "now" is the last event
 *   (a store's log: the wall clock's now, instant-span.ts).
 * - Live: now is the service's own state and read models, kept by the kernel as events happen; an
 *   instant in the past is read from the service's log (a file, a memory log, or its stream in the
 *   store) through a LogIndex built at the first such request and extended at each later one (the
 *   log is flushed first, as for a story).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { WallDriver } from '../engine/wall-driver.js';
import type { EventLog } from '../log/event-log.js';
import { FileEventLog } from '../log/file-log.js';
import { LOG_START, MemoryEventLog } from '../log/memory-log.js';
import { StoreEventLog } from '../store/store-log.js';
import type { LogClock } from '../projections/queue-summary.js';
import { ApiError } from './errors.js';
import { isoInstantUs, looksLikeIsoInstant, outsideSpan, spanEndUs } from './instant-span.js';
import { storyView, type TaskStoryCache, type TaskStoryView } from './task-story-view.js';
import type { FoldView, ReadModels } from './read-models.js';
import { LogIndex, TaskNotFoundError } from './time-travel.js';

export type SourceMode = 'live' | 'recorded';

/** What a live log file may have gained since its last read for the next read to be done on the calling thread (~8,000 events). */
const GAINED_ON_THREAD_BYTES = 1 << 20;

export interface ReadSource {
  readonly mode: SourceMode;
  readonly clock: LogClock;
  /** The log's file name, for the page; null for a memory log. */
  readonly logName: string | null;
  /** The log's first event time, µs; NaN while it has none. */
  firstUs(): number;
  /** The instant shown without `at`, and the end of `?at=`'s span: the wall clock now (live, and a store's recorded log), the last event (a recorded file log). */
  nowUs(): number;
  /**
   * `answer` run on the world at `atUs`, or now (null), and its result. The view is the answer's
   * only while it runs: the index folds a kept view on, or refills it, for the next instant asked
   * (time-travel.ts), so an answer computes what it needs at once and keeps nothing of the view.
   */
  read<T>(atUs: number | null, answer: (view: FoldView) => T): Promise<T>;
  /** A task's story as of `atUs` (null: now); UNKNOWN_TASK when the state then has no such task. */
  story(queue: string, task: string, atUs: number | null): Promise<TaskStoryView>;
  /** True once the server stops: streams end. */
  stopping(): boolean;
}

/** An instant given as seconds since the log's first event → µs in the log's clock (as `pushq replay --at`). */
export function instantUs(firstUs: number, seconds: number): number {
  return firstUs + Math.round(seconds * 1e6);
}

/** `?at=`'s text as seconds: a plain decimal (no exponent, no hex, no Infinity), else NaN. One definition for one node and a cluster (cluster-instant.ts). */
export function secondsParam(raw: string): number {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw.trim()) ? Number(raw) : NaN;
}

/** `?at=` as read before the log's first event is known: seconds since it, or an absolute instant (µs since 1970). */
export type AtInstant = { seconds: number } | { epochUs: number };

/**
 * `?at=`'s text: plain seconds since the first event, or, in a wall-clock log (a live service, a
 * cluster), an ISO 8601 instant with its zone (`2026-11-23T12:00:00Z`, RFC 3339 as the API shows
 * times; as `pushq replay --at` takes it: instant-span.ts). Neither: a 400 naming `at`. The one
 * parser of `at` for one node and a cluster (cluster-instant.ts); `whose` names the first event's owner.
 */
export function parseAtText(raw: string, clock: LogClock, whose = "the log's"): AtInstant {
  const seconds = secondsParam(raw);
  if (Number.isFinite(seconds)) return { seconds };
  const shown = raw.slice(0, 40);
  if (clock === 'wall') {
    const us = isoInstantUs(raw.trim());
    if (us !== null) return { epochUs: us };
    if (looksLikeIsoInstant(raw.trim())) throw new ApiError('INVALID_FIELD', `at: "${shown}" is not an instant: a date, hour, minute, second or zone out of its range (e.g. a day its month does not have)`, 'at');
    throw new ApiError('INVALID_FIELD', `at: "${shown}" is neither a number of seconds since ${whose} first event (e.g. at=12.5) nor an ISO 8601 instant with its zone (e.g. at=2026-11-23T12:00:00Z)`, 'at');
  }
  throw new ApiError('INVALID_FIELD', `at: "${shown}" is not a number of seconds since ${whose} first event (e.g. at=12.5)`, 'at');
}

/** An AtInstant as seconds since the first event `firstUs` (0 while there is none). */
export function atInstantSeconds(at: AtInstant, firstUs: number): number {
  if ('seconds' in at) return at.seconds;
  return Number.isNaN(firstUs) ? 0 : (at.epochUs - firstUs) / 1e6;
}

/** `?at=`'s instant as seconds since the log's first event (`firstUs`): parseAtText, then counted from it. */
export function atParamSeconds(raw: string, clock: LogClock, firstUs: number): number {
  return atInstantSeconds(parseAtText(raw, clock), firstUs);
}

/**
 * `?at=SECONDS` (or an ISO 8601 instant in a wall-clock log: atParamSeconds): null when absent; µs
 * in the log's clock. Neither form, or outside the log's span (from its first event to its last, or
 * to now for a live service): a 400 naming `at`.
 */
export function parseAt(source: ReadSource, query: URLSearchParams): number | null {
  const raw = query.get('at');
  if (raw === null || raw === '') return null;
  const first = source.firstUs();
  const seconds = atParamSeconds(raw, source.clock, first);
  if (Number.isNaN(first)) throw new ApiError('INVALID_FIELD', 'at: this log has no event yet, so no instant to show', 'at');
  const outside = outsideSpan(seconds, (source.nowUs() - first) / 1e6);
  if (outside !== null) throw new ApiError('INVALID_FIELD', `at: ${raw.slice(0, 40)} is ${outside}`, 'at');
  return instantUs(first, seconds);
}

/**
 * The log file's size now; 0 when it cannot be stat'ed (moved away or deleted under the service):
 * the read that follows then meets it and names it as the reader does (LOG_NOT_FOUND, the file
 * named), not as a bug (a raw ENOENT answered 500 INTERNAL_ERROR).
 */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function notFound(err: unknown): never {
  if (err instanceof TaskNotFoundError) throw new ApiError('UNKNOWN_TASK', err.message);
  throw err;
}

/**
 * A recorded log, read once into a LogIndex. A store's log (`runsToNow`: a service may be writing
 * it still) spans to now, as `pushq replay STORE --at` reads it (instant-span.ts): the page and its
 * `?at=` reach now, showing after the last event read the state it left.
 */
export class RecordedSource implements ReadSource {
  readonly mode = 'recorded';
  readonly clock: LogClock;
  readonly logName: string;

  constructor(
    private readonly index: LogIndex,
    path: string,
    private readonly runsToNow = false,
  ) {
    this.clock = index.header.clock;
    this.logName = basename(path);
  }

  firstUs(): number {
    return this.index.firstUs;
  }

  nowUs(): number {
    return spanEndUs(this.index.lastUs, this.runsToNow ? Date.now() * 1000 : undefined);
  }

  async read<T>(atUs: number | null, answer: (view: FoldView) => T): Promise<T> {
    return answer(atUs === null ? this.index.end() : this.index.at(atUs));
  }

  async story(queue: string, task: string, atUs: number | null): Promise<TaskStoryView> {
    return storyAt(this.index, queue, task, atUs ?? this.index.lastUs);
  }

  stopping(): boolean {
    return false;
  }
}

function storyAt(index: LogIndex, queue: string, task: string, atUs: number): TaskStoryView {
  try {
    const told = index.story(queue, task, atUs);
    return storyView(told.story, told.sameName, told.eventsRead, index.at(atUs).state.tasks.meta[told.story.id]);
  } catch (err) {
    return notFound(err);
  }
}

export interface LiveParts {
  driver: WallDriver;
  log: EventLog;
  models: ReadModels;
  stories: TaskStoryCache;
  /** Set when the service shuts down. */
  stopping: () => boolean;
}

/** A running service: its state now, and its own log for the past. */
export class LiveSource implements ReadSource {
  readonly mode = 'live';
  readonly clock = 'wall';
  readonly logName: string | null;
  private index: LogIndex | null = null;
  /** A memory log: where the index's events end in it. */
  private memoryMark = LOG_START;

  constructor(private readonly parts: LiveParts) {
    this.logName = parts.log instanceof FileEventLog ? basename(parts.log.path) : null;
  }

  firstUs(): number {
    return this.parts.models.markers.firstUs;
  }

  nowUs(): number {
    return this.parts.driver.clock();
  }

  async read<T>(atUs: number | null, answer: (view: FoldView) => T): Promise<T> {
    if (atUs === null) {
      const state = this.parts.driver.kernel.state;
      return answer({ state, ...this.parts.models, events: state.eventsApplied });
    }
    const index = await this.past();
    return answer(index.at(atUs)); // no await in between: another read may take the view next
  }

  async story(queue: string, task: string, atUs: number | null): Promise<TaskStoryView> {
    if (atUs === null) {
      this.parts.driver.commitSettled();
      return this.parts.stories.read(this.parts.driver.kernel.state, queue, task);
    }
    return storyAt(await this.past(), queue, task, atUs);
  }

  stopping(): boolean {
    return this.parts.stopping();
  }

  /**
   * The index of the service's log, brought up to its last committed batch. One at a time: a
   * memory or store log is taken a slice at a time (LogIndex.extendInSlices), and two reads taking
   * the same events at once would keep them twice.
   */
  private past(): Promise<LogIndex> {
    const next = this.catchingUp.then(() => this.catchUp());
    this.catchingUp = next.catch(() => undefined);
    return next;
  }

  private catchingUp: Promise<unknown> = Promise.resolve();

  private async catchUp(): Promise<LogIndex> {
    const { driver, log } = this.parts;
    driver.commitSettled();
    if (log instanceof FileEventLog) {
      await log.flush();
      // The whole log, read on a thread of its own and folded here a chunk at a time
      // (LogIndex.readFile), so that the service goes on dispatching and answering meanwhile: read
      // and folded in one go, a 600,000-event log held it for 6 s. A failed read leaves no index:
      // the next read of the past tries again.
      this.index ??= (await LogIndex.readFile(log.path)).index;
      // What the log gained since it was read (the service writes on while it is): read here when
      // it is little, on a thread as above when it is more (200,000 events gained, read here, held
      // the service 2.9 s on a loaded machine).
      try {
        const gainedBytes = fileSize(log.path) - (this.index.position?.offset ?? 0);
        if (gainedBytes > GAINED_ON_THREAD_BYTES) await this.index.extendFileInParallel(log.path);
        else this.index.extendFile(log.path);
      } catch (err) {
        // A read that failed part way (a damaged batch) kept the events before the damage without
        // moving its position past them: read again from there, they would follow themselves, and
        // every later read would fail. The next read of the past starts over.
        this.index = null;
        throw err;
      }
    } else if (log instanceof MemoryEventLog) {
      // From where the last read ended (not from the first event: decoding a 200,000-event log to
      // skip what the index has cost each read ~0.3 s) to its end now: the service appends on
      // while the index takes it.
      if (this.index === null) {
        this.index = new LogIndex(log.header);
        this.memoryMark = LOG_START;
      }
      const { events, end } = log.readFrom(this.memoryMark);
      try {
        await this.index.extendInSlices(events);
      } catch (err) {
        // The index kept what it took before the failure, the mark did not move: read again from
        // the mark, those events would follow themselves. The next read of the past starts over.
        this.index = null;
        throw err;
      }
      this.memoryMark = end;
    } else if (log instanceof StoreEventLog) {
      // The stream holds every event from the first (a snapshot the service started from does not
      // shorten it): read what the index lacks.
      this.index ??= new LogIndex(log.header);
      await this.index.extendInSlices(await log.readFrom(this.index.events));
    } else {
      throw new ApiError('STORY_UNAVAILABLE', 'the past is read from a file, memory or store event log; this service has another kind');
    }
    return this.index;
  }
}
