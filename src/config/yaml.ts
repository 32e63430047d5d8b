/**
 * queue.yaml → plain data (mappings, lists, text, null) plus the position of every key and value.
 *
 * Read with the YAML failsafe schema, so every scalar stays the text the user wrote, as App
 * Engine's own loader sees it (`0123`, `1e3`, `yes` are left for each directive to interpret).
 * A plain `~`, `null` or empty value is null. Syntax errors stop the reading: past one, positions
 * and structure are guesses.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, Scalar, type Alias, type Node } from 'yaml';
import type { IssueCollector } from './issues.js';
import type { Path } from './paths.js';
import { offsetToPosition, type PositionIndex } from './positions.js';
import { plainMap } from './source.js';
import { YamlPlaces } from './yaml-places.js';

const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

/**
 * How many values aliases may add to a file in all. An alias repeats its anchor's whole node, and
 * aliases inside it repeat theirs, so a few lines can stand for billions of values (the "billion
 * laughs"). A queue file repeating one retry_parameters block in each of its 101 queues adds about
 * 600; a limit far above any real use, and far below what would stall the reader.
 */
export const MAX_ALIAS_VALUES = 10_000;

/** Thrown inside the reader once the alias limit is passed: nothing past it is read. */
class AliasLimitReached extends Error {}

/** The file's data, or undefined when it is not valid YAML (the errors are in `issues`). */
export function readYaml(text: string, positions: PositionIndex, issues: IssueCollector): unknown {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, prettyErrors: false, keepSourceTokens: false });
  const positionOf = offsetToPosition(text);
  for (const warning of doc.warnings) {
    issues.reportAt('yaml-warning', [], positionOf(warning.pos[0]), firstLine(warning.message));
  }
  if (doc.errors.length > 0) {
    for (const error of doc.errors) issues.reportAt('yaml-syntax', [], positionOf(error.pos[0]), firstLine(error.message));
    return undefined;
  }
  if (doc.contents === null) return null;
  const places = new YamlPlaces(text, doc, positionOf);
  positions.useSource(places);
  const reader = new YamlReader(places, issues);
  let data: unknown;
  try {
    data = reader.read(doc.contents, []);
  } catch (error) {
    if (!(error instanceof AliasLimitReached)) throw error;
    return undefined;
  }
  // As after a syntax error, the values are not checked: an alias that gave nothing would be
  // reported again as a missing value.
  return reader.aliasFailed ? undefined : data;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

class YamlReader {
  /** Whether an alias was reported: the data is then incomplete. */
  aliasFailed = false;
  /** The anchored nodes being read now: an alias to one of them is inside the value it repeats. */
  private readonly open = new Set<Node>();
  /** The outermost alias being read now (aliases nest), and the values aliases have added in all. */
  private outerAlias: { alias: Alias; path: Path } | null = null;
  private aliasValues = 0;

  constructor(
    private readonly places: YamlPlaces,
    private readonly issues: IssueCollector,
  ) {}

  read(node: Node, path: Path): unknown {
    if (this.outerAlias !== null && ++this.aliasValues > MAX_ALIAS_VALUES) {
      // Reported at the alias written where the values go, not deep inside what it repeats.
      const { alias, path: aliasPath } = this.outerAlias;
      this.issues.reportAt('yaml-alias', aliasPath, this.places.start(alias), `aliases repeat more than ${MAX_ALIAS_VALUES} values in all, here through *${alias.source}; pushq stops reading (a few nested aliases can stand for billions)`);
      throw new AliasLimitReached();
    }
    if (isAlias(node)) return this.readAlias(node, path);
    if (node.anchor === undefined) return this.readNode(node, path);
    this.open.add(node);
    try {
      return this.readNode(node, path);
    } finally {
      this.open.delete(node);
    }
  }

  private readNode(node: Node, path: Path): unknown {
    if (isScalar(node)) {
      const plainNull = node.type === Scalar.PLAIN && NULL_WORDS.has(String(node.source ?? node.value));
      return plainNull ? null : String(node.value);
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => (item === null ? null : this.read(item as Node, [...path, index])));
    }
    if (isMap(node)) {
      const map = plainMap();
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        if (keyNode === null || !isScalar(keyNode)) {
          const keyPosition = keyNode === null ? this.places.start(node) : this.places.keyStart(keyNode);
          this.issues.reportAt('wrong-type', path, keyPosition, 'keys must be plain text, found a list or mapping used as a key');
          continue;
        }
        const name = String(keyNode.value);
        const earlier = seen.get(name);
        if (earlier !== undefined) {
          this.issues.reportAt('duplicate-key', [...path, name], this.places.keyStart(keyNode), `${name} is already set on line ${this.places.keyStart(earlier).line}; App Engine would keep only one of them`);
          continue;
        }
        seen.set(name, keyNode);
        const value = pair.value as Node | null;
        map[name] = value === null ? null : this.read(value, [...path, name]);
      }
      return map;
    }
    return null;
  }

  private readAlias(alias: Alias, path: Path): unknown {
    const target = this.places.aliasTarget(alias);
    if (target === undefined || this.open.has(target)) {
      this.aliasFailed = true;
      const problem = target === undefined
        ? `names no anchor: an anchor (&${alias.source}) must be set before the alias`
        : `is inside the value its anchor &${alias.source} names, so it would repeat itself forever`;
      this.issues.reportAt('yaml-alias', path, this.places.start(alias), `alias *${alias.source} ${problem}`);
      return null;
    }
    const outermost = this.outerAlias === null;
    if (outermost) this.outerAlias = { alias, path };
    try {
      return this.read(target, path);
    } finally {
      if (outermost) this.outerAlias = null;
    }
  }
}
