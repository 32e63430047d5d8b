/**
 * A task's `Host` header, as App Engine's own libraries route a task: Python's `target=` becomes
 * `Host: <target>.<default version hostname>`, and Go's package documentation tells an app to set
 * `Host` to send a task to another version or service (reference §1.3 and S37). App Engine reads
 * the service, and the version before it, from the host's leading labels (`v2.worker.my-app.appspot.com`,
 * or `v2-dot-worker-dot-my-app.appspot.com`); the rest is the app's own hostname, which pushq does
 * not know. So pushq takes the leading labels that name a service it has a `--target` for: that
 * is the one way to tell `worker.localhost:8080` (service `worker`) from `my-app.appspot.com` (the
 * app's default version, no service named).
 */

import { isValidTarget } from '../../core/names.js';

/** The host's labels, the `-dot-` spelling read like dots, without a port. */
function hostLabels(host: string): string[] {
  const bare = host.trim().toLowerCase().replace(/:\d*$/, '');
  const labels = bare.split('.');
  const first = labels[0] ?? '';
  return first.includes('-dot-') ? first.split('-dot-') : labels;
}

/**
 * The task's target (`service` or `version.service`) named by its Host header, or undefined when
 * the host names no service among `services` (the names given by `--target`): the app's default
 * version, routed as a task with no Host. A `version.service` whose version has no target of its
 * own still names it (the dispatcher then uses the service's URL, as for appEngineRouting).
 */
export function targetFromHost(host: string, services: ReadonlySet<string>): string | undefined {
  const [first, second] = hostLabels(host);
  if (first === undefined || first === '') return undefined;
  const versioned = second === undefined ? '' : `${first}.${second}`;
  if (isValidTarget(versioned) && (services.has(versioned) || services.has(second as string))) return versioned;
  if (isValidTarget(first) && services.has(first)) return first;
  return undefined;
}
