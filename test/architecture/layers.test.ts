/**
 * The house's rules (src/layers.ts), checked against every import in src/: a folder imports only
 * the folders and packages its rule names (types included); core does no IO (no node: modules);
 * nothing imports cli; no two folders import each other; no file in src/ is too long to read in
 * one sitting. And docs/architecture.md shows the rules as they are.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS, layersTable } from '../../src/layers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');
const LINES_MAX = 450;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic, types included). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1] as string);
  for (const m of code.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push(m[1] as string);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string);
  return out;
}

interface Edge {
  file: string;
  from: string;
  to: string;
  kind: 'folder' | 'package' | 'builtin';
}

function folderOf(path: string): string {
  const rel = relative(SRC, path).split('/');
  return rel.length === 1 ? '.' : (rel[0] as string);
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of filesUnder(SRC)) {
    const from = folderOf(file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = join(file, '..', spec);
        const to = folderOf(target);
        if (to !== from) out.push({ file: relative(ROOT, file), from, to, kind: 'folder' });
      } else if (spec.startsWith('node:')) {
        out.push({ file: relative(ROOT, file), from, to: spec, kind: 'builtin' });
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        out.push({ file: relative(ROOT, file), from, to: pkg, kind: 'package' });
      }
    }
  }
  return out;
}

describe('the layering of src/', () => {
  const all = edges();

  it('finds the imports it checks (the scanner itself works)', () => {
    expect(all.some((e) => e.from === 'engine' && e.to === 'core')).toBe(true);
    expect(all.some((e) => e.from === 'core' && e.to === 'xstate')).toBe(true);
    expect(specifiers("import type { A } from '../x/a.js';\nexport { b } from './b.js';\nconst c = await import('../c/c.js');")).toEqual(['../x/a.js', './b.js', '../c/c.js']);
  });

  it('every folder of src/ has a rule', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it('a folder imports only the folders and packages its rule names; core does no IO', () => {
    const broken = all.filter((e) => {
      if (e.from === '.') return e.kind === 'folder' && e.to === 'cli';
      const rule = LAYERS[e.from];
      if (rule === undefined) return true;
      if (e.kind === 'builtin') return e.from === 'core';
      if (e.kind === 'package') return !rule.packages.includes(e.to);
      return e.to === '.' ? e.from === 'core' : !rule.folders.includes(e.to);
    });
    expect(broken.map((e) => `${e.file}: ${e.from} → ${e.to}`)).toEqual([]);
  });

  it('nothing imports cli, and no two folders import each other', () => {
    const pairs = new Set(all.filter((e) => e.kind === 'folder').map((e) => `${e.from}→${e.to}`));
    const intoCli = all.filter((e) => e.kind === 'folder' && e.to === 'cli');
    const mutual = [...pairs].filter((p) => {
      const [a, b] = p.split('→');
      return a !== '.' && b !== '.' && a! < b! && pairs.has(`${b}→${a}`);
    });
    expect(intoCli.map((e) => e.file)).toEqual([]);
    expect(mutual).toEqual([]);
  });

  it(`no file in src/ is longer than ${LINES_MAX} lines`, () => {
    const long = filesUnder(SRC)
      .map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > LINES_MAX);
    expect(long).toEqual([]);
  });

  it('docs/architecture.md shows the rules as they are', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const embedded = /<!-- layers:begin -->\n([\s\S]*?)\n<!-- layers:end -->/.exec(doc)?.[1];
    expect(embedded, 'run `npm run build && node scripts/update-docs.mjs` after changing src/layers.ts').toBe(layersTable());
  });
});
