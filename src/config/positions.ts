/**
 * Where each key and value of a parsed file sits in its text, so that every issue can name a
 * 1-based line and column. Both readers (YAML and XML) fill one index per file; the validator only
 * asks it questions by key path.
 */
import { LineCounter } from 'yaml';
import { formatPath, type Path } from './paths.js';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors using JavaScript strings count). */
  column: number;
}

export const START_OF_FILE: SourcePosition = Object.freeze({ line: 1, column: 1 });

interface Located {
  key: SourcePosition | null;
  value: SourcePosition;
}

export class PositionIndex {
  readonly #entries = new Map<string, Located>();

  /** Records where the value at `path` starts and, for a mapping entry, where its key starts. */
  set(path: Path, value: SourcePosition, key: SourcePosition | null = null): void {
    this.#entries.set(formatPath(path), { key, value });
  }

  /**
   * The position of the key (`at: 'key'`) or value at `path`. A path that is not in the file (a
   * missing directive, say) resolves to its nearest recorded ancestor, then to the start of the file.
   */
  locate(path: Path, at: 'key' | 'value'): SourcePosition {
    for (let length = path.length; length >= 0; length--) {
      const found = this.#entries.get(formatPath(path.slice(0, length)));
      if (found === undefined) continue;
      // An ancestor stands in for a missing path with the start of its entry: its key when it has one.
      const wantKey = at === 'key' || length < path.length;
      return (wantKey ? found.key : null) ?? found.value;
    }
    return START_OF_FILE;
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
