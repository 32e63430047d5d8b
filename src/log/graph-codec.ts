/**
 * An object graph ⇄ compact bytes: what a fold snapshot (src/server/fold-snapshot.ts) is made of.
 * The engine state and the read models are class instances holding numbers, strings, arrays,
 * typed arrays, Maps and Sets, with shared objects (a queue in `queues` and in `queueByName`, the
 * task table every ready heap points at, the queues a projection keeps a view of): the graph is
 * written whole, identity kept, and read back into live objects of the same classes.
 *
 * One value, in order:
 *
 *   tag byte, then   undefined | null | false | true        nothing
 *                    int                                    zigzag varint (safe integers, not −0)
 *                    float                                  8 bytes LE (the rest: fractions, −0, NaN, ±∞)
 *                    string                                 varint byte length + UTF-8 (first time)
 *                    string ref / object ref                varint index (every later time)
 *                    object                                 class name (a string), flags, varint n, n × (key, value)
 *                    array                                  flags, varint n, n values (holes kept)
 *                    typed array                            kind byte, varint length, varint n, one element,
 *                                                           n elements (the rest: copies of that one element,
 *                                                           so spare capacity costs nothing)
 *                    Map / Set                              varint n, n entries
 *                    function                               nothing: restored from the template (below)
 *
 * Classes are named by a registry the caller gives (name → class), so the bytes never depend on
 * the order of a list; an object of a class the registry lacks cannot be written (an engine bug:
 * the registry is out of date, and the tests that encode every read model fail).
 *
 * Functions are not written. Decoding fills a `template` (fresh objects made by the caller): where
 * the template has an object of the same class at the same place, that object is filled and kept,
 * with its functions (a projection's `observe` is an arrow function bound to it); elsewhere objects
 * are made anew. A template object whose own fields differ from the snapshot's means the code that
 * wrote it shaped its objects otherwise: GraphShapeError, so the caller replays instead.
 */
import { fail as assertionFailed } from '../core/assert.js';
import { Trail } from './graph-trail.js';

const enum Tag {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  Int = 4,
  Float = 5,
  String = 6,
  StringRef = 7,
  ObjectRef = 8,
  Object = 9,
  Array = 10,
  Typed = 11,
  Map = 12,
  Set = 13,
  Hole = 14,
  Function = 15,
}

const FROZEN = 1;

type TypedArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | Uint8ClampedArray;
/** Typed array kinds by their byte in the format: append only. */
const TYPED_KINDS = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, Uint8ClampedArray] as const;

/** Class name → class, for the instances a graph may hold. Plain objects are named ''. */
export type ClassRegistry = Readonly<Record<string, abstract new (...args: never[]) => unknown>>;

/** The bytes are not a graph this codec wrote (truncated, an unknown tag or class, a bad reference). */
export class GraphDecodeError extends Error {
  override name = 'GraphDecodeError';
}

/** The template's objects have other fields than the snapshot's: written by code that shaped them otherwise. */
export class GraphShapeError extends Error {
  override name = 'GraphShapeError';
}

const MAX_INT = 2 ** 52;

class Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }

  varuint(v: number): void {
    this.room(8);
    while (v >= 128) {
      this.buf[this.n++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.n++] = v;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.n);
    this.n += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  utf8(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.varuint(len);
    this.room(len);
    this.n += this.buf.write(s, this.n, 'utf8');
  }

  result(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

function sameElement(bytes: Uint8Array, at: number, element: Uint8Array): boolean {
  for (let i = 0; i < element.length; i++) if (bytes[at + i] !== element[i]) return false;
  return true;
}

/** The graph reachable from `root` as bytes. */
export function encodeGraph(root: unknown, registry: ClassRegistry): Buffer {
  const w = new Writer();
  const strings = new Map<string, number>();
  const objects = new Map<object, number>();
  const classNames = new Map<object, string>([[Object.prototype, '']]);
  for (const [name, ctor] of Object.entries(registry)) classNames.set(ctor.prototype as object, name);

  const string = (s: string): void => {
    const known = strings.get(s);
    if (known !== undefined) {
      w.byte(Tag.StringRef);
      w.varuint(known);
      return;
    }
    strings.set(s, strings.size);
    w.byte(Tag.String);
    w.utf8(s);
  };

  const path = new Trail();
  const value = (v: unknown): void => {
    switch (typeof v) {
      case 'undefined':
        return w.byte(Tag.Undefined);
      case 'boolean':
        return w.byte(v ? Tag.True : Tag.False);
      case 'number':
        if (Number.isInteger(v) && Math.abs(v) <= MAX_INT && !Object.is(v, -0)) {
          w.byte(Tag.Int);
          w.varuint(v >= 0 ? v * 2 : -v * 2 - 1);
        } else {
          w.byte(Tag.Float);
          w.f64(v);
        }
        return;
      case 'string':
        return string(v);
      case 'function':
        return w.byte(Tag.Function);
      case 'object':
        break;
      default:
        assertionFailed(`${path}: a ${typeof v} cannot be written in a snapshot`);
    }
    if (v === null) return w.byte(Tag.Null);
    const o = v as object;
    const known = objects.get(o);
    if (known !== undefined) {
      w.byte(Tag.ObjectRef);
      w.varuint(known);
      return;
    }
    objects.set(o, objects.size);
    const flags = Object.isFrozen(o) ? FROZEN : 0;
    if (ArrayBuffer.isView(o)) {
      const kind = TYPED_KINDS.indexOf(o.constructor as (typeof TYPED_KINDS)[number]);
      if (kind < 0) assertionFailed(`${path}: a ${o.constructor.name} cannot be written in a snapshot`);
      const a = o as TypedArray;
      const bpe = a.BYTES_PER_ELEMENT;
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      // The trailing run of elements equal to the last one (spare capacity: zeros, or NaN for
      // "not yet") is written as that one element.
      const fill = a.length === 0 ? new Uint8Array(bpe) : bytes.subarray(bytes.length - bpe);
      let used = a.length;
      while (used > 0 && sameElement(bytes, (used - 1) * bpe, fill)) used--;
      w.byte(Tag.Typed);
      w.byte(kind);
      w.varuint(a.length);
      w.varuint(used);
      w.bytes(fill);
      w.bytes(bytes.subarray(0, used * bpe));
      return;
    }
    if (Array.isArray(o)) {
      w.byte(Tag.Array);
      w.byte(flags);
      w.varuint(o.length);
      for (let i = 0; i < o.length; i++) {
        if (i in o) value(o[i]);
        else w.byte(Tag.Hole);
      }
      return;
    }
    if (o instanceof Map) {
      w.byte(Tag.Map);
      w.varuint(o.size);
      for (const [k, item] of o) {
        value(k);
        path.entry(k);
        value(item);
        path.pop();
      }
      return;
    }
    if (o instanceof Set) {
      w.byte(Tag.Set);
      w.varuint(o.size);
      for (const item of o) value(item);
      return;
    }
    const name = classNames.get(Object.getPrototypeOf(o) as object);
    // The message is built only when it fails (assert.ts): this runs once per object written.
    if (name === undefined) assertionFailed(`${path}: an instance of ${(o.constructor as { name?: string } | undefined)?.name ?? 'a class with no name'}, which the snapshot's class registry lacks`);
    w.byte(Tag.Object);
    string(name);
    w.byte(flags);
    const keys = Object.keys(o);
    w.varuint(keys.length);
    for (const key of keys) {
      string(key);
      path.field(key);
      value((o as Record<string, unknown>)[key]);
      path.pop();
    }
  };

  value(root);
  return w.result();
}

/** Live objects again, from bytes encodeGraph wrote, filled into `template` where it fits (see the header). */
export function decodeGraph<T>(bytes: Buffer, registry: ClassRegistry, template: T): T {
  let at = 0;
  const strings: string[] = [];
  const objects: unknown[] = [];
  const claimed = new Set<object>();
  const protos = new Map<string, object>([['', Object.prototype]]);
  for (const [name, ctor] of Object.entries(registry)) protos.set(name, ctor.prototype as object);

  const fail = (why: string): never => {
    throw new GraphDecodeError(`${why} at byte ${at}`);
  };
  const byte = (): number => {
    if (at >= bytes.length) fail('truncated');
    return bytes[at++] as number;
  };
  const varuint = (): number => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = byte();
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
      if (scale > 2 ** 56) fail('a number too long');
    }
  };
  /** A count of items that each take at least one byte: never more than the bytes left. */
  const count = (): number => {
    const n = varuint();
    if (n > bytes.length - at) fail(`a count of ${n} with ${bytes.length - at} bytes left`);
    return n;
  };
  const stringValue = (): string => {
    const tag = byte();
    if (tag === Tag.StringRef) {
      const i = varuint();
      if (i >= strings.length) fail(`string ${i} of ${strings.length}`);
      return strings[i] as string;
    }
    if (tag !== Tag.String) fail(`tag ${tag} where a string belongs`);
    const len = count();
    const s = bytes.toString('utf8', at, at + len);
    at += len;
    strings.push(s);
    return s;
  };
  const claim = (into: unknown, fits: (o: object) => boolean): object | null => {
    if (typeof into !== 'object' || into === null || claimed.has(into) || Object.isFrozen(into) || !fits(into)) return null;
    claimed.add(into);
    return into;
  };

  const path = new Trail();
  const value = (into: unknown): unknown => {
    const tag = bytes[at];
    switch (tag) {
      case Tag.Undefined:
        at++;
        return undefined;
      case Tag.Null:
        at++;
        return null;
      case Tag.False:
        at++;
        return false;
      case Tag.True:
        at++;
        return true;
      case Tag.Int: {
        at++;
        const z = varuint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.Float: {
        at++;
        if (at + 8 > bytes.length) fail('truncated');
        const v = bytes.readDoubleLE(at);
        at += 8;
        return v;
      }
      case Tag.String:
      case Tag.StringRef:
        return stringValue();
      case Tag.ObjectRef: {
        at++;
        const i = varuint();
        if (i >= objects.length) fail(`object ${i} of ${objects.length}`);
        return objects[i];
      }
      case Tag.Function:
        at++;
        if (typeof into !== 'function') throw new GraphShapeError(`${path}: a function the template does not have`);
        return into;
      case Tag.Typed: {
        at++;
        const ctor = TYPED_KINDS[byte()] ?? fail('an unknown typed array kind');
        const length = varuint();
        const used = varuint();
        const bpe = ctor.BYTES_PER_ELEMENT;
        if (length > 2 ** 31 || used > length || at + bpe + used * bpe > bytes.length) fail(`a typed array of ${length} with ${used} written`);
        const a = new ctor(length);
        // Through a byte view: the source need not be aligned for the element size.
        const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        const fill = bytes.subarray(at, at + bpe);
        at += bpe;
        if (used < length && fill.some((b) => b !== 0)) for (let i = used; i < length; i++) view.set(fill, i * bpe);
        view.set(bytes.subarray(at, at + used * bpe));
        at += used * bpe;
        objects.push(a);
        return a;
      }
      case Tag.Array: {
        at++;
        const flags = byte();
        const n = count();
        const a: unknown[] = new Array<unknown>(n);
        objects.push(a);
        const from = Array.isArray(into) ? (into as unknown[]) : [];
        for (let i = 0; i < n; i++) {
          if (bytes[at] === Tag.Hole) at++;
          else a[i] = value(from[i]);
        }
        if (flags & FROZEN) Object.freeze(a);
        return a;
      }
      case Tag.Map: {
        at++;
        const n = count();
        const m = new Map<unknown, unknown>();
        objects.push(m);
        const from = into instanceof Map ? into : new Map();
        for (let i = 0; i < n; i++) {
          const k = value(undefined);
          path.entry(k);
          m.set(k, value(from.get(k)));
          path.pop();
        }
        return m;
      }
      case Tag.Set: {
        at++;
        const n = count();
        const s = new Set<unknown>();
        objects.push(s);
        for (let i = 0; i < n; i++) s.add(value(undefined));
        return s;
      }
      case Tag.Object: {
        at++;
        const name = stringValue();
        const proto = protos.get(name);
        if (proto === undefined) fail(`an unknown class ${JSON.stringify(name)}`);
        const flags = byte();
        const reused = claim(into, (o) => Object.getPrototypeOf(o) === proto && !Array.isArray(o));
        const o = (reused ?? Object.create(proto as object)) as Record<string, unknown>;
        const templateKeys = reused === null ? null : Object.keys(reused);
        objects.push(o);
        const n = count();
        const keys = new Set<string>();
        for (let i = 0; i < n; i++) {
          const key = stringValue();
          keys.add(key);
          path.field(key);
          const v = value(reused === null ? undefined : o[key]);
          path.pop();
          // An own field named __proto__ (JSON.parse makes them) stays a field, never the prototype.
          if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
          else o[key] = v;
        }
        if (templateKeys !== null && (templateKeys.length !== keys.size || templateKeys.some((k) => !keys.has(k)))) {
          throw new GraphShapeError(`${path}: ${name || 'an object'} has the fields ${JSON.stringify(templateKeys)} here, the snapshot ${JSON.stringify([...keys])}`);
        }
        if (flags & FROZEN) Object.freeze(o);
        return o;
      }
      default:
        return fail(tag === undefined ? 'truncated' : `an unknown tag ${tag}`);
    }
  };

  const root = value(template);
  if (at !== bytes.length) fail(`${bytes.length - at} bytes after the graph`);
  return root as T;
}
