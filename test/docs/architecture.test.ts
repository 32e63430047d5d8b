import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecycleTable } from '../../src/core/lifecycle-doc.js';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

describe('docs/architecture.md', () => {
  it('embeds the lifecycle table generated from the task machine', () => {
    const embedded = /<!-- lifecycle:begin -->\n([\s\S]*?)\n<!-- lifecycle:end -->/.exec(doc)?.[1];
    expect(embedded, 'run `node scripts/update-docs.mjs` after changing the machine').toBe(lifecycleTable());
  });

  it('names every folder of the repository a newcomer meets (src/ folder by folder: test/architecture)', () => {
    // The folders git holds (not what a build, an install or a test run leaves), less dot folders (CI).
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const folders = [...new Set(files.filter((f) => f.includes('/') && !f.startsWith('.')).map((f) => f.slice(0, f.indexOf('/'))))];
    expect(folders).toContain('src');
    expect(folders.filter((name) => !doc.includes(`\`${name}/`))).toEqual([]);
  });

  it('every file and folder of the repository it names exists', () => {
    const named = [...doc.matchAll(/\b((?:src|spec|test|scripts|bench|bin|dashboard|examples|docs)\/[A-Za-z0-9_./-]*[A-Za-z0-9_/])/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    expect([...new Set(named)].filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
