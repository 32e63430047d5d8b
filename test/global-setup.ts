/**
 * Builds src → dist (and the CLI's bundle) once per test run, so tests can run the real CLI (`node bin/pushq.js`).
 *
 * The build does not type-check (tsc --noCheck: the same dist/, .d.ts files included, emitted
 * without the check: 6.8-8.6 s against 10.2-13.2 s on a loaded 2-core machine); CI type-checks
 * separately (`npx tsc --noEmit`, .ci/run). Errors tsc still reports (syntax) are printed and do
 * not stop the run; a build that emitted nothing does stop it.
 *
 * While tsc runs, initdb makes the PostgreSQL data directory every test's throwaway server starts
 * from a copy of (PUSHQ_TEST_PG_TEMPLATE, src/testing/pg-cluster.ts), instead of an initdb each.
 * Without PostgreSQL installed there is no template, and the tests that need it say so themselves.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makePgTemplate } from '../src/testing/pg-cluster.js';

const ROOT = join(import.meta.dirname, '..');
const CLI_ENTRY = join(ROOT, 'dist', 'bundle', 'main.js');

export default async function setup(): Promise<() => void> {
  const started = Date.now();
  // Google's auth library (the official Cloud Tasks client the tests drive) probes the cloud
  // metadata server, off this machine, before a client's first call unless told there is none.
  // Set here, before any worker starts, it is every test process's (workers inherit this
  // environment), so no test file sets it for itself and for the files after it in a shared process.
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  const tsc = promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json', '--noCheck'], { cwd: ROOT });
  let template: { dataDir: string; remove(): void } | null = null;
  if (!process.env['PUSHQ_TEST_PG_URL'] && !process.env['PUSHQ_TEST_PG_TEMPLATE']) {
    try {
      template = makePgTemplate();
      process.env['PUSHQ_TEST_PG_TEMPLATE'] = template.dataDir;
    } catch {
      // No PostgreSQL here: each test that needs one fails saying how to install it.
    }
  }
  try {
    await tsc;
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    process.stderr.write(`test/global-setup: tsc reported errors (tests run on what it emitted):\n${output}\n`);
  }
  // bin/pushq.js runs the bundle (scripts/bundle-cli.mjs says why).
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs')], { cwd: ROOT });
  let built: number;
  try {
    built = statSync(CLI_ENTRY).mtimeMs;
  } catch {
    throw new Error(`test/global-setup: the build did not produce ${CLI_ENTRY}`);
  }
  if (built < started - 1000) throw new Error(`test/global-setup: ${CLI_ENTRY} was not rebuilt`);
  return () => template?.remove();
}
