/**
 * Shapes an object's field for V8 before any code is compiled against it.
 *
 * Why: V8 compiles a hot function against what each field has held so far. A field that still
 * holds its first value is compiled as a constant; a number field that has held only small
 * integers, as a small integer; a field that has held one kind of object, as that kind. The first
 * store that breaks such an assumption throws away ("deoptimizes") every optimized function that
 * relied on it, mid-run, and V8 compiles them again later. For a field the engine changes only
 * once a run has grown (the task table's `base`, moved by its first compaction), that is the
 * engine's hottest code thrown away at once: 14 functions on bench/experiments.bench.mjs's
 * scenario, in every worker thread's first run. Stored here once in the constructor, before any
 * code is optimized, the field is compiled as what it will be from the start: measured on that
 * scenario, a fresh isolate's first run 0.84 s instead of 1.05 s (pinned to one core, alternated).
 *
 * `widenField(target, key, later)` stores `later`, a value of the kind the field will hold, then
 * the field's own value back: the object's values are unchanged, only V8's view of the field is.
 */
export function widenField(target: object, key: string, later: unknown): void {
  // A misspelt or renamed field would add a property instead (and a shape of its own): refuse it.
  if (!Object.hasOwn(target, key)) throw new TypeError(`widenField: ${target.constructor.name} has no field ${key}`);
  const fields = target as Record<string, unknown>;
  const first = fields[key];
  fields[key] = later;
  fields[key] = first;
}
