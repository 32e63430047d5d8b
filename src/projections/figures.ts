/**
 * A queue's figures as `pushq simulate` and `pushq replay` print them: the totals (StatsCollector),
 * what explains them (InsightProjection), and the first-order bound its configuration implies,
 * using the mean latency measured over the run's attempts. Built the same way from a live run and
 * from a folded log, so the two agree.
 */
import type { EngineState } from '../core/state.js';
import type { Micros } from '../core/time.js';
import { queueBound, type InsightProjection, type QueueInsight } from './insight.js';
import type { QueueBound } from './series-types.js';
import type { QueueStats, StatsCollector } from './stats.js';

/** A queue's figures: the totals, what explains them, and the bound its config implies. */
export interface QueueFigures extends QueueStats, QueueInsight {
  bound: QueueBound;
}

/**
 * `originUs`: where the instants among the figures (first and last dispatch, the backlog's peak,
 * the drain) count from: a simulation's start, 0 (its virtual time); a log's first event for
 * `pushq replay` and the dashboard, so that in a wall-clock log they are seconds since it, as
 * `--at`, `?at=` and `at_seconds` count, and not seconds since 1970.
 */
export function queueFigures(state: EngineState, stats: StatsCollector, insight: InsightProjection, endUs: Micros, options: { includeIdle?: boolean; originUs?: Micros } = {}): Record<string, QueueFigures> {
  const totals = stats.report(state, options);
  const explained = insight.figures(state, endUs, options.originUs ?? 0);
  const out: Record<string, QueueFigures> = {};
  for (const [name, q] of Object.entries(totals)) {
    const runtime = state.queueByName.get(name);
    if (runtime === undefined) continue;
    out[name] = { ...q, ...(explained[name] ?? idleInsight()), bound: queueBound(runtime, q.tasks_added, stats.meanLatencyUs(runtime.index)) };
  }
  return out;
}

/** A queue that saw no task (shown with includeIdle). */
function idleInsight(): QueueInsight {
  return {
    backlog_max: 0,
    backlog_max_at_seconds: null,
    drained_at_seconds: null,
    wait_seconds: { p50: null, p90: null, p99: null, max: null, mean: null },
    wait_by_cause_task_seconds: { tokens: 0, concurrency: 0, paused: 0, disabled: 0, transport: 0, not_running: 0 },
  };
}
