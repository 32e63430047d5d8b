/**
 * The dashboard's read API, one for a live service and a recorded log (read-source.ts):
 *
 *   GET /, /dashboard                     the page; GET /pushq/assets/NAME its files
 *   GET /pushq/dashboard.json?at=S        figures per queue, and per queue `pushq replay --json`'s
 *                                         object (`summary`), now or S seconds after the first event
 *   GET /pushq/timeline.json              the log's span and its markers (reloads, pauses, resumes, purges)
 *   GET /pushq/series.json?queue=Q        the charts' series (series-view.ts), `*` and Q
 *   GET /pushq/series/stream?queue=Q&interval=S   the same, pushed every S seconds (Server-Sent Events)
 *   GET /pushq/queues/Q/tasks?state=&q=&sort=&limit=&at=   a task list (task-search.ts); Q `*`: every queue
 *   GET /pushq/queues/Q/tasks/T/story?at=S                 a task's story, its request and its payload
 *
 * Reads only: nothing here changes the engine or appends to the log. A bad parameter is a 400 that
 * names it (INVALID_FIELD, with the parameter as the field).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireQueue } from '../core/decide.js';
import type { QueueRuntime } from '../core/state.js';
import { queueFigures as replayFigures } from '../projections/figures.js';
import { queueSummaries, timeFormatter, type LogClock, type QueueSummary } from '../projections/queue-summary.js';
import { type MarkerKind } from '../projections/timeline-markers.js';
import { ASSETS_PATH, asset, page, sendFile } from './dashboard-page.js';
import { dashboardFigures, type DashboardFigures } from './dashboard-figures.js';
import { ApiError } from './errors.js';
import { atParamSeconds, parseAt, type ReadSource, type SourceMode } from './read-source.js';
import { ALL_QUEUES, parseInterval, seriesPayload, streamSeries, type SeriesPayload } from './series-view.js';
import { parseTaskQuery, searchTasks, type TaskList } from './task-search.js';
import type { FoldView } from './read-models.js';

export interface DashboardAt extends DashboardFigures {
  mode: SourceMode;
  clock: LogClock;
  /** The log's file name; null for a memory log. */
  log: string | null;
  /** The `at` asked for (seconds since the first event), or null for now. */
  at: number | null;
  /** The instant shown, seconds since the log's first event (null while the log has no event). */
  atSeconds: number | null;
  /** Events applied up to the instant shown. */
  events: number;
  /** Per queue, what `pushq replay LOG --at S --json` prints under `queues`. */
  summary: Record<string, QueueSummary>;
}

export interface TimelineMarkerView {
  atSeconds: number;
  kind: MarkerKind;
  queue: string | null;
}

export interface Timeline {
  mode: SourceMode;
  clock: LogClock;
  log: string | null;
  /** The first event's time (ISO 8601 for a wall-clock log, seconds for a virtual one); null for none. */
  first: string | number | null;
  /** Seconds from the first event to the last (recorded) or to now (live). */
  endSeconds: number;
  events: number;
  markers: TimelineMarkerView[];
}

function figuresAt(source: ReadSource, view: FoldView, nowUs: number, at: number | null): DashboardAt {
  const time = timeFormatter(source.clock);
  const state = view.state;
  const first = source.firstUs();
  return {
    ...dashboardFigures(state, view.counters, nowUs),
    mode: source.mode,
    clock: source.clock,
    log: source.logName,
    at,
    atSeconds: Number.isNaN(first) ? null : (nowUs - first) / 1e6,
    events: view.events,
    // The figures' instants count from the first event, as `at` and atSeconds do (pushq replay's).
    summary: queueSummaries(state, replayFigures(state, view.stats, view.insight, nowUs, { includeIdle: true, originUs: Number.isNaN(first) ? 0 : first }), undefined, time),
  };
}

function timeline(source: ReadSource, view: FoldView): Timeline {
  const first = source.firstUs();
  const none = Number.isNaN(first);
  return {
    mode: source.mode,
    clock: source.clock,
    log: source.logName,
    first: none ? null : timeFormatter(source.clock).json(first),
    endSeconds: none ? 0 : (source.nowUs() - first) / 1e6,
    events: view.events,
    markers: view.markers.markers.map((m) => ({ atSeconds: (m.tUs - first) / 1e6, kind: m.kind, queue: m.queue })),
  };
}

/** The queues a task list covers: Q, or every queue for `*`. */
function queuesOf(view: FoldView, name: string): readonly QueueRuntime[] {
  return name === ALL_QUEUES ? view.state.queues : [requireQueue(view.state, name)];
}

type Read = (source: ReadSource, g: Record<string, string>, query: URLSearchParams) => Promise<unknown>;

const READS: readonly { pattern: RegExp; read: Read }[] = [
  {
    pattern: /^\/pushq\/dashboard\.json$/,
    read: async (source, _g, query) => {
      const at = parseAt(source, query);
      return source.read(at, (view) => figuresAt(source, view, at ?? source.nowUs(), at === null ? null : atParamSeconds(query.get('at') as string, source.clock, source.firstUs())));
    },
  },
  { pattern: /^\/pushq\/timeline\.json$/, read: async (source) => source.read(null, (view) => timeline(source, view)) },
  {
    pattern: /^\/pushq\/series\.json$/,
    read: async (source, _g, query) => seriesOf(source, query.get('queue') || ALL_QUEUES),
  },
  {
    pattern: /^\/pushq\/queues\/(?<queue>[^/:]+)\/tasks$/,
    read: async (source, g, query): Promise<TaskList> => {
      const at = parseAt(source, query);
      const q = parseTaskQuery(query);
      return source.read(at, (view) => searchTasks(view.state, view.history, view.waits, queuesOf(view, g['queue'] as string), q, g['queue'] as string));
    },
  },
  {
    pattern: /^\/pushq\/queues\/(?<queue>[^/:]+)\/tasks\/(?<task>[^/:]+)\/story$/,
    read: async (source, g, query) => source.story(g['queue'] as string, g['task'] as string, parseAt(source, query)),
  },
];

async function seriesOf(source: ReadSource, queue: string): Promise<SeriesPayload> {
  return source.read(null, (view) => seriesPayload(view, source.firstUs(), source.nowUs(), queue));
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Answers `path` when it is one of the read API's (or the page's); false otherwise. Throws an
 * ApiError for a bad request, which the caller answers in Google's error shape.
 */
export async function serveRead(source: ReadSource, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  if (/^\/(?:dashboard)?$/.test(path) || path.startsWith(ASSETS_PATH) || path.startsWith('/pushq/') && READS.some((r) => r.pattern.test(path)) || path === '/pushq/series/stream') {
    if (!get) throw new ApiError('UNSUPPORTED_METHOD', `${method} is not supported on ${path}`);
  } else return false;
  if (/^\/(?:dashboard)?$/.test(path)) {
    sendFile(res, 200, page('dashboard'));
    return true;
  }
  if (path.startsWith(ASSETS_PATH)) {
    const f = asset(path.slice(ASSETS_PATH.length));
    if (f === undefined) throw new ApiError('UNKNOWN_PATH', `no dashboard file ${path.slice(ASSETS_PATH.length)}`);
    sendFile(res, 200, f);
    return true;
  }
  if (path === '/pushq/series/stream') {
    const queue = query.get('queue') || ALL_QUEUES;
    const interval = parseInterval(query);
    await seriesOf(source, queue); // an unknown queue is refused before the stream starts
    streamSeries(res, interval, () => seriesOf(source, queue), () => source.stopping());
    return true;
  }
  for (const r of READS) {
    const g = r.pattern.exec(path);
    if (g === null) continue;
    sendJson(res, await r.read(source, g.groups ?? {}, query));
    return true;
  }
  return false;
}
