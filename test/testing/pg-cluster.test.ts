/**
 * The throwaway PostgreSQL of the tests (src/testing/pg-cluster.ts) when its server cannot start:
 * startPgCluster rejects with the server's own reason (its log's last lines), and leaves nothing
 * behind, neither a running server nor its directory. It used to throw execFileSync's bare
 * "Command failed: ... pg_ctl ... start" and leave the cluster's directory (a whole data
 * directory, ~40 MB) in the temporary folder, one more at each failed start.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPgCluster } from '../helpers/pg-cluster.js';

const saved = { TMPDIR: process.env['TMPDIR'], template: process.env['PUSHQ_TEST_PG_TEMPLATE'], url: process.env['PUSHQ_TEST_PG_URL'] };
let scratch: string | undefined;

afterEach(() => {
  for (const [key, value] of [['TMPDIR', saved.TMPDIR], ['PUSHQ_TEST_PG_TEMPLATE', saved.template], ['PUSHQ_TEST_PG_URL', saved.url]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('startPgCluster, when the server does not start', () => {
  it('rejects with the reason from the server log and removes the cluster directory', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'pushq-pg-start-'));
    chmodSync(scratch, 0o755); // the server's user (postgres, when the tests run as root) goes through it
    // A "template" that is no data directory: it has PG_VERSION, so it is copied, and the server refuses it.
    const template = join(scratch, 'template');
    mkdirSync(template, { mode: 0o755 });
    writeFileSync(join(template, 'PG_VERSION'), '15\n', { mode: 0o644 });
    const tmp = join(scratch, 'tmp');
    mkdirSync(tmp, { mode: 0o755 });
    process.env['TMPDIR'] = tmp; // os.tmpdir(): where the cluster's directory is made
    process.env['PUSHQ_TEST_PG_TEMPLATE'] = template;
    delete process.env['PUSHQ_TEST_PG_URL'];

    const err = await startPgCluster().then(
      () => new Error('it started'),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^the test PostgreSQL did not start \(pg_ctl .*\): server log:\n[\s\S]*postgresql\.conf/);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);

  it('removes the cluster directory when the template cannot be copied either', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'pushq-pg-start-'));
    chmodSync(scratch, 0o755);
    const template = join(scratch, 'template');
    mkdirSync(template, { mode: 0o755 });
    writeFileSync(join(template, 'PG_VERSION'), '15\n', { mode: 0o644 });
    writeFileSync(join(template, 'unreadable'), 'x', { mode: 0o000 }); // cp -a, run as the server's user, cannot read it
    const tmp = join(scratch, 'tmp');
    mkdirSync(tmp, { mode: 0o755 });
    process.env['TMPDIR'] = tmp;
    process.env['PUSHQ_TEST_PG_TEMPLATE'] = template;
    delete process.env['PUSHQ_TEST_PG_URL'];
    const err = await startPgCluster().then(
      () => new Error('it started'),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^Command failed: .*cp -a /);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);
});
