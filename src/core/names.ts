/**
 * Two naming rules that several parts of pushq read, each written once here:
 * - a task added without a name is called `task<id>` (its dense id); an explicit name never takes
 *   that form for a live id (decide.ts refuses it), so the two can never collide;
 * - a target is `service` or `version.service` (App Engine routing, S37): the service is what
 *   follows the first dot.
 */

const GENERATED_NAME = /^task(\d+)$/;

/** The name of a task that was added without one. */
export function generatedTaskName(id: number): string {
  return `task${id}`;
}

/** The id a generated name stands for, or -1 when `name` is not of that form. */
export function generatedNameId(name: string): number {
  const m = GENERATED_NAME.exec(name);
  return m === null ? -1 : Number(m[1]);
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
