/**
 * The dashboard's read API over a cluster (dashboard-front.ts): each queue's answer comes from
 * its owner's service, which runs that queue alone, and these pure functions merge them into the
 * shapes one node gives (docs/dashboard.md), adding fields only (`owner`; `timeTravel`, `node`).
 *
 * Times: each queue's log has its own first event, and its owner states every instant as
 * seconds since it. The cluster's origin is the earliest first event of all queues; a queue's
 * seconds move by `offset = (its first − the cluster's first)`, so every figure, marker and series
 * is on one axis. A read at a cluster instant (`?at=`) is converted for each queue the same
 * way (cluster-instant.ts); a queue whose log had not begun then has no part in it (body null).
 *
 * The `*` series (all queues) is summed on one grid: Δ the coarsest of the queues' resolutions
 * (the oldest queue's, whose log spans about as long as the cluster's), intervals ending at k·Δ.
 * A queue's count in its interval ending at t goes to the cluster interval that ends at or next
 * after t (totals exact, each count at most one Δ late); a gauge is the queue's value at its last
 * interval end at or before k·Δ. So `*` sums are exact for counts and sampled for gauges, to
 * within one of the queue's own intervals.
 */
import type { QueueFigures as DashboardQueue } from '../server/dashboard-figures.js';
import type { DashboardAt, Timeline, TimelineMarkerView } from '../server/read-api.js';
import type { ChartLimits, ChartSeries, SeriesPayload } from '../server/series-view.js';
import type { TaskFigures, TaskList, TaskQuery } from '../server/task-search.js';
import { SERIES_COUNT_FIELDS, SERIES_GAUGE_FIELDS, holdCausesOf, type SeriesColumns } from '../projections/series-types.js';
import { ALL_QUEUES } from '../server/series-view.js';
import { formatTimestamp } from '../server/timestamps.js';
import type { QueueSummary } from '../projections/queue-summary.js';
import { clusterFirstUs, timestampUs } from './cluster-instant.js';

/** One queue's answer from its owner, with where its log starts. */
export interface QueuePart<T> {
  queue: string;
  /** The node that owns it (its id). */
  owner: string;
  /** Its log's first event, µs since the epoch; NaN while it has none. */
  firstUs: number;
  body: T;
}

/** The instant a read was asked at: `seconds` the cluster seconds asked, `us` the absolute instant (µs), `firstUs` the cluster's first event it was taken from. */
export interface ClusterAt {
  seconds: number;
  us: number;
  firstUs: number;
}

/** A row of the queue table, with the node that owns the queue (null: none now, it is between owners). */
export type ClusterQueueRow = Omit<DashboardQueue, 'state'> & { state: DashboardQueue['state'] | 'no owner'; owner: string | null };

/** The row of a queue no live node owns now: no figure can be read, so none is claimed. */
function unownedRow(name: string): ClusterQueueRow {
  return {
    name,
    state: 'no owner',
    tokens: null,
    bucketSize: null,
    configHold: null,
    ratePerSecond: 0,
    inFlight: 0,
    maxConcurrent: 0,
    tasks: { pending: 0, dispatching: 0, backoff: 0, succeeded: 0, gaveUp: 0, deleted: 0 },
    attempts: 0,
    retries: 0,
    dispatchesRecent: 0,
    dispatchRatePerSecond: 0,
    owner: null,
  };
}

/**
 * `dashboard.json` over the cluster: every configured queue in the configuration's order, from its
 * owner; counts summed. Now (`at` null, `nowUs` the wall clock) or at an instant (`nowUs` = at.us):
 * then a queue whose log had not begun (body null) is left out, as one node leaves out a queue
 * configured after the instant shown.
 */
export function mergeDashboard(queues: readonly string[], parts: readonly QueuePart<DashboardAt | null>[], nowUs: number, recentWindowSeconds: number, at: ClusterAt | null = null): Omit<DashboardAt, 'queues'> & { queues: ClusterQueueRow[] } {
  const byQueue = new Map(parts.map((p) => [p.queue, p]));
  const first = at?.firstUs ?? clusterFirstUs(parts);
  const summary: Record<string, QueueSummary> = {};
  let events = 0;
  const rows: ClusterQueueRow[] = [];
  for (const name of queues) {
    const p = byQueue.get(name);
    if (p !== undefined && p.body === null) continue; // not begun at the instant asked
    const body = p?.body ?? undefined;
    const row = body?.queues.find((q) => q.name === name);
    if (p === undefined || body === undefined || row === undefined) {
      rows.push(unownedRow(name));
      continue;
    }
    events += body.events;
    const s = body.summary[name];
    if (s !== undefined) summary[name] = s;
    rows.push({ ...row, owner: p.owner });
  }
  return {
    now: formatTimestamp(nowUs),
    recentWindowSeconds,
    devServer: false, // a cluster never runs in dev-server mode (--dev-server with --cluster is refused)
    holdCauses: holdCausesOf(false),
    queues: rows,
    mode: 'live',
    clock: 'wall',
    log: null,
    at: at === null ? null : at.seconds,
    atSeconds: Number.isNaN(first) ? null : (nowUs - first) / 1e6,
    events,
    summary,
  };
}

/**
 * `timeline.json` over the cluster: the span from the earliest first event, every queue's markers
 * on that axis (a configuration marker names its queue); `node` the node that answered, and
 * `timeTravel` true (the page's cursor asks for instants: dashboard-front.ts converts them).
 */
export function mergeTimeline(parts: readonly QueuePart<Timeline>[], nowUs: number, node: string): Timeline & { timeTravel: true; node: string } {
  const first = clusterFirstUs(parts);
  const markers: TimelineMarkerView[] = [];
  let events = 0;
  for (const p of parts) {
    events += p.body.events;
    const offset = (p.firstUs - first) / 1e6;
    if (Number.isNaN(offset)) continue;
    for (const m of p.body.markers) markers.push({ atSeconds: m.atSeconds + offset, kind: m.kind, queue: m.queue ?? p.queue });
  }
  markers.sort((a, b) => a.atSeconds - b.atSeconds);
  const none = Number.isNaN(first);
  return {
    mode: 'live',
    clock: 'wall',
    log: null,
    first: none ? null : formatTimestamp(first),
    endSeconds: none ? 0 : (nowUs - first) / 1e6,
    events,
    markers,
    timeTravel: true,
    node,
  };
}

/** A queue's series moved onto the cluster's axis. */
function shifted(s: ChartSeries, offsetSeconds: number): ChartSeries {
  return { ...s, columns: { ...s.columns, t_seconds: s.columns.t_seconds.map((t) => t + offsetSeconds) } };
}

function sumLimits(all: readonly ChartLimits[]): ChartLimits {
  const sum = (pick: (l: ChartLimits) => number | null): number | null => {
    const v = all.map(pick).filter((x): x is number => x !== null);
    return v.length === 0 ? null : v.reduce((a, b) => a + b, 0);
  };
  return { ratePerSecond: sum((l) => l.ratePerSecond), bucketSize: sum((l) => l.bucketSize), maxConcurrent: sum((l) => l.maxConcurrent) };
}

/**
 * `series.json` over the cluster: `*` summed on one grid (see the top of this file) and, when
 * `queue` is one queue, its own series from its owner, moved onto the cluster's axis.
 */
export function mergeSeries(parts: readonly QueuePart<SeriesPayload>[], queue: string, nowUs: number): SeriesPayload {
  const first = clusterFirstUs(parts);
  if (Number.isNaN(first)) return { resolutionSeconds: 0, endSeconds: 0, series: [] };
  const endSeconds = (nowUs - first) / 1e6;
  const own = parts
    .filter((p) => !Number.isNaN(p.firstUs))
    .map((p) => ({ p, s: p.body.series.find((x) => x.queue === p.queue), offset: (p.firstUs - first) / 1e6 }))
    .filter((x): x is { p: QueuePart<SeriesPayload>; s: ChartSeries; offset: number } => x.s !== undefined);
  const resolution = Math.max(0, ...own.map((x) => x.p.body.resolutionSeconds));
  const all = resolution > 0 ? summedOnGrid(own.map((x) => shifted(x.s, x.offset)), resolution, endSeconds) : emptySeries(own.map((x) => x.s.limits));
  const series = [all];
  const one = own.find((x) => x.p.queue === queue);
  if (queue !== ALL_QUEUES && one !== undefined) series.push(shifted(one.s, one.offset));
  return { resolutionSeconds: resolution, endSeconds, series };
}

function emptyColumns(n: number): SeriesColumns {
  const zeros = (): number[] => new Array<number>(n).fill(0);
  return { t_seconds: zeros(), added: zeros(), dispatched: zeros(), succeeded: zeros(), failed_attempts: zeros(), gave_up: zeros(), ready: zeros(), delayed: zeros(), backoff: zeros(), in_flight: zeros(), tokens: new Array<number | null>(n).fill(null) };
}

function emptySeries(limits: readonly ChartLimits[]): ChartSeries {
  return { queue: ALL_QUEUES, columns: emptyColumns(0), failures: {} as ChartSeries['failures'], limits: sumLimits(limits) };
}

/** Every queue's series (already on the cluster's axis) summed on intervals of `resolution` ending at k·resolution. */
function summedOnGrid(queues: readonly ChartSeries[], resolution: number, endSeconds: number): ChartSeries {
  // The cluster interval a queue's interval ending at t belongs to (a small tolerance: t may be k·Δ up to rounding).
  const bin = (t: number): number => Math.max(0, Math.ceil(t / resolution - 1e-9) - 1);
  let n = Math.max(1, Math.ceil(endSeconds / resolution - 1e-9));
  for (const q of queues) {
    const t = q.columns.t_seconds;
    if (t.length > 0) n = Math.max(n, bin(t[t.length - 1] as number) + 1);
  }
  const out = emptyColumns(n);
  for (let k = 0; k < n; k++) out.t_seconds[k] = (k + 1) * resolution;
  const failures: Record<string, number[]> = {};
  const tokensSeen = new Uint8Array(n);
  for (const q of queues) {
    const c = q.columns;
    for (let i = 0; i < c.t_seconds.length; i++) {
      const k = bin(c.t_seconds[i] as number);
      for (const f of SERIES_COUNT_FIELDS) out[f][k] = (out[f][k] as number) + (c[f][i] as number);
    }
    for (const [reason, values] of Object.entries(q.failures)) {
      const into = (failures[reason] ??= new Array<number>(n).fill(0));
      for (let i = 0; i < values.length && i < c.t_seconds.length; i++) {
        const k = bin(c.t_seconds[i] as number);
        into[k] = (into[k] as number) + (values[i] as number);
      }
    }
    // Gauges: the queue's value at its last interval end at or before each cluster interval's end.
    let i = -1;
    for (let k = 0; k < n; k++) {
      const end = (k + 1) * resolution + 1e-9;
      while (i + 1 < c.t_seconds.length && (c.t_seconds[i + 1] as number) <= end) i++;
      if (i < 0) continue;
      for (const f of SERIES_GAUGE_FIELDS) {
        if (f === 'tokens') continue;
        out[f][k] = (out[f][k] as number) + (c[f][i] as number);
      }
      const tok = c.tokens[i];
      if (tok !== null && tok !== undefined) {
        out.tokens[k] = (tokensSeen[k] === 1 ? (out.tokens[k] as number) : 0) + tok;
        tokensSeen[k] = 1;
      }
    }
  }
  return { queue: ALL_QUEUES, columns: out, failures: failures as ChartSeries['failures'], limits: sumLimits(queues.map((q) => q.limits)) };
}

/** A `*` task list over the cluster: each owner's list of its queue (each already cut to `limit`) merged in the query's order, totals summed. */
export function mergeTasks(lists: readonly TaskList[], query: TaskQuery): TaskList {
  const tasks: TaskFigures[] = lists.flatMap((l) => l.tasks);
  // Task ids are per queue's kernel: across queues, "the order added" is the time added.
  const added = (a: TaskFigures, b: TaskFigures): number => timestampUs(a.addedAt) - timestampUs(b.addedAt);
  if (query.sort === 'attempts') tasks.sort((a, b) => b.dispatchCount - a.dispatchCount || added(a, b));
  else if (query.sort === 'wait') tasks.sort((a, b) => b.waitedSeconds - a.waitedSeconds || added(a, b));
  else tasks.sort(added);
  return { queue: ALL_QUEUES, state: query.state, search: query.search, total: lists.reduce((n, l) => n + l.total, 0), tasks: tasks.slice(0, query.limit) };
}
