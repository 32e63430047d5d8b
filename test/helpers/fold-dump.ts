/** A fold (engine state and read models) as plain data, for deep comparisons in tests. */

/**
 * Everything reachable, as plain data: each object as its class name and own fields, typed arrays
 * as their type and every element (capacity included), Maps and Sets as entries, functions as a
 * mark, and an object met before as the path it was first met at (so identity is compared too).
 */
export function dump(root: unknown): unknown {
  const seen = new Map<object, string>();
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'function') return '[function]';
    if (typeof v === 'number' && Object.is(v, -0)) return '-0';
    if (v === null || typeof v !== 'object') return v;
    const first = seen.get(v);
    if (first !== undefined) return { ref: first };
    seen.set(v, path);
    if (ArrayBuffer.isView(v)) return { typed: v.constructor.name, items: Array.from(v as Uint8Array) };
    if (Array.isArray(v)) return { frozen: Object.isFrozen(v), items: Array.from({ length: v.length }, (_, i) => (i in v ? walk(v[i], `${path}[${i}]`) : '[hole]')) };
    if (v instanceof Map) return { map: [...v].map(([k, x]) => [walk(k, `${path}.key`), walk(x, `${path}[${String(k)}]`)]) };
    if (v instanceof Set) return { set: [...v].map((x, i) => walk(x, `${path}{${i}}`)) };
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(v)) fields[key] = walk((v as Record<string, unknown>)[key], `${path}.${key}`);
    return { class: (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name, frozen: Object.isFrozen(v), fields };
  };
  return walk(root, '');
}
