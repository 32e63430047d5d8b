/**
 * Which service's settings an attempt for `target` uses: the exact name (`version.service`), then
 * its service, then `default` (docs/serve.md, "Targets and routing"). One order for every setting
 * of a target, so that an attempt sent to a service's URL also gets that service's deadline.
 */
import { serviceOf } from './names.js';

/** The first of `target`, its service and `default` for which `pick` gives a value; undefined if none does. */
export function lookUpTarget<T, V>(targets: Readonly<Record<string, T>>, target: string, pick: (settings: T) => V | undefined): V | undefined {
  for (const name of [target, serviceOf(target), 'default']) {
    const settings = targets[name];
    if (settings === undefined) continue;
    const value = pick(settings);
    if (value !== undefined) return value;
  }
  return undefined;
}
