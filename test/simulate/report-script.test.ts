/**
 * The report's browser script is JavaScript in a string (src/simulate/report/client-script.ts).
 * Here it is checked as code: written to a file and type-checked by tsc with `// @ts-check`
 * against the DOM's types and uPlot's own (the package's uPlot.d.ts, the global of its browser
 * build), so a misspelt option or DOM call fails here, not only in a browser.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_SCRIPT } from '../../src/simulate/report/client-script.js';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function typeCheck(script: string): Promise<{ ok: boolean; output: string }> {
  dir ??= await mkdtemp(join(tmpdir(), 'pushq-report-script-'));
  const sub = await mkdtemp(join(dir, 'c-'));
  await writeFile(join(sub, 'report.js'), script);
  const uplotTypes = createRequire(import.meta.url).resolve('uplot/dist/uPlot.d.ts');
  const config = {
    compilerOptions: {
      target: 'ES2022', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], allowJs: true, checkJs: true, noEmit: true,
      strict: true, noUncheckedIndexedAccess: true, noUnusedLocals: true, skipLibCheck: true,
    },
    files: [join(sub, 'report.js'), uplotTypes],
  };
  await writeFile(join(sub, 'tsconfig.json'), JSON.stringify(config));
  try {
    await promisify(execFile)('npx', ['tsc', '-p', join(sub, 'tsconfig.json')], { cwd: ROOT });
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

describe('the report script', () => {
  it('type-checks against the DOM and uPlot', async () => {
    const result = await typeCheck(CLIENT_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('the check can fail: a wrong uPlot option is reported', async () => {
    const broken = CLIENT_SCRIPT.replace("cursor: { sync: { key: 'time' } }", "cursor: { sync: { key: 'time' } }, notAnOption: true");
    expect(broken).not.toBe(CLIENT_SCRIPT);
    const result = await typeCheck(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('notAnOption');
  });

  it('can be inlined: no end of a script element in it', () => {
    expect(CLIENT_SCRIPT).not.toMatch(/<\/script/i);
    expect(CLIENT_SCRIPT).not.toContain('<!--');
    expect(CLIENT_SCRIPT.startsWith('// @ts-check\n')).toBe(true);
  });
});
