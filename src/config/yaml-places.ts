/**
 * Where the nodes of a parsed queue.yaml (or scenario file) sit, and the positions of key paths in
 * it, found on demand by walking the document the way the reader reads it: the first of two equal
 * keys (the reader reports the second), a key that is not plain text passed over, an alias taken
 * as the node it repeats (its value is placed at its anchor).
 *
 * Why on demand: recording every value's position while reading cost a 5 MB file ~20% of its
 * load (a formatted path, two positions and a map entry for each of ~300,000 values), and a valid
 * file asks for one position per queue.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Alias, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Path } from './paths.js';
import type { Deepest, Located, PositionSource, SourcePosition } from './positions.js';

/** A node reached along a path: where its value starts, and the node to go on into (null: nothing below). */
interface Landing {
  node: Node | null;
  value: SourcePosition;
}

export class YamlPlaces implements PositionSource {
  #targets: Map<Alias, Node | undefined> | null = null;
  /**
   * Each mapping asked about, by key: the first pair with that plain-text key. Built once per
   * mapping, so that a mapping of n unknown keys, each reported, is n steps and not n²/2.
   */
  readonly #pairs = new WeakMap<YAMLMap, Map<string, Pair>>();

  constructor(
    private readonly text: string,
    private readonly doc: Document,
    readonly positionOf: (offset: number) => SourcePosition,
  ) {}

  /**
   * The node an alias repeats: the last node before it with its anchor, as YAML and the `yaml`
   * library resolve it (`Alias.resolve`). Found for all aliases in one pass, the first time one is
   * asked: a file without aliases never walks its document for them.
   */
  aliasTarget(alias: Alias): Node | undefined {
    this.#targets ??= aliasTargets(this.doc);
    return this.#targets.get(alias);
  }

  start(node: Node): SourcePosition {
    return this.positionOf(node.range?.[0] ?? 0);
  }

  /**
   * Where a key is written. An empty key (`  : 40`) has an empty range where the line begins, in
   * its indentation: it is shown at its colon instead.
   */
  keyStart(key: Node): SourcePosition {
    const [from, to] = key.range ?? [0, 0];
    if (from !== to || !isScalar(key) || key.value !== '') return this.start(key);
    const colon = this.text.indexOf(':', from);
    return this.positionOf(colon < 0 ? from : colon);
  }

  deepest(path: Path): Deepest | null {
    const root = this.doc.contents;
    if (root === null) return null;
    const landed = this.land(root);
    let node = landed.node;
    let located: Located = { key: null, value: landed.value };
    let length = 0;
    for (const segment of path) {
      if (node === null) break;
      const next = this.child(node, segment);
      if (next === undefined) break;
      node = next.node;
      located = next.located;
      length++;
    }
    return { located, length };
  }

  /** An alias lands on the node it repeats (the reader reads that node in its place). */
  private land(node: Node): Landing {
    if (!isAlias(node)) return { node, value: this.start(node) };
    const target = this.aliasTarget(node);
    return target === undefined ? { node: null, value: this.start(node) } : { node: target, value: this.start(target) };
  }

  private child(node: Node, segment: string | number): { node: Node | null; located: Located } | undefined {
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | null | undefined;
      if (item === undefined || item === null) return undefined;
      const landed = this.land(item);
      return { node: landed.node, located: { key: null, value: landed.value } };
    }
    if (isMap(node) && typeof segment === 'string') {
      const pair = this.pairsOf(node).get(segment);
      if (pair === undefined) return undefined;
      const key = this.keyStart(pair.key as Node);
      const value = pair.value as Node | null;
      if (value === null) return { node: null, located: { key, value: key } };
      const landed = this.land(value);
      return { node: landed.node, located: { key, value: landed.value } };
    }
    return undefined;
  }

  /** The pairs the reader reads, by key: those with a plain-text key, the first of equal keys (the reader reports the others). */
  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let pairs = this.#pairs.get(map);
    if (pairs === undefined) {
      pairs = new Map();
      for (const pair of map.items) {
        const keyNode = pair.key as Node | null;
        if (keyNode === null || !isScalar(keyNode)) continue;
        const name = String(keyNode.value);
        if (!pairs.has(name)) pairs.set(name, pair);
      }
      this.#pairs.set(map, pairs);
    }
    return pairs;
  }
}

function aliasTargets(doc: Document): Map<Alias, Node | undefined> {
  const targets = new Map<Alias, Node | undefined>();
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (isNode(node) && node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  return targets;
}
