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
import { dump } from '../helpers/fold-dump.js';
import { richSimulation } from '../helpers/rich-sim.js';

/** The fingerprint of the registered classes' shapes, per format version. */
const SHAPES_OF_VERSION: Readonly<Record<number, string>> = {
  2: '49eee4649bcd2454',
  3: '84b9d51d80bcdcf2',
  4: 'a4382a08996699d9',
  5: '1b72cc268f3c629d',
  6: '170727e29630686d',
  7: 'e8f71865d01ecbfe',
  8: '3c8065f8629474f5',
};

/**
 * Class name → field → the kinds of value seen there, over every instance in `dumped` (a fold as
 * plain data: test/helpers/fold-dump.ts). An object met before is a `ref` there: the shape of its
 * class is taken where it was first met.
 */
function shapes(dumped: unknown): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, Set<string>>> = {};
  const kind = (d: unknown): string => {
    if (d === '[function]') return 'function';
    if (d === '-0') return 'number';
    if (d === null || typeof d !== 'object') return d === null ? 'null' : typeof d;
    const node = d as Record<string, unknown>;
    if ('typed' in node) return node['typed'] as string;
    if ('items' in node) return 'Array';
    if ('map' in node) return 'Map';
    if ('set' in node) return 'Set';
    if ('ref' in node) return 'ref';
    return node['class'] as string;
  };
  const walk = (d: unknown): void => {
    if (d === null || typeof d !== 'object') return;
    const node = d as Record<string, unknown>;
    if ('typed' in node || 'ref' in node) return;
    if ('items' in node) (node['items'] as unknown[]).forEach(walk);
    else if ('map' in node) for (const [k, v] of node['map'] as [unknown, unknown][]) (walk(k), walk(v));
    else if ('set' in node) (node['set'] as unknown[]).forEach(walk);
    else {
      const fields = node['fields'] as Record<string, unknown>;
      const name = node['class'] as string;
      for (const [field, value] of Object.entries(fields)) {
        if (name in FOLD_SNAPSHOT_CLASSES) ((out[name] ??= {})[field] ??= new Set()).add(kind(value));
        walk(value);
      }
    }
  };
  walk(dumped);
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
    const found = shapes(dump({ state: folded.state, models }));
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
