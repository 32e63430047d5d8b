/**
 * queue.xml → the same plain data as queue.yaml gives (reference §1.1, J-XSD), in YAML's key
 * vocabulary: `<queue-entries>` is the top-level mapping, each `<queue>` an item of the `queue`
 * list, `<bucket-size>` the key `bucket_size`, and `<acl>`'s `<user-email>` / `<writer-email>`
 * children the items of `acl`. Element text is trimmed (values may sit on their own lines).
 *
 * Elements are checked against the known keys here, because only the XML spelling tells an
 * unknown element (`<bucket_size>`) from a known one. Attributes (`xmlns:xsi`, …) are ignored.
 * The first well-formedness error stops the reading.
 */
import { SaxesParser } from 'saxes';
import type { IssueCollector } from './issues.js';
import type { Path } from './paths.js';
import { offsetToPosition, type PositionIndex, type SourcePosition } from './positions.js';
import { knownKeysAt, unknownKeyMessage } from './schema.js';
import { plainMap, yamlKey, type PlainMap } from './source.js';

const ROOT_ELEMENT = 'queue-entries';

/** What an element holds: a mapping of known children, the `acl` list, one text value, or nothing we read. */
type FrameKind = 'mapping' | 'acl' | 'leaf' | 'skip';

interface Frame {
  kind: FrameKind;
  name: string;
  path: Path;
  /** The mapping this element's children go into (mapping, acl item) or the list (acl). */
  target: PlainMap | unknown[] | null;
  /** Keys already set in `target`, with the line of the first. */
  seen: Map<string, number>;
  tag: SourcePosition;
  text: string;
  textStart: SourcePosition | null;
  hasChildElements: boolean;
  reportedText: boolean;
  /** Called when the element closes, to store its value. */
  done: (value: unknown, valuePosition: SourcePosition) => void;
}

/** The file's data, or undefined when it is not well-formed or not a `<queue-entries>` document. */
export function readXml(source: string, positions: PositionIndex, issues: IssueCollector): unknown {
  const positionOf = offsetToPosition(source);
  const parser = new SaxesParser({ position: true });
  const root = plainMap();
  const stack: Frame[] = [];
  let failed = false;
  let sawRoot = false;
  let cursor = 0; // where the raw text after the last markup begins

  const fail = (message: string, position: SourcePosition, code: 'xml-syntax' | 'xml-root-element' = 'xml-syntax') => {
    if (failed) return;
    failed = true;
    issues.reportAt(code, [], position, message);
  };

  parser.on('error', (error) => {
    // saxes notices a problem on reading the character that causes it: report that character.
    const message = error.message.replace(/^.*?\d+:\d+: /, '').replace(/\.$/, '');
    fail(message === 'undefined entity' ? undefinedEntity(source, parser.position) : message, { line: parser.line, column: Math.max(1, parser.columnIndex) });
  });

  parser.on('text', (text) => {
    const rawStart = cursor;
    cursor = Math.max(cursor, parser.position - 1);
    const frame = stack[stack.length - 1];
    if (failed || frame === undefined || frame.kind === 'skip') return;
    const raw = source.slice(rawStart, parser.position);
    const firstVisible = raw.search(/\S/);
    if (frame.kind === 'leaf') {
      if (frame.textStart === null && firstVisible !== -1 && text.trim() !== '') frame.textStart = positionOf(rawStart + firstVisible);
      frame.text += text;
    } else if (text.trim() !== '' && !frame.reportedText) {
      frame.reportedText = true;
      const at = firstVisible === -1 ? frame.tag : positionOf(rawStart + firstVisible);
      issues.reportAt('wrong-type', frame.path, at, `unexpected text \`${text.trim().slice(0, 40)}\` inside <${frame.name}>: it holds elements, not text`);
    }
  });

  parser.on('cdata', (text) => {
    const frame = stack[stack.length - 1];
    if (!failed && frame?.kind === 'leaf') {
      if (frame.textStart === null && text.trim() !== '') frame.textStart = positionOf(source.lastIndexOf('<![CDATA[', parser.position));
      frame.text += text;
    }
    cursor = parser.position;
  });

  parser.on('opentag', (tag) => {
    const tagStart = source.lastIndexOf('<', parser.position - 1);
    cursor = parser.position;
    if (failed) return;
    const position = positionOf(tagStart);
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      if (sawRoot) return; // a second root is a well-formedness error saxes reports
      sawRoot = true;
      if (tag.name !== ROOT_ELEMENT) {
        fail(`the root element must be <${ROOT_ELEMENT}>, found <${tag.name}>`, position, 'xml-root-element');
        return;
      }
      positions.set([], position);
      stack.push(frame('mapping', tag.name, [], root, position, () => {}));
      return;
    }
    stack.push(openChild(parent, tag.name, position));
  });

  parser.on('closetag', () => {
    cursor = parser.position;
    const closing = stack.pop();
    if (failed || closing === undefined) return;
    if (closing.kind === 'leaf') {
      const text = closing.text.trim();
      const value = closing.hasChildElements ? plainMap() : text === '' ? null : text;
      closing.done(value, closing.textStart ?? closing.tag);
    }
  });

  parser.on('comment', () => { cursor = parser.position; });
  parser.on('processinginstruction', () => { cursor = parser.position; });
  parser.on('doctype', () => { cursor = parser.position; });

  function frame(kind: FrameKind, name: string, path: Path, target: Frame['target'], tag: SourcePosition, done: Frame['done']): Frame {
    return { kind, name, path, target, seen: new Map(), tag, text: '', textStart: null, hasChildElements: false, reportedText: false, done };
  }

  function skip(name: string, path: Path, tag: SourcePosition): Frame {
    return frame('skip', name, path, null, tag, () => {});
  }

  /** The frame for element `name` opening inside `parent`, after checking that it belongs there. */
  function openChild(parent: Frame, name: string, tag: SourcePosition): Frame {
    if (parent.kind === 'skip') return skip(name, parent.path, tag);
    if (parent.kind === 'leaf') {
      // A value element with elements inside: the shape check reports it as the wrong kind.
      parent.hasChildElements = true;
      parent.textStart ??= tag;
      return skip(name, parent.path, tag);
    }
    const key = yamlKey(name);
    const mappingPath = parent.kind === 'acl' ? [...parent.path, 0] : parent.path;
    if (name.includes('_') || !knownKeysAt(mappingPath, 'xml').includes(key)) {
      issues.reportAt('unknown-key', [...mappingPath, name], tag, unknownKeyMessage(name, mappingPath, 'xml'));
      return skip(name, parent.path, tag);
    }

    if (parent.kind === 'acl') {
      // Each <user-email> / <writer-email> is one acl entry holding that single key.
      const list = parent.target as unknown[];
      const itemPath = [...parent.path, list.length];
      const item = plainMap();
      list.push(item);
      positions.set(itemPath, tag);
      return leaf(name, [...itemPath, key], tag, item, key);
    }

    const map = parent.target as PlainMap;
    if (key === 'queue') {
      // <queue> repeats directly under the root; together they are the `queue` list.
      const list = (map['queue'] ??= []) as unknown[];
      if (list.length === 0) positions.set(['queue'], tag, tag);
      const itemPath = [...parent.path, 'queue', list.length];
      const item = plainMap();
      list.push(item);
      positions.set(itemPath, tag);
      return frame('mapping', name, itemPath, item, tag, () => {});
    }

    const path = [...parent.path, key];
    const firstLine = parent.seen.get(key);
    if (firstLine !== undefined) {
      issues.reportAt('duplicate-key', path, tag, `<${name}> is already set on line ${firstLine}; App Engine would keep only one of them`);
      return skip(name, path, tag);
    }
    parent.seen.set(key, tag.line);
    if (key === 'retry_parameters') {
      const inner = plainMap();
      map[key] = inner;
      positions.set(path, tag, tag);
      return frame('mapping', name, path, inner, tag, () => {});
    }
    if (key === 'acl') {
      const list: unknown[] = [];
      map[key] = list;
      positions.set(path, tag, tag);
      return frame('acl', name, path, list, tag, () => {});
    }
    return leaf(name, path, tag, map, key);
  }

  function leaf(name: string, path: Path, tag: SourcePosition, into: PlainMap, key: string): Frame {
    positions.set(path, tag, tag);
    return frame('leaf', name, path, null, tag, (value, valuePosition) => {
      into[key] = value;
      positions.set(path, valuePosition, tag);
    });
  }

  parser.write(source).close();
  return failed ? undefined : root;
}

/**
 * saxes's "undefined entity", with the entity's name (the `&name;` that ends before `end`) and why
 * it is unknown: entities a DOCTYPE declares are not read (docs/config.md), so as not to expand
 * what a file defines (external files, "billion laughs").
 */
function undefinedEntity(source: string, end: number): string {
  const amp = source.lastIndexOf('&', end - 1);
  const ref = amp < 0 ? '' : source.slice(amp, end);
  const name = /^&[^\s&;<>]{1,64};$/.test(ref) ? ` ${ref}` : '';
  return `undefined entity${name}: pushq reads no DOCTYPE, so only XML's own (&amp; &lt; &gt; &quot; &apos;) and character references (&#38;) are known`;
}
