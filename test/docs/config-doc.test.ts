/**
 * docs/config.md stays true for a user of the package: its code example runs as written against
 * `pushq` (the package's own entry point, not a path inside the repository), every export its
 * Library API table names is exported there, and the reference it cites ships in the package.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8');
// Inside the package, so that `import ... from 'pushq'` resolves to it (package.json exports).
const dir = mkdtempSync(join(ROOT, 'test', 'docs', '.config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/config.md', () => {
  it('the code example imports from pushq and runs: a valid queue.yaml loads, an invalid one prints its issues and throws CONFIG_INVALID', async () => {
    const block = /or from code:\s+```ts\n([\s\S]*?)```/.exec(DOC)?.[1];
    expect(block).toContain("from 'pushq'");
    const file = join(dir, 'example.mjs');
    writeFileSync(file, `${block!}console.log(JSON.stringify(config.queues.map((q) => q.name)));\n`);
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: mail\n  rate: 5/s\n');
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(['default', 'mail']);

    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: mail\n  rate: 5/s\n  bucket_size: 1000\n');
    const bad = await promisify(execFile)(process.execPath, [file], { cwd: dir }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^queue\.yaml:4:16 error bucket_size 1000 is above/);
    expect(bad.stderr).toMatch(/CONFIG_INVALID/);
  });

  it('every export the Library API table names is exported by pushq', async () => {
    const entry = (await import('../../src/index.js')) as Record<string, unknown>;
    const section = DOC.slice(DOC.indexOf('\n## Library API'));
    const names = [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...(m[1] as string).matchAll(/`([A-Za-z_]+)/g)].map((n) => n[1] as string));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(entry[name], name).toBeDefined();
  });

  it("pushq validate --json's example is an answer the command can give: its keys, and valid, errors and config agreeing", async () => {
    const block = /one object per line, in the order given:\s+```json\n([\s\S]*?)```/.exec(DOC)?.[1];
    expect(block).toBeDefined();
    const shown = JSON.parse(block!) as { valid: boolean; errors: object[]; warnings: object[]; config: object | null };
    // A file is valid exactly when it has no error, and only a valid file has a config (the doc says so above the example).
    expect([shown.valid, shown.config !== null]).toEqual([shown.errors.length === 0, shown.errors.length === 0]);
    // The same issue in a real file: the answer has the example's keys, and the issue's.
    const issue = [...shown.errors, ...shown.warnings][0] as { code: string };
    const yaml = issue.code === 'bucket-size-max' ? '  bucket_size: 1000\n' : '  max_concurrent_requests: 10000\n';
    writeFileSync(join(dir, 'queue.yaml'), `queue:\n- name: mail\n  rate: 5/s\n${yaml}`);
    const real = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'pushq.js'), 'validate', '--json', 'queue.yaml'], { cwd: dir }).then(
      (r) => r.stdout,
      (e: { stdout: string }) => e.stdout,
    );
    const answer = JSON.parse(real) as { valid: boolean; errors: object[]; warnings: object[] };
    expect(Object.keys(answer)).toEqual(Object.keys(shown));
    expect(Object.keys([...answer.errors, ...answer.warnings][0]!)).toEqual(Object.keys(issue));
    expect(answer.valid).toBe(shown.valid);
  });

  it('cites the reference that ships in the package (docs/), not a path outside it', () => {
    expect(DOC).toContain('[reference.md](reference.md) §1');
    expect(DOC).not.toMatch(/shared\/reference/);
    expect(readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8')).toMatch(/^## 1\. queue\.yaml \/ queue\.xml reference/m);
  });
});
