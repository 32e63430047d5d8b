/**
 * The fold snapshot's format version follows the shapes of the classes it writes.
 *
 * The graph codec (src/log/graph-codec.ts) writes an instance field by field and rebuilds it
 * without running its constructor, so a snapshot written before a class changed its fields
 * decodes "successfully" into an object of the old shape, and breaks later (a review found this
 * when QueueColumns moved from arrays to typed arrays: `columns()` threw on a restored fold). The
 * format version is what refuses such a snapshot, so it must change whenever a registered class's
 * fields do. This test fingerprints those shapes (each class's field names and the kinds of value
 * they hold, over a fold of every event type) and pins the fingerprint to the version.
 *
 * When it fails: raise FOLD_SNAPSHOT_VERSION in src/server/fold-snapshot.ts and record the printed
 * fingerprint for the new version below.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { fold } from '../../src/projections/fold.js';
import { FOLD_SNAPSHOT_CLASSES, FOLD_SNAPSHOT_VERSION } from '../../src/server/fold-snapshot.js';
import { newReadModels, projectionsOf } from '../../src/server/read-models.js';
import { richSimulation } from '../helpers/rich-sim.js';

/** The fingerprint of the registered classes' shapes, per format version. */
const SHAPES_OF_VERSION: Readonly<Record<number, string>> = {
  2: 'e027503774efdc4c',
};

/** Class name → field → the kinds of value seen there, over every instance reachable from `root`. */
function shapes(root: unknown): Record<string, Record<string, string[]>> {
  const names = new Map<object, string>(Object.entries(FOLD_SNAPSHOT_CLASSES).map(([name, ctor]) => [ctor.prototype as object, name]));
  const out: Record<string, Record<string, Set<string>>> = {};
  const seen = new Set<object>();
  const kind = (v: unknown): string => {
    if (v === null) return 'null';
    if (typeof v !== 'object') return typeof v;
    if (ArrayBuffer.isView(v)) return v.constructor.name;
    if (Array.isArray(v)) return 'Array';
    if (v instanceof Map) return 'Map';
    if (v instanceof Set) return 'Set';
    return names.get(Object.getPrototypeOf(v) as object) ?? 'Object';
  };
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return;
    seen.add(v);
    if (Array.isArray(v) || v instanceof Set) {
      for (const item of v) walk(item);
      return;
    }
    if (v instanceof Map) {
      for (const [k, item] of v) {
        walk(k);
        walk(item);
      }
      return;
    }
    const name = names.get(Object.getPrototypeOf(v) as object);
    for (const [field, value] of Object.entries(v)) {
      if (name !== undefined) ((out[name] ??= {})[field] ??= new Set()).add(kind(value));
      walk(value);
    }
  };
  walk(root);
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((c) => [c, Object.fromEntries(Object.keys(out[c] as object).sort().map((f) => [f, [...((out[c] as Record<string, Set<string>>)[f] as Set<string>)].sort()]))]),
  );
}

describe('fold snapshot format version', () => {
  it("changes whenever a registered class's fields change shape", () => {
    const sim = richSimulation(5, undefined, 10);
    const events: EngineEvent[] = [...(sim.kernel.log as unknown as Iterable<EngineEvent>)];
    const models = newReadModels();
    const folded = fold(events, projectionsOf(models), { misfit: 'assert' });
    const found = shapes({ state: folded.state, models });
    // Every registered class is reached, so none escapes the fingerprint.
    expect(Object.keys(found).sort()).toEqual(Object.keys(FOLD_SNAPSHOT_CLASSES).sort());
    const fingerprint = createHash('sha256').update(JSON.stringify(found)).digest('hex').slice(0, 16);
    expect(
      fingerprint,
      `the snapshot classes' shapes give fingerprint ${fingerprint}; version ${FOLD_SNAPSHOT_VERSION} was recorded with ${SHAPES_OF_VERSION[FOLD_SNAPSHOT_VERSION]}. ` +
        'Raise FOLD_SNAPSHOT_VERSION and record the new fingerprint in this test.',
    ).toBe(SHAPES_OF_VERSION[FOLD_SNAPSHOT_VERSION]);
  });
});
