/**
 * How long a handler may take (S34): 10 minutes on an automatic-scaling service, 24 hours on a
 * basic- or manual-scaling one; a task's own dispatch deadline applies below that. An attempt with
 * no answer by then has failed with reason `deadline`.
 */
import type { EngineSettings } from './events.js';
import { lookUpTarget } from './target-lookup.js';
import { US_PER_HOUR, US_PER_MINUTE, type Micros } from './time.js';

export const DEADLINE_AUTOMATIC_US = 10 * US_PER_MINUTE;
export const DEADLINE_BASIC_MANUAL_US = 24 * US_PER_HOUR;
/** An HTTP target's default deadline (Cloud Tasks: 10 minutes); a task's own may be up to 30 minutes. */
export const DEADLINE_HTTP_TARGET_US = 10 * US_PER_MINUTE;

/**
 * The handler deadline of an attempt: the task's own dispatch deadline when it has one, else the
 * target's scaling deadline (deadlineFor). The scaling deadline still caps it: Cloud Tasks says
 * "regardless of the task's dispatch_deadline, the app handler will not run for longer than the
 * service's timeout" (Task.dispatch_deadline, Cloud Tasks v2), so a 30-minute deadline on an
 * automatic-scaling target still ends at 10 minutes.
 */
export function attemptDeadline(settings: EngineSettings, target: string, taskDeadlineUs: Micros | undefined, httpTarget = false, memo?: ScalingDeadlineMemo): Micros {
  // An HTTP target is no App Engine service: no scaling deadline caps the task's own.
  if (httpTarget) return taskDeadlineUs ?? DEADLINE_HTTP_TARGET_US;
  const scaling = memo === undefined ? deadlineFor(settings, target) : memo.deadlineFor(settings, target);
  return taskDeadlineUs === undefined ? scaling : Math.min(taskDeadlineUs, scaling);
}

/**
 * The scaling deadline of a target (`service` or `version.service`, looked up exactly, then by
 * service, then `default`: the service whose URL the attempt goes to, lookUpTarget).
 */
export function deadlineFor(settings: EngineSettings, target: string): Micros {
  const scaling = lookUpTarget(settings.targets, target, (t) => t.scaling) ?? 'automatic';
  return scaling === 'automatic' ? DEADLINE_AUTOMATIC_US : DEADLINE_BASIC_MANUAL_US;
}

/**
 * deadlineFor's last answer, for a caller asking per attempt (one attempt after another mostly
 * goes to the same target): two keyed lookups in `settings.targets` per attempt were ~5% of a
 * million-task simulation. Settings objects are replaced, never changed, so the answer holds
 * while both the settings object and the target are the same.
 */
export class ScalingDeadlineMemo {
  private settings: EngineSettings | null = null;
  private target = '';
  private deadlineUs = 0;

  deadlineFor(settings: EngineSettings, target: string): Micros {
    if (settings !== this.settings || target !== this.target) {
      this.settings = settings;
      this.target = target;
      this.deadlineUs = deadlineFor(settings, target);
    }
    return this.deadlineUs;
  }
}
