/**
 * The instants a timeline marks: configuration applied (a start or a reload: queue.yaml deployed),
 * settings changed (a restart with new settings and queue.yaml unchanged: a `ConfigApplied` with
 * `settingsOnly`, which deploys nothing and changes no queue's state), a queue paused, resumed or
 * purged, pushq started again on the log (a restart, or a cluster queue's new owner: a
 * `ServiceStarted`, the end of a span nothing ran the queues). A projection, so a recorded log and a live service mark the same instants.
 * These events are rare (commands and reloads), so each is kept. Also where the timeline starts.
 */
import { assertNever } from '../core/assert.js';
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';
import type { Micros } from '../core/time.js';
import type { Projection } from './projection.js';

export type MarkerKind = 'config' | 'settings' | 'pause' | 'resume' | 'purge' | 'restart';

export interface TimelineMarker {
  /** The event's time, µs in the log's clock. */
  tUs: Micros;
  kind: MarkerKind;
  /** The queue paused, resumed or purged; null for a configuration, settings or a restart (every queue). */
  queue: string | null;
}

export class TimelineMarkers implements Projection {
  readonly markers: TimelineMarker[] = [];
  /** The first event's time: where the timeline starts; NaN before any event. */
  firstUs = NaN;

  readonly observe = (e: EngineEvent, _state: EngineState): void => {
    if (Number.isNaN(this.firstUs)) this.firstUs = e.t;
    switch (e.type) {
      case 'ConfigApplied':
        this.markers.push({ tUs: e.t, kind: e.settingsOnly === true ? 'settings' : 'config', queue: null });
        return;
      case 'QueuePaused':
        this.markers.push({ tUs: e.t, kind: 'pause', queue: e.queue });
        return;
      case 'QueueResumed':
        this.markers.push({ tUs: e.t, kind: 'resume', queue: e.queue });
        return;
      case 'QueuePurged':
        this.markers.push({ tUs: e.t, kind: 'purge', queue: e.queue });
        return;
      case 'ServiceStarted':
        this.markers.push({ tUs: e.t, kind: 'restart', queue: null });
        return;
      case 'TaskAdded':
      case 'AttemptDispatched':
      case 'AttemptSucceeded':
      case 'AttemptFailed':
      case 'AttemptOrphaned':
      case 'BackoffElapsed':
      case 'TaskGaveUp':
      case 'TaskDeleted':
        return; // a task's own life: no mark (a new event type must be placed here or above)
      default:
        assertNever(e, 'event');
    }
  };
}
