/**
 * Where each key and value of a parsed file sits in its text, so that every issue can name a
 * 1-based line and column. The XML reader records each position as it reads; the YAML reader hands
 * over its document, asked on demand. The validator only asks questions by key path.
 */
import { LineCounter } from 'yaml';
import type { Path } from './paths.js';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors using JavaScript strings count). */
  column: number;
}

export const START_OF_FILE: SourcePosition = Object.freeze({ line: 1, column: 1 });

/** Where the key (null for the root and list items) and the value at a path start. */
export interface Located {
  key: SourcePosition | null;
  value: SourcePosition;
}

/** The longest prefix of a path the file has (its `length` segments), and where it is. */
export interface Deepest {
  located: Located;
  length: number;
}

/**
 * A reader that keeps its parsed document and answers positions from it when asked (YAML),
 * instead of recording one entry for each of a file's values: a 5 MB file has ~300,000 values
 * and asks for a handful (one per queue name, one per issue).
 */
export interface PositionSource {
  deepest(path: Path): Deepest | null;
}

/** One key path's place in the index: where it is (once recorded), and the paths one segment longer. */
interface Entry {
  located: Located | null;
  children: Map<string | number, Entry> | null;
}

export class PositionIndex {
  /**
   * A tree by path segment, not a map by formatted path: a 7 MB queue.xml records ~500,000
   * positions, and formatting each path and hashing it into one large map took half of its read.
   */
  readonly #root: Entry = { located: null, children: null };
  #source: PositionSource | null = null;

  /** Records where the value at `path` starts and, for a mapping entry, where its key starts. */
  set(path: Path, value: SourcePosition, key: SourcePosition | null = null): void {
    let entry = this.#root;
    for (const segment of path) {
      entry.children ??= new Map();
      let child = entry.children.get(segment);
      if (child === undefined) {
        child = { located: null, children: null };
        entry.children.set(segment, child);
      }
      entry = child;
    }
    entry.located = { key, value };
  }

  /** Answers every question from `source` (one reader's, for the whole file) rather than from recorded entries. */
  useSource(source: PositionSource): void {
    this.#source = source;
  }

  /**
   * The position of the key (`at: 'key'`) or value at `path`. A path that is not in the file (a
   * missing directive, say) resolves to its nearest recorded ancestor, then to the start of the file.
   */
  locate(path: Path, at: 'key' | 'value'): SourcePosition {
    const found = this.#source === null ? this.#recorded(path) : this.#source.deepest(path);
    if (found === null) return START_OF_FILE;
    // An ancestor stands in for a missing path with the start of its entry: its key when it has one.
    const wantKey = at === 'key' || found.length < path.length;
    return (wantKey ? found.located.key : null) ?? found.located.value;
  }

  /** The longest recorded prefix of `path`. */
  #recorded(path: Path): Deepest | null {
    let entry = this.#root;
    let found: Deepest | null = entry.located === null ? null : { located: entry.located, length: 0 };
    for (let i = 0; i < path.length; i++) {
      const child = entry.children?.get(path[i] as string | number);
      if (child === undefined) break;
      entry = child;
      if (entry.located !== null) found = { located: entry.located, length: i + 1 };
    }
    return found;
  }
}

/** Turns string offsets into line/column for one text. Lines end at `\n` (a CRLF's `\r` stays on its line). */
export function offsetToPosition(text: string): (offset: number) => SourcePosition {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) counter.addNewLine(i + 1);
  return (offset) => {
    const { line, col } = counter.linePos(offset);
    return { line, column: col };
  };
}
