/**
 * What a restart does once the logged events are folded into a state and a kernel is built on
 * it. One code path for `pushq serve` (src/server/service.ts) and the crash swarm
 * (src/testing/swarm), so the swarm restarts the way the service does:
 *
 * 0. on a log that has events, log that the service started (ServiceStarted, its own batch, first):
 *    the span from the log's last event to now is when nothing ran, which the read models (wait
 *    causes, task stories) and the timeline show as such; a first start writes none, so a log
 *    never restarted stays readable by a pushq from before the event;
 * 1. end the attempts the crash interrupted (`abandonInFlight`): each is a connection failure,
 *    retried per policy, so the retry count continues from the log (at-least-once, as App Engine);
 * 2. rebuild the timers the state implies (backoffs, queue wakes);
 * 3. apply the configuration only if it differs from the logged one (deploy semantics,
 *    reference §1.4); a first start (nothing logged) always applies it. Settings that differ
 *    with the same queue.yaml (targets, scaling) are applied alone: no queue changes state.
 */
import { RESTART_ERROR } from '../core/attempt.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { EngineSettings } from '../core/events.js';
import { configInKeyOrder, type QueueFileConfig } from '../core/queue-config.js';
import type { Kernel } from './kernel.js';

/** The error text of the attempts a restart ends (defined in core, where projections read it). */
export { RESTART_ERROR };

/** `node`: the cluster node starting the queue's service (named in its ServiceStarted); undefined for a single `pushq serve`. */
export function resumeFromLog(kernel: Kernel, config: QueueFileConfig, settings: EngineSettings, node?: string): void {
  const state = kernel.state;
  if (state.config !== null) {
    kernel.markStarted(node);
    kernel.abandonInFlight(RESTART_ERROR);
    kernel.restoreTimers();
  }
  // Compared as the ConfigApplied event writes it (configInKeyOrder): a configuration given in code
  // may say `resume_paused_queues: true`, which the event leaves out (true and absent mean the
  // same), and compared as given it read as another file, deployed, and resumed a paused queue.
  const sameFile = state.config !== null && canonicalJson(state.config) === canonicalJson(configInKeyOrder(config));
  // The same queue.yaml with other settings (a new --target, say) is not a deploy: a queue paused
  // through the API must not resume because a worker's URL changed.
  if (!sameFile) kernel.applyConfig(config, settings);
  else if (canonicalJson(state.settings) !== canonicalJson(settings)) kernel.applySettings(settings);
}
