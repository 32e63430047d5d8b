/**
 * queue.yaml → plain data (mappings, lists, text, null) plus the position of every key and value.
 *
 * Read with the YAML failsafe schema, so every scalar stays the text the user wrote, as App
 * Engine's own loader sees it (`0123`, `1e3`, `yes` are left for each directive to interpret).
 * A plain `~`, `null` or empty value is null. Syntax errors stop the reading: past one, positions
 * and structure are guesses.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, Scalar, type Document, type Node } from 'yaml';
import type { IssueCollector } from './issues.js';
import type { Path } from './paths.js';
import { offsetToPosition, type PositionIndex, type SourcePosition } from './positions.js';
import { plainMap } from './source.js';

const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

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
  return new YamlReader(doc, positionOf, positions, issues).read(doc.contents, []);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

class YamlReader {
  constructor(
    private readonly doc: Document,
    private readonly positionOf: (offset: number) => SourcePosition,
    private readonly positions: PositionIndex,
    private readonly issues: IssueCollector,
  ) {}

  read(node: Node, path: Path, key: SourcePosition | null = null): unknown {
    this.positions.set(path, this.start(node), key);
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      return target === undefined ? null : this.read(target, path, key);
    }
    if (isScalar(node)) {
      const plainNull = node.type === Scalar.PLAIN && NULL_WORDS.has(String(node.source ?? node.value));
      return plainNull ? null : String(node.value);
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => (item === null ? null : this.read(item as Node, [...path, index])));
    }
    if (isMap(node)) {
      const map = plainMap();
      const seen = new Map<string, SourcePosition>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyPosition = keyNode === null ? this.start(node) : this.start(keyNode);
        if (keyNode === null || !isScalar(keyNode)) {
          this.issues.reportAt('wrong-type', path, keyPosition, 'keys must be plain text, found a list or mapping used as a key');
          continue;
        }
        const name = String(keyNode.value);
        const earlier = seen.get(name);
        if (earlier !== undefined) {
          this.issues.reportAt('duplicate-key', [...path, name], keyPosition, `${name} is already set on line ${earlier.line}; App Engine would keep only one of them`);
          continue;
        }
        seen.set(name, keyPosition);
        const value = pair.value as Node | null;
        if (value === null) {
          this.positions.set([...path, name], keyPosition, keyPosition);
          map[name] = null;
        } else {
          map[name] = this.read(value, [...path, name], keyPosition);
        }
      }
      return map;
    }
    return null;
  }

  private start(node: Node): SourcePosition {
    return this.positionOf(node.range?.[0] ?? 0);
  }
}
