import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledWorkerScript, workerScript } from '../../src/log/worker-script.js';

/** A package root with the given files (paths relative to it), each written with mtime `at` (s). */
function tree(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'pushq-worker-script-'));
  for (const [path, at] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '');
    utimesSync(file, at, at);
  }
  return root;
}
const from = (root: string, path: string): string => pathToFileURL(join(root, path)).href;
const at = (root: string, path: string): string => pathToFileURL(join(root, path)).href;

describe('bundledWorkerScript: the one-file worker, never older than the modules it was made from', () => {
  it('takes the bundle when it is as new as the compiled script', () => {
    const root = tree({ 'dist/experiments/pool.js': 100, 'dist/experiments/seed-worker.js': 100, 'dist/bundle/seed-worker.js': 100 });
    expect(bundledWorkerScript(from(root, 'dist/experiments/pool.js'), 'experiments', 'seed-worker.js').href).toBe(at(root, 'dist/bundle/seed-worker.js'));
  });

  it('takes the compiled script when the bundle is older (a build by tsc alone)', () => {
    const root = tree({ 'dist/experiments/pool.js': 200, 'dist/experiments/seed-worker.js': 200, 'dist/bundle/seed-worker.js': 100 });
    expect(bundledWorkerScript(from(root, 'dist/experiments/pool.js'), 'experiments', 'seed-worker.js').href).toBe(at(root, 'dist/experiments/seed-worker.js'));
  });

  it('takes the compiled script when there is no bundle', () => {
    const root = tree({ 'dist/experiments/pool.js': 100, 'dist/experiments/seed-worker.js': 100 });
    expect(bundledWorkerScript(from(root, 'dist/experiments/pool.js'), 'experiments', 'seed-worker.js').href).toBe(at(root, 'dist/experiments/seed-worker.js'));
  });

  it("from the sources (the tests), takes dist's bundle", () => {
    const root = tree({ 'src/experiments/pool.ts': 100, 'dist/experiments/seed-worker.js': 100, 'dist/bundle/seed-worker.js': 150 });
    expect(bundledWorkerScript(from(root, 'src/experiments/pool.ts'), 'experiments', 'seed-worker.js').href).toBe(at(root, 'dist/bundle/seed-worker.js'));
  });

  it("from the CLI's bundle, takes the bundle beside it", () => {
    const root = tree({ 'dist/bundle/simulate.js': 100, 'dist/bundle/seed-worker.js': 100, 'dist/experiments/seed-worker.js': 100 });
    expect(bundledWorkerScript(from(root, 'dist/bundle/simulate.js'), 'experiments', 'seed-worker.js').href).toBe(at(root, 'dist/bundle/seed-worker.js'));
  });

  it('throws, naming the script, when no copy exists', () => {
    const root = tree({ 'src/experiments/pool.ts': 100 });
    expect(() => bundledWorkerScript(from(root, 'src/experiments/pool.ts'), 'experiments', 'seed-worker.js')).toThrow(/a worker thread's script is missing: .*seed-worker\.js/);
    expect(() => workerScript(from(root, 'src/experiments/pool.ts'), 'experiments', 'seed-worker.js')).toThrow(/npm run build/);
  });

  it('in this build, the experiments pool runs the bundle (the tests build it first)', () => {
    const pool = new URL('../../src/experiments/pool.ts', import.meta.url).href;
    expect(bundledWorkerScript(pool, 'experiments', 'seed-worker.js').pathname).toMatch(/\/dist\/bundle\/seed-worker\.js$/);
  });
});
