/**
 * docs/config.md lists every issue code, and only real ones; every declared code is emitted
 * somewhere in the source, and every code literal the source reports is declared.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ISSUE_CODES } from '../../src/config/issues.js';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8');

function sources(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(join(ROOT, dir))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({ file: `${dir}/${name}`, text: readFileSync(join(ROOT, dir, name), 'utf8') }));
}
const source = [...sources('src/config'), ...sources('src/cli')];

/** Rows of the "Issue codes" table: code → severity. */
function documentedCodes(): Map<string, string> {
  const section = doc.split(/^### Issue codes$/m)[1]?.split(/^#{1,3} /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([a-z0-9-]+)` \| (error|warning) \|/gm)) rows.set(match[1]!, match[2]!);
  return rows;
}

describe('docs/config.md issue code table', () => {
  it('documents exactly the codes in ISSUE_CODES, with their severity', () => {
    const documented = documentedCodes();
    expect([...documented.keys()].sort()).toEqual(Object.keys(ISSUE_CODES).sort());
    for (const [code, { severity }] of Object.entries(ISSUE_CODES)) expect(documented.get(code), code).toBe(severity);
  });

  it('every kebab-case literal the source passes as an argument is a declared, documented code', () => {
    const NOT_CODES = new Set(['utf-8']);
    const passed = new Set<string>();
    for (const { text } of source) {
      // An object key (a CLI flag's name in its command's table: `'no-sync': {...}`) is not an argument.
      for (const match of text.matchAll(/[(,]\s*'([a-z][a-z0-9]*(?:-[a-z0-9]+)+)'(?!\s*:)/g)) if (!NOT_CODES.has(match[1]!)) passed.add(match[1]!);
    }
    expect(passed.size).toBeGreaterThan(25); // the pattern still finds the issue reports
    const documented = documentedCodes();
    expect([...passed].filter((code) => !Object.hasOwn(ISSUE_CODES, code) || !documented.has(code))).toEqual([]);
  });

  it('every declared code is emitted somewhere outside the table that declares it', () => {
    const emitted = (code: string) => source.some(({ file, text }) => file !== 'src/config/issues.ts' && text.includes(`'${code}'`));
    expect(Object.keys(ISSUE_CODES).filter((code) => !emitted(code))).toEqual([]);
  });
});
