/**
 * Two naming rules that several parts of pushq read, each written once here:
 * - a task added without a name is called `task<id>`, its dense id in canonical decimal (`task0`,
 *   `task151`; never `task01`). Only that exact form stands for an id: `task01` or `task000151` is
 *   an explicit name like any other. An explicit name that is the generated name of a held unnamed
 *   task is that task's name, so adding it is refused (decide.ts); a generated name that would take an explicit one dodges it as `task<id>-<k>`
 *   (decide.ts), which is then held like an explicit name. So the two never collide;
 * - a target is `service` or `version.service` (App Engine routing, S37): the service is what
 *   follows the first dot; what a service or version id may hold is written here, once.
 */

const GENERATED_NAME = /^task(\d+)$/;

/** The name of a task that was added without one. */
export function generatedTaskName(id: number): string {
  return `task${id}`;
}

/**
 * The id a generated name stands for, or -1 when `name` is not of that form: the one reading of
 * generated names (every lookup by name goes through it). A name is generated only when
 * `generatedTaskName` gives it back exactly, so leading zeros (`task01`) and ids past 2^53 are
 * explicit names.
 */
export function generatedNameId(name: string): number {
  const m = GENERATED_NAME.exec(name);
  if (m === null) return -1;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) && generatedTaskName(id) === name ? id : -1;
}

// App Engine's ids (PY-QI `_VERSION_REGEX`, reference §1.2): lower-case letters, digits and
// hyphens, not starting with a hyphen; a service at most 63 long, a version at most 100. No dot:
// the dot is what joins them into a target.
const SERVICE_ID = '(?!-)[a-z\\d-]{1,63}';
const VERSION_ID = '(?!-)[a-z\\d-]{1,100}';
const SERVICE_PATTERN = new RegExp(`^${SERVICE_ID}$`);
const VERSION_PATTERN = new RegExp(`^${VERSION_ID}$`);
/** `service` or `version.service`, exactly as App Engine's queueinfo.py spells it. */
const TARGET_PATTERN = new RegExp(`^(?:${VERSION_ID}\\.)?${SERVICE_ID}$`);

export function isValidTarget(target: string): boolean {
  return TARGET_PATTERN.test(target);
}

/** A service id alone (Cloud Tasks' `appEngineRouting.service`): `worker`, never `v2.worker`. */
export function isValidServiceId(service: string): boolean {
  return SERVICE_PATTERN.test(service);
}

/** A version id alone (`appEngineRouting.version`): `v2`. */
export function isValidVersionId(version: string): boolean {
  return VERSION_PATTERN.test(version);
}

/** The service a target names: `v2.worker` → `worker`, `worker` → `worker`. */
export function serviceOf(target: string): string {
  const dot = target.indexOf('.');
  return dot < 0 ? target : target.slice(dot + 1);
}

/** The version a target names, or undefined: `v2.worker` → `v2`. */
export function versionOf(target: string): string | undefined {
  const dot = target.indexOf('.');
  return dot < 0 ? undefined : target.slice(0, dot);
}
