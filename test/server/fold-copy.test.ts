/**
 * FoldCopier (src/server/fold-copy.ts): a copy restores what was copied, and a restore into a
 * template that is another, later restore (what time-travel.ts recycles) reuses the template's
 * objects and leaves nothing of it: fields the copy lacks are gone, arrays have the copy's length,
 * Maps and Sets the copy's entries, an object of the template reached twice is not filled twice,
 * a frozen one is never written, functions are the template's.
 */
import { describe, expect, it } from 'vitest';
import { FoldCopier } from '../../src/server/fold-copy.js';

class Counter {
  n = 0;
  readonly observe = (k: number): void => {
    this.n += k;
  };
}

/** A small fold-like world: typed and plain arrays (paged when long), a Map, a Set, shared objects. */
function world(tasks: number, seed: number) {
  const state = new Uint8Array(tasks).map((_, i) => (i * seed) % 7);
  const eta = new Float64Array(tasks).map((_, i) => i * 1.5 + seed);
  const queue = { name: 'q', paused: seed % 2 === 0, depth: tasks };
  const frozen = Object.freeze({ rate: 5 });
  return {
    tasks: { state, eta, meta: Array.from({ length: tasks }, (_, i) => (i % 3 === 0 ? null : `m${i + seed}`)) },
    queues: [queue],
    byName: new Map([['q', queue]]),
    tags: new Set([`s${seed}`]),
    config: frozen,
    history: Array.from({ length: tasks }, (_, i) => (i % 5 === 0 ? NaN : i + seed)),
    counter: Object.assign(new Counter(), { n: seed }),
  };
}

function plain(w: ReturnType<typeof world>) {
  return { ...w, tasks: { ...w.tasks, state: [...w.tasks.state], eta: [...w.tasks.eta] }, byName: [...w.byName], tags: [...w.tags], counter: w.counter.n };
}

describe('FoldCopier', () => {
  it('restores a copy into fresh objects, with the template\'s functions', () => {
    const w = world(5000, 3);
    const copy = new FoldCopier().copy(w);
    const back = FoldCopier.restore(copy, { counter: new Counter() } as unknown as ReturnType<typeof world>);
    expect(plain(back)).toEqual(plain(w));
    expect(back.byName.get('q')).toBe(back.queues[0]); // identity kept
    expect(back.config).toBe(w.config); // a frozen object is shared
    back.counter.observe(2);
    expect(back.counter.n).toBe(5);
    expect(w.counter.n).toBe(3);
  });

  it('refilled into a later restore, reuses its objects and keeps nothing of it', () => {
    const copier = new FoldCopier();
    const early = world(3000, 3); // the same length of typed arrays as `late`'s? no: shorter
    const earlyCopy = copier.copy(early);
    const late = world(5000, 4);
    (late.queues[0] as Record<string, unknown>)['extra'] = 'only later';
    late.tags.add('later');
    late.byName.set('gone', { name: 'gone', paused: false, depth: 0 });
    const lateCopy = copier.copy(late);

    const template = FoldCopier.restore(lateCopy, { counter: new Counter() } as unknown as ReturnType<typeof world>);
    const before = { tasks: template.tasks, meta: template.tasks.meta, history: template.history, byName: template.byName, tags: template.tags, counter: template.counter, queue: template.queues[0] };
    const back = FoldCopier.restore(earlyCopy, template);
    expect(plain(back)).toEqual(plain(early));
    expect(Object.keys(back.queues[0] as object)).toEqual(['name', 'paused', 'depth']);
    // The template's objects, refilled: not new ones.
    expect(back.tasks).toBe(before.tasks);
    expect(back.tasks.meta).toBe(before.meta);
    expect(back.history).toBe(before.history);
    expect(back.byName).toBe(before.byName);
    expect(back.tags).toBe(before.tags);
    expect(back.queues[0]).toBe(before.queue);
    expect(back.byName.get('q')).toBe(back.queues[0]);
    back.counter.observe(1);
    expect(back.counter).toBe(before.counter);
    expect(back.counter.n).toBe(4);

    // A typed array of the same type and length is refilled in place; and the other way round.
    const sameLength = FoldCopier.restore(earlyCopy, FoldCopier.restore(earlyCopy, { counter: new Counter() } as unknown as ReturnType<typeof world>));
    const eta = sameLength.tasks.eta;
    const again = FoldCopier.restore(lateCopy, sameLength);
    expect(plain(again)).toEqual(plain({ ...late }));
    expect(again.tasks.eta).not.toBe(eta); // 3000 → 5000 elements: a new one
    expect(FoldCopier.restore(lateCopy, again).tasks.eta).toBe(again.tasks.eta);
  });

  it('never fills one template object for two nodes, and never writes a frozen one', () => {
    const a = { v: 1 };
    const b = { v: 2 };
    const copy = new FoldCopier().copy({ a, b, list: [a, b, a] });
    const shared = { v: 99 };
    const frozen = Object.freeze({ v: 42 });
    const back = FoldCopier.restore(copy, { a: shared, b: shared, list: [frozen, shared] });
    expect(back).toEqual({ a: { v: 1 }, b: { v: 2 }, list: [{ v: 1 }, { v: 2 }, { v: 1 }] });
    expect(back.a).not.toBe(back.b);
    expect(back.list[0]).toBe(back.a);
    expect(back.list[2]).toBe(back.a);
    expect(back.list[1]).toBe(back.b);
    expect(frozen.v).toBe(42);
  });
});
