/**
 * README.md's library example is code users copy: run it, as written, against the built package
 * (it imports 'pushq', which resolves to this package's own dist/ through package.json exports).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
// The example must live inside the package for the self-reference `import 'pushq'` to resolve.
const dir = mkdtempSync(join(ROOT, 'test', 'docs', '.readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README.md', () => {
  it('the library example runs and prints the mail queue statistics', async () => {
    const block = /## Use it as a library\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a "Use it as a library" ts block').toBeDefined();
    const file = join(dir, 'example.mjs');
    // The example is plain JavaScript apart from its fence; print the stats as JSON to check them.
    writeFileSync(file, block!.replace('console.log(sim.stats().queues.mail);', 'console.log(JSON.stringify(sim.stats().queues.mail));'));
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir });
    const stats = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(stats.tasks_added).toBe(1000);
    expect(stats.succeeded).toBe(1000);
    expect(stats.in_flight_max).toBeLessThanOrEqual(10);
  });

  it('names only commands and files that exist', () => {
    for (const [, path] of readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+)\)/g)) {
      expect(() => readFileSync(join(ROOT, path!)), path).not.toThrow();
    }
    for (const [, path] of readme.matchAll(/pushq (?:simulate|validate) (examples\/\S+\.yaml)/g)) {
      expect(() => readFileSync(join(ROOT, path!)), path).not.toThrow();
    }
  });
});
