/**
 * Reading the docs in the doc tests (test/docs/): a doc's text, a section of it, a fenced block in
 * it, the repository paths it names, and the source facts (a union's members) it must list. One
 * copy of each, so every doc test reads the docs the same way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

/** docs/`name` (README.md for 'README.md'), as a user reads it. */
export function docText(name: string): string {
  return readFileSync(name === 'README.md' ? join(ROOT, name) : join(ROOT, 'docs', name), 'utf8');
}

/** The part of `doc` under the heading line `heading` (e.g. `## Errors`), up to the next heading of level 2 or 3. */
export function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const rest = doc.slice(start + heading.length + 2);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The first fenced block of `lang` (`''` for a bare fence) after `marker` in `text`. */
export function blockAfter(text: string, marker: string, lang: string): string {
  const at = text.indexOf(marker);
  expect(at, marker).toBeGreaterThanOrEqual(0);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  expect(m, `${lang} block after ${marker}`).not.toBeNull();
  return m![1]!;
}

/** The string literals of an `export type X = | 'a' | 'b'` union in a source file (its doc comments left out). */
export function unionMembers(file: string, typeName: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const body = new RegExp(`export type ${typeName} =([\\s\\S]*?);`).exec(src)?.[1];
  expect(body, `${typeName} in ${file}`).toBeDefined();
  return [...body!.replace(/\/\*\*[\s\S]*?\*\//g, '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

/** The names in backquotes that open the markdown table rows in `text`: `| \`a\` |` and `| \`a\`, \`b\` |`, in order. */
export function tableKeys(text: string): string[] {
  return [...text.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!));
}

/**
 * The files of this repository a doc names that are not there: paths under src/, test/, spec/,
 * bench/, scripts/, .ci/ and examples/ (not another repository's, e.g. `api/src/main/...`, nor a
 * pattern with `*` or `{`), and bare test file names (`cluster-basic.test.ts`), which must name a
 * file somewhere under test/.
 */
export function missingPaths(doc: string): string[] {
  const paths = [...doc.matchAll(/(?<![\w./-])(?:src|test|spec|bench|scripts|\.ci|examples)\/[\w./*{},-]*/g)]
    .map((m) => m[0].replace(/[.,]+$/, ''))
    .filter((p) => !/[*{]/.test(p));
  const testNames = [...doc.matchAll(/(?<![\w./-])([\w-]+\.test\.ts)\b/g)].map((m) => m[1]!);
  const testFiles = new Set(filesUnder(join(ROOT, 'test')));
  return [...new Set([...paths.filter((p) => !existsSync(join(ROOT, p))), ...testNames.filter((n) => !testFiles.has(n))])];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [e.name]));
}
