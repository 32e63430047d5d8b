/**
 * The shape pass shared by queue files and scenario files: check parsed YAML/XML against a zod
 * schema, report every unknown key and every value of the wrong kind (through the caller's
 * reporter, which words the message), and remove what was reported so the value rules can still
 * check the rest without reporting it twice.
 */
import type { z } from 'zod';
import { formatPath, type Path } from './paths.js';
import { plainMap, type PlainMap } from './source.js';

export interface ShapeResult<T> {
  raw: T;
  /** Whether the value at `path` was reported and removed: the value rules must not report it again. */
  isRemoved(path: Path): boolean;
}

export interface ShapeReporter {
  /** `key` is unknown in the mapping at `mappingPath` (full path, `base` included). */
  unknownKey(key: string, mappingPath: Path): void;
  /** The value at `path` is not `expected` (zod's kind name: `string`, `object`, `array`, ...). */
  wrongType(path: Path, expected: string, actual: unknown): void;
}

/** Checks `data` against `schema`; paths are reported as `base` + the path inside `data`. */
export function checkShapeAgainst<T>(schema: z.ZodType<T>, data: unknown, base: Path, report: ShapeReporter, what: string): ShapeResult<T> {
  let root: unknown = data ?? plainMap(); // an empty file is an empty mapping
  const first = schema.safeParse(root);
  // Nothing to remove: the first answer is the data (a second parse of a 5 MB file cost ~10% of its read).
  if (first.success) return { raw: first.data, isRemoved: () => false };
  const removed = new Set<string>();
  for (const issue of first.error.issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const parent = valueAt(root, path);
      for (const key of issue.keys) {
        report.unknownKey(key, [...base, ...path]);
        if (isPlainMap(parent)) delete parent[key];
        removed.add(formatPath([...base, ...path, key]));
      }
    } else {
      // invalid_type is the only other kind an all-optional, all-text schema produces.
      const expected = issue.code === 'invalid_type' ? issue.expected : 'something else';
      report.wrongType([...base, ...path], expected, valueAt(root, path));
      root = removeAt(root, path);
      removed.add(formatPath([...base, ...path]));
    }
  }
  const second = schema.safeParse(root);
  if (!second.success) throw new Error(`${what} shape still invalid after removing reported parts: ${second.error.message}`);
  return { raw: second.data, isRemoved: (path) => removed.has(formatPath(path)) };
}

export function isPlainMap(value: unknown): value is PlainMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isPlainMap(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}

/** Removes the value at `path`; a list item becomes an empty mapping so later indexes keep their place. */
function removeAt(root: unknown, path: Path): unknown {
  const last = path[path.length - 1];
  if (last === undefined) return plainMap();
  const parent = valueAt(root, path.slice(0, -1));
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = plainMap();
  else if (isPlainMap(parent) && typeof last === 'string') delete parent[last];
  return root;
}
