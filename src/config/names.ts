/** Queue names and `target` values (reference §1.2; PY-QI `_VERSION_REGEX`; checklist S2). */
import { QUEUE_LIMITS } from './types.js';

// The rule of a target is core's (task routing checks it too); config re-exports it.
export { isValidTarget } from '../core/names.js';

export function isValidQueueName(name: string): boolean {
  return QUEUE_LIMITS.queue_name_pattern.test(name);
}
