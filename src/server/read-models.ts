/**
 * The read models a fold keeps beside the engine state (statistics, wait accounting, dispatch
 * counters, attempt history, task waits, failure reasons, timeline markers): what the dashboard,
 * `pushq replay` and a fold snapshot hold. One list, so a service, an index and a snapshot fold
 * the same projections.
 */
import type { EngineState } from '../core/state.js';
import { AttemptHistory } from '../projections/attempt-history.js';
import { DispatchCounters } from '../projections/dispatch-counters.js';
import { FailureReasons } from '../projections/failure-reasons.js';
import { InsightProjection } from '../projections/insight.js';
import type { Projection } from '../projections/projection.js';
import { StatsCollector } from '../projections/stats.js';
import { TaskWaits } from '../projections/task-waits.js';
import { TimelineMarkers } from '../projections/timeline-markers.js';

/** The read models of a fold, beside its state. */
export interface ReadModels {
  stats: StatsCollector;
  insight: InsightProjection;
  counters: DispatchCounters;
  history: AttemptHistory;
  waits: TaskWaits;
  failures: FailureReasons;
  markers: TimelineMarkers;
}

/** The world at one instant: the state and every read model, after `events` events. */
export interface FoldView extends ReadModels {
  state: EngineState;
  /** Events applied. */
  events: number;
}

export function newReadModels(): ReadModels {
  return {
    stats: new StatsCollector(),
    insight: new InsightProjection(),
    counters: new DispatchCounters(),
    history: new AttemptHistory(),
    waits: new TaskWaits(),
    failures: new FailureReasons(),
    markers: new TimelineMarkers(),
  };
}

export function projectionsOf(m: ReadModels): Projection[] {
  return [m.stats, m.insight, m.counters, m.history, m.waits, m.failures, m.markers];
}
