/**
 * The warning of push queues whose tasks go to a service that no `--target` gives a URL (or of every
 * running push queue, when no `--target` is given at all): every attempt of theirs fails
 * `no-target-url`, said otherwise only task by task. One text for every
 * place that says it: a start's stderr (cli/serve.ts), a reload's lines (SIGHUP, `POST
 * /pushq/reload`: the queue file may add such a queue or change a queue's target to such a
 * service), and a cluster node taking or reloading its queues (cluster/node.ts); and the startup
 * line's `targets ...`, one node's and a cluster node's.
 */
import type { TargetSettings } from '../core/events.js';
import type { QueueRuntime } from '../core/state.js';
import { resolveTarget } from '../dispatch/http-dispatcher.js';

/**
 * The startup line's `targets ...` (cli/serve.ts, cli/serve-cluster.ts): each target's URL and its
 * scaling unless automatic, or `none` (what that means is the noTargetLine warning's to say).
 */
export function targetsSummary(targets: Readonly<Record<string, TargetSettings>>): string {
  const given = Object.entries(targets).map(([n, t]) => `${n}=${t.url ?? '(no URL)'}${t.scaling === 'automatic' ? '' : ` (${t.scaling})`}`);
  return given.length > 0 ? given.join(', ') : 'none';
}

/**
 * One line per service that the running push queues of `queues` send their tasks to (the queue's
 * `target`, else `default`) and that no target gives a URL: a task of theirs fails unless it names
 * a service that has one (its own appEngineRouting), which only a queue without a target lets it
 * do: a queue's target overrides the task's (S37, core/attempt.ts attemptTarget), and such queues
 * get a line of their own that says so.
 *
 * When no target is given at all, one line for every running push queue (noTargetLine): no
 * service has a URL, and a task cannot name one that has.
 */
export function unroutedQueueLines(queues: Iterable<QueueRuntime>, targets: Readonly<Record<string, TargetSettings>>): string[] {
  if (Object.keys(targets).length === 0) {
    const names = [...queues].filter(running).map((q) => q.name);
    return names.length === 0 ? [] : [noTargetLine(names)];
  }
  const byService = new Map<string, { service: string; own: boolean; queues: string[] }>();
  for (const q of queues) {
    if (!running(q)) continue;
    const own = q.config.target !== null;
    const service = q.config.target ?? 'default';
    if (resolveTarget(targets, service) !== null) continue;
    const key = `${own ? 'own' : 'default'} ${service}`;
    const group = byService.get(key) ?? { service, own, queues: [] };
    group.queues.push(q.name);
    byService.set(key, group);
  }
  return [...byService.values()].map(({ service, own, queues: names }) => {
    const one = names.length === 1;
    const fails = own ?
        `each attempt of ${one ? 'its' : 'their'} App Engine tasks fails (no-target-url), whatever service the task names (${one ? "the queue's" : "each queue's"} target overrides it)`
      : 'each attempt of theirs fails (no-target-url) unless the task names a service that has one';
    return `no --target gives a URL for service ${service}, where ${one ? 'queue' : 'queues'} ${names.join(', ')} ${one ? 'sends its' : 'send their'} tasks: ${fails}; give --target ${service}=URL`;
  });
}

/** A push queue that dispatches (a disabled or pull queue sends nothing anywhere). */
function running(q: QueueRuntime): boolean {
  return q.isPush && !q.disabled;
}

/**
 * No --target at all: every App Engine task's attempt fails, whatever its queue or service names
 * (an HTTP target task goes to its own URL). `--target default=URL` is enough, as every service
 * without a URL of its own falls back to `default` (http-dispatcher.ts resolveTarget).
 */
function noTargetLine(queues: readonly string[]): string {
  const one = queues.length === 1;
  return (
    `no --target is given, so no service has a URL: each attempt of an App Engine task fails (no-target-url) in ${one ? 'queue' : 'queues'} ${queues.join(', ')}; ` +
    'give --target default=URL (every service without a URL of its own then uses it)'
  );
}
