/**
 * The cluster dashboard's merges (src/cluster/dashboard-merge.ts), on hand-made answers whose
 * sums are worked out by hand: two queues whose logs start 1.5 s apart, at different
 * resolutions, on one axis; `*` counts exact, gauges sampled at each interval's end; task lists
 * in the order added across queues (times with and without a fraction); a queue without owner.
 */
import { describe, expect, it } from 'vitest';
import { mergeDashboard, mergeSeries, mergeTasks, mergeTimeline, type QueuePart } from '../../src/cluster/dashboard-merge.js';
import type { DashboardAt, Timeline } from '../../src/server/read-api.js';
import type { ChartSeries, SeriesPayload } from '../../src/server/series-view.js';
import type { TaskFigures, TaskList } from '../../src/server/task-search.js';
import { HOLD_CAUSES } from '../../src/projections/series-types.js';

const T0 = Date.parse('2026-12-05T12:00:00Z') * 1000; // µs

function series(queue: string, t: number[], added: number[], ready: number[], tokens: (number | null)[], rate: number | null): ChartSeries {
  const zeros = t.map(() => 0);
  return {
    queue,
    columns: { t_seconds: t, added, dispatched: zeros, succeeded: zeros, failed_attempts: added, gave_up: zeros, ready, delayed: zeros, backoff: zeros, in_flight: zeros, tokens },
    failures: { http_5xx: added, http_4xx: zeros, http_other: zeros, deadline: zeros, connection: zeros },
    limits: { ratePerSecond: rate, bucketSize: null, maxConcurrent: 10 },
  };
}

function part<T>(queue: string, firstUs: number, body: T): QueuePart<T> {
  return { queue, owner: `node-${queue}`, firstUs, body };
}

describe('mergeSeries', () => {
  const a = series('a', [1, 2, 3, 4], [1, 0, 2, 0], [1, 1, 3, 3], [null, null, null, null], null);
  const b = series('b', [0.5, 1, 1.5, 2], [1, 1, 1, 1], [1, 2, 3, 4], [5, 5, 5, 5], 7);
  const parts = [part<SeriesPayload>('a', T0, { resolutionSeconds: 1, endSeconds: 4, series: [{ ...a, queue: '*' }, a] }), part<SeriesPayload>('b', T0 + 1_500_000, { resolutionSeconds: 0.5, endSeconds: 2.5, series: [{ ...b, queue: '*' }, b] })];

  it('sums `*` on the coarsest grid of the cluster axis: counts exact, gauges at each end', () => {
    const out = mergeSeries(parts, 'b', T0 + 4_000_000);
    expect(out.resolutionSeconds).toBe(1);
    expect(out.endSeconds).toBe(4);
    const all = out.series[0]!;
    expect(all.queue).toBe('*');
    expect(all.columns.t_seconds).toEqual([1, 2, 3, 4]);
    // a: 1@1, 2@3; b (moved 1.5 s): 1@2, 1@2.5, 1@3, 1@3.5.
    expect(all.columns.added).toEqual([1, 1, 4, 1]);
    expect(all.failures.http_5xx).toEqual([1, 1, 4, 1]);
    // a's ready at each end, plus b's at its last interval end at or before it (none before 2).
    expect(all.columns.ready).toEqual([1, 2, 6, 7]);
    expect(all.columns.tokens).toEqual([null, 5, 5, 5]);
    expect(all.limits).toEqual({ ratePerSecond: 7, bucketSize: null, maxConcurrent: 20 });
  });

  it('gives the one queue asked for as its owner drew it, moved onto the cluster axis', () => {
    const out = mergeSeries(parts, 'b', T0 + 4_000_000);
    expect(out.series.map((s) => s.queue)).toEqual(['*', 'b']);
    expect(out.series[1]!.columns.t_seconds).toEqual([2, 2.5, 3, 3.5]);
    expect(out.series[1]!.columns.added).toEqual([1, 1, 1, 1]);
    expect(mergeSeries(parts, '*', T0 + 4_000_000).series).toHaveLength(1);
  });

  it('has no series while no queue has an event', () => {
    expect(mergeSeries([part<SeriesPayload>('a', NaN, { resolutionSeconds: 0, endSeconds: 0, series: [] })], '*', T0)).toEqual({ resolutionSeconds: 0, endSeconds: 0, series: [] });
  });
});

function task(name: string, queue: string, addedAt: string, dispatchCount: number): TaskFigures {
  return { name, queue, state: 'pending', method: 'POST', url: '/', scheduleTime: addedAt, dispatchCount, responseCount: 0, lastStatus: null, lastError: null, addedAt, endedAt: null, waitedSeconds: dispatchCount, matched: null };
}

describe('mergeTasks', () => {
  const lists: TaskList[] = [
    { queue: 'a', state: 'all', search: '', total: 10, tasks: [task('a1', 'a', '2026-12-05T12:00:00Z', 1), task('a2', 'a', '2026-12-05T12:00:01.000002Z', 5)] },
    { queue: 'b', state: 'all', search: '', total: 4, tasks: [task('b1', 'b', '2026-12-05T12:00:00.5Z', 3), task('b2', 'b', '2026-12-05T12:00:01.000001Z', 0)] },
  ];
  const q = { state: 'all', search: '', sort: 'id' as const, limit: 3 };

  it('orders by the time added across queues (a time without a fraction is not after one with it), sums the totals, keeps the first limit', () => {
    const out = mergeTasks(lists, q);
    expect(out.tasks.map((t) => t.name)).toEqual(['a1', 'b1', 'b2']);
    expect(out).toMatchObject({ queue: '*', state: 'all', total: 14 });
  });

  it('orders by attempts and by wait, most first', () => {
    expect(mergeTasks(lists, { ...q, sort: 'attempts' }).tasks.map((t) => t.name)).toEqual(['a2', 'b1', 'a1']);
    expect(mergeTasks(lists, { ...q, sort: 'wait', limit: 4 }).tasks.map((t) => t.name)).toEqual(['a2', 'b1', 'a1', 'b2']);
  });
});

describe('mergeDashboard and mergeTimeline', () => {
  const row = (name: string) => ({ name, state: 'running' as const, tokens: 1, bucketSize: 5, configHold: null, ratePerSecond: 5, inFlight: 0, maxConcurrent: 10, tasks: { pending: 2, dispatching: 0, backoff: 0, succeeded: 1, gaveUp: 0, deleted: 0 }, attempts: 1, retries: 0, dispatchesRecent: 0, dispatchRatePerSecond: 0 });
  const at = (name: string, events: number): DashboardAt => ({ now: '', recentWindowSeconds: 10, devServer: false, holdCauses: HOLD_CAUSES, queues: [row(name)], mode: 'live', clock: 'wall', log: null, at: null, atSeconds: 1, events, summary: { [name]: { state: 'running', tasks_total: 3, tasks: {}, oldest_eta: null, stats: null } } });

  it('lists every configured queue in order, each from its owner, one without owner as such; events summed', () => {
    const out = mergeDashboard(['b', 'gone', 'a'], [part('a', T0, at('a', 5)), part('b', T0 + 1_500_000, at('b', 7))], T0 + 4_000_000, 10);
    expect(out.queues.map((r) => [r.name, r.owner, r.state])).toEqual([['b', 'node-b', 'running'], ['gone', null, 'no owner'], ['a', 'node-a', 'running']]);
    expect(out.events).toBe(12);
    expect(out.atSeconds).toBe(4);
    expect(Object.keys(out.summary).sort()).toEqual(['a', 'b']);
    expect(out.queues[1]!.tasks.pending).toBe(0);
  });

  it('at an instant: `at` and `atSeconds` on the cluster axis, `now` the instant, a queue not begun then left out (not "no owner")', () => {
    const shown = { seconds: 1.25, us: T0 + 1_250_000, firstUs: T0 };
    const out = mergeDashboard(['b', 'gone', 'a'], [part('a', T0, at('a', 5)), part<DashboardAt | null>('b', T0 + 1_500_000, null)], shown.us, 10, shown);
    expect(out.queues.map((r) => [r.name, r.owner, r.state])).toEqual([['gone', null, 'no owner'], ['a', 'node-a', 'running']]);
    expect(out).toMatchObject({ at: 1.25, atSeconds: 1.25, now: '2026-12-05T12:00:01.250000Z', events: 5 });
    expect(Object.keys(out.summary)).toEqual(['a']);
  });

  it('puts every queue’s markers on the cluster axis, a configuration marker naming its queue', () => {
    const tl = (markers: Timeline['markers']): Timeline => ({ mode: 'live', clock: 'wall', log: null, first: null, endSeconds: 0, events: 3, markers });
    const out = mergeTimeline([part('a', T0, tl([{ atSeconds: 0, kind: 'config', queue: null }, { atSeconds: 3, kind: 'pause', queue: 'a' }])), part('b', T0 + 1_500_000, tl([{ atSeconds: 0, kind: 'config', queue: null }]))], T0 + 4_000_000, 'me');
    expect(out.markers).toEqual([{ atSeconds: 0, kind: 'config', queue: 'a' }, { atSeconds: 1.5, kind: 'config', queue: 'b' }, { atSeconds: 3, kind: 'pause', queue: 'a' }]);
    expect(out).toMatchObject({ first: '2026-12-05T12:00:00Z', endSeconds: 4, events: 6, timeTravel: true, node: 'me' });
  });
});
