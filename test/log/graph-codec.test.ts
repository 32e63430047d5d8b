/**
 * The graph codec (src/log/graph-codec.ts): odd numbers, holes, frozen objects, Maps, Sets,
 * shared objects and cycles come back as they were; classes come back by their registry name;
 * a template's object of the same class is filled and keeps its functions; spare capacity of a
 * typed array costs a few bytes; what it cannot read is a GraphDecodeError, a template shaped
 * otherwise a GraphShapeError, a class missing from the registry an AssertionError at encode.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.js';
import { GraphDecodeError, GraphShapeError, decodeGraph, encodeGraph } from '../../src/log/graph-codec.js';

class Counter {
  n = 0;
  readonly bump = (): void => {
    this.n++;
  };
}
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}
const REGISTRY = { Counter, Point };

describe('graph codec', () => {
  it('round-trips values, identity and classes', () => {
    const shared = { name: 'q' };
    const cyclic: Record<string, unknown> = { label: 'self' };
    cyclic['self'] = cyclic;
    // eslint-disable-next-line no-sparse-arrays
    const holes = [1, , 3];
    const root = {
      numbers: [0, -0, 1.5, -7, 2 ** 53, -(2 ** 60), NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER],
      strings: ['', 'é✓', 'q', 'q'],
      flags: [true, false, null, undefined],
      holes,
      frozen: Object.freeze({ a: 1, list: Object.freeze([1, 2]) }),
      map: new Map<unknown, unknown>([['a', shared], [3, [shared]]]),
      set: new Set(['x', shared]),
      typed: { f: new Float64Array([1.5, NaN, NaN]), i: Int32Array.from([-1, 2, 0, 0]), u: new Uint16Array(0) },
      shared,
      again: shared,
      cyclic,
      point: new Point(2, 3),
    };
    const back = decodeGraph(encodeGraph(root, REGISTRY), REGISTRY, undefined as unknown as typeof root);
    expect(back.numbers.map((n) => (Object.is(n, -0) ? '-0' : n))).toEqual(root.numbers.map((n) => (Object.is(n, -0) ? '-0' : n)));
    expect(back.strings).toEqual(root.strings);
    expect(back.flags).toEqual(root.flags);
    expect(1 in back.holes).toBe(false);
    expect(back.holes.length).toBe(3);
    expect(Object.isFrozen(back.frozen) && Object.isFrozen(back.frozen.list)).toBe(true);
    expect(back.frozen).toEqual(root.frozen);
    expect(back.again).toBe(back.shared);
    expect(back.map.get('a')).toBe(back.shared);
    expect((back.map.get(3) as unknown[])[0]).toBe(back.shared);
    expect(back.set.has(back.shared)).toBe(true);
    expect(back.cyclic['self']).toBe(back.cyclic);
    expect(back.typed.f).toEqual(root.typed.f);
    expect(back.typed.i).toEqual(root.typed.i);
    expect(back.typed.u).toEqual(root.typed.u);
    expect(back.point).toBeInstanceOf(Point);
    expect(back.point).toEqual(root.point);
  });

  it('fills the template\'s object of the same class, keeping its functions bound to it', () => {
    const c = new Counter();
    c.bump();
    c.bump();
    const template = { counter: new Counter() };
    const kept = template.counter;
    const back = decodeGraph(encodeGraph({ counter: c }, REGISTRY), REGISTRY, template);
    expect(back.counter).toBe(kept);
    expect(back.counter.n).toBe(2);
    back.counter.bump();
    expect(kept.n).toBe(3);
    expect(c.n).toBe(2);
    // Without a template the function has nowhere to come from.
    expect(() => decodeGraph(encodeGraph({ counter: c }, REGISTRY), REGISTRY, {} as typeof template)).toThrow(GraphShapeError);
    // A template object with a field the snapshot's lacks: written by other code.
    const other = Object.assign(new Counter(), { extra: 1 });
    expect(() => decodeGraph(encodeGraph({ counter: c }, REGISTRY), REGISTRY, { counter: other })).toThrow(GraphShapeError);
  });

  it('keeps an own field named __proto__ a field (JSON.parse makes them), never the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const back = decodeGraph(encodeGraph(parsed, {}), {}, undefined as unknown as Record<string, unknown>);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'a']);
    expect((back as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('writes spare capacity as one element', () => {
    const big = new Float64Array(1_000_000).fill(NaN);
    big.set([1, 2, 3]);
    const bytes = encodeGraph(big, {});
    expect(bytes.length).toBeLessThan(64);
    const back = decodeGraph(bytes, {}, undefined as unknown as Float64Array);
    expect(back.length).toBe(1_000_000);
    expect([back[0], back[2], back[3], back[999_999]]).toEqual([1, 3, NaN, NaN]);
  });

  it('refuses what it cannot read or write', () => {
    const bytes = encodeGraph({ p: new Point(1, 2), s: 'text' }, REGISTRY);
    expect(() => decodeGraph(bytes.subarray(0, bytes.length - 2), REGISTRY, undefined)).toThrow(GraphDecodeError);
    expect(() => decodeGraph(Buffer.concat([bytes, Buffer.from([0])]), REGISTRY, undefined)).toThrow(GraphDecodeError);
    expect(() => decodeGraph(Buffer.from([99]), REGISTRY, undefined)).toThrow(GraphDecodeError);
    expect(() => decodeGraph(bytes, { Counter }, undefined)).toThrow(/unknown class "Point"/);
    expect(() => decodeGraph(Buffer.from([10, 0, 0xff, 0xff, 0xff, 0x0f]), REGISTRY, undefined)).toThrow(GraphDecodeError);
    class Unregistered {}
    expect(() => encodeGraph({ u: new Unregistered() }, REGISTRY)).toThrow(AssertionError);
    expect(() => encodeGraph({ b: 1n }, REGISTRY)).toThrow(AssertionError);
  });
});
