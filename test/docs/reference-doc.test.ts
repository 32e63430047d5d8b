/**
 * docs/reference.md is the contract the rest cites: its checklist items (S1, S2, ...) and its
 * sections (reference §3.2) are named across the docs, the source and the tests, and every fact in
 * it cites a source key. So: the checklist is numbered S1..Sn once each; every Sk named anywhere is
 * one of them; every "reference §x.y" the docs name is a section of it; every source key a fact
 * cites is defined in its §0.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { docText } from '../helpers/doc-text.js';

const doc = docText('reference.md');
const checklist = [...doc.slice(doc.indexOf('## Spec checklist')).matchAll(/^- S(\d+)\b/gm)].map((m) => Number(m[1]));

/** The text files under `dir` (docs and code: what cites the reference). */
function texts(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const [p, t] of texts(path)) out.set(p, t);
    else if (/\.(md|ts|mjs|js|go)$/.test(e.name)) out.set(path, readFileSync(join(ROOT, path), 'utf8'));
  }
  return out;
}

describe('docs/reference.md', () => {
  it('its checklist is numbered S1..Sn, each once', () => {
    expect(checklist.length).toBeGreaterThanOrEqual(39);
    expect(checklist).toEqual(checklist.map((_, i) => i + 1));
  });

  it('every checklist item named in the docs, the source, the tests and the specs is one of its items', () => {
    const citing = new Map([['README.md', docText('README.md')], ...texts('docs'), ...texts('src'), ...texts('test'), ...texts('spec')]);
    const unknown: string[] = [];
    for (const [path, text] of citing) for (const m of text.matchAll(/\bS(\d+)\b/g)) if (!checklist.includes(Number(m[1]))) unknown.push(`${path}: S${m[1]}`);
    expect(unknown).toEqual([]);
  });

  it('every section the other docs cite ("reference §x.y", "reference.md) §x") is one of its headings', () => {
    const headings = new Set([...doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\. |^#{2,3} (\d+\.\d+) /gm)].map((m) => m[1] ?? m[2]));
    const cited = [...texts('docs'), ['README.md', docText('README.md')] as const].flatMap(([path, text]) =>
      [...text.matchAll(/reference(?:\.md\))? §(\d+(?:\.\d+)?)/g)].map((m) => [path, m[1]!] as const),
    );
    expect(cited.length).toBeGreaterThan(5);
    expect(cited.filter(([, s]) => !headings.has(s))).toEqual([]);
  });

  it('every source key a fact cites is defined in §0', () => {
    const keys = doc.slice(doc.indexOf('## 0.'), doc.indexOf('## 1.'));
    const defined = new Set([...keys.matchAll(/\[([A-Z][A-Z0-9-]+)\]/g)].map((m) => m[1]));
    // Code spans (regexes, identifiers) are not citations: `[BKMGT]`, `['default']`.
    const body = doc.slice(doc.indexOf('## 1.')).replace(/`[^`\n]*`/g, '');
    const cited = [...body.matchAll(/(?<=\[|; )([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)(?=[\];\s])/g)].map((m) => m[1]!).filter((k) => k.length > 1);
    expect(cited.length).toBeGreaterThan(100);
    expect([...new Set(cited.filter((k) => !defined.has(k)))]).toEqual([]);
  });
});
