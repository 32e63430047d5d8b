/** Queue names and `target` values (reference §1.2; PY-QI `_VERSION_REGEX`; checklist S2). */
import { QUEUE_LIMITS } from './types.js';

const MODULE_ID = '(?!-)[a-z\\d-]{1,63}';
const VERSION_ID = '(?!-)[a-z\\d-]{1,100}';
/** `service` or `version.service`, exactly as App Engine's queueinfo.py spells it. */
export const TARGET_PATTERN = new RegExp(`^(?:${VERSION_ID}\\.)?${MODULE_ID}$`);

export function isValidQueueName(name: string): boolean {
  return QUEUE_LIMITS.queue_name_pattern.test(name);
}

export function isValidTarget(target: string): boolean {
  return TARGET_PATTERN.test(target);
}
