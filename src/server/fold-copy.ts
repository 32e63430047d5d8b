/**
 * Copies of a fold in progress (the engine state and the projections it feeds), taken as the log
 * is read and restored later to fold on from there: time-travel.ts keeps one every so many events.
 *
 * A copy is a graph of frozen nodes mirroring the objects: plain and class objects (prototype and
 * own fields), arrays, typed arrays, Maps and Sets; identity is kept (an object reached twice is
 * copied once: a queue in `queues` and in `queueByName`, the task table a ready heap points at).
 * Two choices keep a million-task state cheap to copy many times over:
 * - Large arrays and typed arrays are cut into pages, and a page equal to the one at the same place
 *   in the previous copy is shared, not stored again: the rows of tasks that ended long ago, which
 *   no longer change, are held once whatever the number of copies.
 * - Frozen objects, the elements of the arrays named in `shareElementsOf` (a task table's
 *   `meta`: never changed once set) and the objects named in `shareObjects` (with all they hold:
 *   the configuration and settings a state took from its ConfigApplied events) are kept by
 *   reference. Such an object is never refilled: it may be an event's own (time-travel.ts keeps
 *   the events, and a state folded from them holds their objects), which a refill would rewrite.
 *
 * Functions are not copied. A projection's `observe` (and a series recorder's gauge reader) is an
 * arrow function bound to its own object, so a restore fills fresh objects made by the caller (the
 * `template`) and keeps their functions: a copy restored without a template for a field holding a
 * function is an error, not a projection silently observing into the object it was copied from.
 *
 * The template may also be a restore nobody reads any more (time-travel.ts recycles the oldest of
 * the instants it keeps): its objects, arrays, typed arrays and Maps are then refilled in place
 * rather than made anew, which spares allocating and collecting tens of MiB per move of the cursor
 * (a million-event log: a restore in about a third of the time). Everything the copy holds is
 * written, every own field the copy lacks is deleted, lengths are set, so what is left is the
 * copy's and nothing of the template's. An object of the template is refilled for one node of the
 * copy at most; a second node reaching it gets a fresh object. A frozen object is never refilled.
 */
const PAGE_BYTES = 1 << 14;
const PAGE_ITEMS = 2048;

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | Float32Array | Int8Array | Int16Array | Uint8ClampedArray;
type TypedCtor = new (length: number) => TypedArray;

/** A field's copy: a primitive as it is, or a node. */
type Value = string | number | boolean | bigint | symbol | null | undefined | Node;

abstract class Node {}
class ObjectNode extends Node {
  constructor(
    readonly proto: object | null,
    readonly fields: [string, Value | typeof FUNCTION][],
  ) {
    super();
  }
}
class ArrayNode extends Node {
  /** Either pages of elements (primitives or shared objects), or the elements' copies. */
  constructor(
    readonly pages: unknown[][] | null,
    readonly items: Value[] | null,
    /** Elements in all. */
    readonly length: number,
  ) {
    super();
  }
}
class TypedNode extends Node {
  constructor(
    readonly ctor: TypedCtor,
    readonly length: number,
    readonly pages: TypedArray[],
  ) {
    super();
  }
}
class MapNode extends Node {
  constructor(readonly entries: [Value, Value][]) {
    super();
  }
}
class SetNode extends Node {
  constructor(readonly items: Value[]) {
    super();
  }
}
class SharedNode extends Node {
  constructor(readonly ref: object) {
    super();
  }
}
const FUNCTION = Symbol('function');

/** One copy: restore it with `FoldCopier.restore`. */
export class FoldCopy {
  constructor(
    readonly root: Node,
    /** Bytes of pages this copy stores itself (not shared with the copy before it). */
    readonly ownBytes: number,
  ) {}
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBytes(a: TypedArray, b: TypedArray): boolean {
  return a.length === b.length && a.constructor === b.constructor && Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
}

/** Whether page `a` holds the items of `b` from `start`, as many as it has (and `b` has that many). */
function sameItems(a: readonly unknown[], b: readonly unknown[], start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[start + i])) return false;
  return true;
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

export class FoldCopier {
  /** Pages of the previous copy, by the path that reached them. */
  private previous = new Map<string, unknown[]>();

  /** A copy of everything reachable from `root`. */
  copy(root: object, shareElementsOf: ReadonlySet<object> = new Set(), shareObjects: ReadonlySet<object> = new Set()): FoldCopy {
    const memo = new Map<object, Node>();
    const pages = new Map<string, unknown[]>();
    let ownBytes = 0;

    const pageOf = <P>(path: string, i: number, fresh: () => P, same: (old: P) => boolean, size: number): P => {
      const old = this.previous.get(path)?.[i] as P | undefined;
      const page = old !== undefined && same(old) ? old : ((ownBytes += size), fresh());
      let list = pages.get(path);
      if (list === undefined) pages.set(path, (list = []));
      list.push(page);
      return page;
    };

    const visit = (v: unknown, path: string): Value | typeof FUNCTION => {
      if (typeof v === 'function') return FUNCTION;
      if (isPrimitive(v)) return v as Value;
      const o = v as object;
      const known = memo.get(o);
      if (known !== undefined) return known;
      let node: Node;
      if (Object.isFrozen(o) || shareObjects.has(o)) node = new SharedNode(o);
      else if (ArrayBuffer.isView(o)) {
        if (o instanceof DataView) throw new Error(`${path}: a DataView cannot be copied`);
        const a = o as TypedArray;
        const step = Math.max(1, PAGE_BYTES / a.BYTES_PER_ELEMENT);
        const list: TypedArray[] = [];
        for (let s = 0, i = 0; s < a.length; s += step, i++) {
          const part = a.subarray(s, Math.min(a.length, s + step));
          list.push(pageOf(path, i, () => part.slice(), (old: TypedArray) => sameBytes(old, part), part.byteLength));
        }
        node = new TypedNode(a.constructor as TypedCtor, a.length, list);
      } else if (Array.isArray(o)) {
        // Elements that need no copy of their own (primitives, or shared objects) go by pages: no
        // visit per element, and a page unchanged since the previous copy is shared.
        if (shareElementsOf.has(o) || o.every(isPrimitive)) {
          const list: unknown[][] = [];
          for (let s = 0, i = 0; s < o.length; s += PAGE_ITEMS, i++) {
            const e = Math.min(o.length, s + PAGE_ITEMS);
            list.push(pageOf(path, i, () => o.slice(s, e), (old: unknown[]) => sameItems(old, o, s, e), (e - s) * 8));
          }
          node = new ArrayNode(list, null, o.length);
        } else {
          const items: Value[] = [];
          node = new ArrayNode(null, items, o.length);
          memo.set(o, node);
          o.forEach((item, i) => items.push(visit(item, `${path}[${i}]`) as Value));
          return node;
        }
      } else if (o instanceof Map) {
        const entries: [Value, Value][] = [];
        node = new MapNode(entries);
        memo.set(o, node);
        for (const [k, item] of o) entries.push([visit(k, `${path}.key`) as Value, visit(item, `${path}[${String(k)}]`) as Value]);
        return node;
      } else if (o instanceof Set) {
        const items: Value[] = [];
        node = new SetNode(items);
        memo.set(o, node);
        let i = 0;
        for (const item of o) items.push(visit(item, `${path}{${i++}}`) as Value);
        return node;
      } else {
        const fields: [string, Value | typeof FUNCTION][] = [];
        node = new ObjectNode(Object.getPrototypeOf(o) as object | null, fields);
        memo.set(o, node);
        for (const key of Object.keys(o)) fields.push([key, visit((o as Record<string, unknown>)[key], `${path}.${key}`)]);
        return node;
      }
      memo.set(o, node);
      return node;
    };

    const copied = visit(root, '');
    this.previous = pages;
    return new FoldCopy(copied as Node, ownBytes);
  }

  /**
   * Only the field `key` of the copied root, made anew (no template): for a part without
   * functions, such as the engine state, when the rest is not needed.
   */
  static restoreField(copy: FoldCopy, key: string): unknown {
    const root = copy.root;
    if (!(root instanceof ObjectNode)) throw new Error('the copy\'s root is not an object');
    const field = root.fields.find(([k]) => k === key);
    if (field === undefined) throw new Error(`the copy has no field ${key}`);
    return FoldCopier.restore(new FoldCopy(new ObjectNode(Object.prototype, [field]), 0), {} as Record<string, unknown>)[key];
  }

  /**
   * Live objects again, filled into `template` where it has an object of the same kind (prototype,
   * array, typed array of the same type and length, Map) at the same place, made anew elsewhere.
   * The template is consumed: afterwards its objects belong to the result.
   */
  static restore<T extends object>(copy: FoldCopy, template: T): T {
    const memo = new Map<Node, unknown>();
    /** Template objects already refilled for a node: never a second time. */
    const claimed = new Set<object>();
    const claim = <O extends object>(into: unknown, fits: (o: object) => o is O): O | null => {
      if (typeof into !== 'object' || into === null || claimed.has(into) || Object.isFrozen(into) || !fits(into)) return null;
      claimed.add(into);
      return into;
    };
    const value = (v: Value | typeof FUNCTION, into: unknown, path: string): unknown => {
      if (v === FUNCTION) {
        if (typeof into !== 'function') throw new Error(`${path}: a function cannot be restored from a copy; give a template that has it`);
        return into;
      }
      if (!(v instanceof Node)) return v;
      const known = memo.get(v);
      if (known !== undefined) return known;
      if (v instanceof SharedNode) return v.ref;
      if (v instanceof TypedNode) {
        const a = claim(into, (o): o is TypedArray => ArrayBuffer.isView(o) && o.constructor === v.ctor && (o as TypedArray).length === v.length) ?? new v.ctor(v.length);
        let at = 0;
        for (const page of v.pages) {
          a.set(page, at);
          at += page.length;
        }
        memo.set(v, a);
        return a;
      }
      if (v instanceof ArrayNode) {
        const reused = claim(into, (o): o is unknown[] => Array.isArray(o));
        if (v.pages !== null) {
          // One concat of the pages: a packed array, as the original was; or the pages written
          // over a template's array, which stays packed (never a hole: shrunk, then pushed). Not
          // over a much shorter one (a fresh projection's empty array): pushing element by element
          // costs several times the concat.
          const whole = reused !== null && reused.length * 2 >= v.length ? refill(reused, v.pages) : ([] as unknown[]).concat(...v.pages);
          memo.set(v, whole);
          return whole;
        }
        const a = reused ?? [];
        memo.set(v, a);
        const items = v.items as Value[];
        if (a.length > items.length) a.length = items.length;
        for (let i = 0; i < items.length; i++) {
          const item = value(items[i] as Value, a[i], `${path}[${i}]`);
          if (i < a.length) a[i] = item;
          else a.push(item);
        }
        return a;
      }
      if (v instanceof MapNode) {
        const m = claim(into, (o): o is Map<unknown, unknown> => o instanceof Map) ?? new Map<unknown, unknown>();
        const old = new Map(m);
        m.clear();
        memo.set(v, m);
        for (const [k, item] of v.entries) {
          const key = value(k, undefined, `${path}.key`);
          m.set(key, value(item, old.get(key), `${path}[${String(k)}]`));
        }
        return m;
      }
      if (v instanceof SetNode) {
        const s = claim(into, (o): o is Set<unknown> => o instanceof Set) ?? new Set<unknown>();
        s.clear();
        memo.set(v, s);
        v.items.forEach((item, i) => s.add(value(item, undefined, `${path}{${i}}`)));
        return s;
      }
      const node = v as ObjectNode;
      const reused = claim(into, (o): o is Record<string, unknown> => Object.getPrototypeOf(o) === node.proto && !Array.isArray(o) && !(o instanceof Map) && !(o instanceof Set) && !ArrayBuffer.isView(o));
      const o = reused ?? (Object.create(node.proto) as Record<string, unknown>);
      memo.set(v, o);
      if (reused !== null && Object.keys(reused).length !== node.fields.length) {
        const kept = new Set(node.fields.map(([key]) => key));
        for (const key of Object.keys(reused)) if (!kept.has(key)) delete reused[key];
      }
      for (const [key, item] of node.fields) o[key] = value(item, reused === null ? undefined : o[key], `${path}.${key}`);
      return o;
    };
    return value(copy.root, template, '') as T;
  }
}

/** Writes the pages over `a`, which ends as long as they are. */
function refill(a: unknown[], pages: readonly unknown[][]): unknown[] {
  let total = 0;
  for (const page of pages) total += page.length;
  if (a.length > total) a.length = total;
  let i = 0;
  for (const page of pages) {
    for (let j = 0; j < page.length; j++, i++) {
      if (i < a.length) a[i] = page[j];
      else a.push(page[j]);
    }
  }
  return a;
}
